/* keyfmt.h -- client keys (docs/ADMIN_API.md "Client keys") for the TUI's
 * Keys view and the CLI's --keys / --new-key: the table layout, the limits
 * summary, and building the limits object of a create / PATCH body from
 * "rpm=60 tpm=100000 ..." text or single options.  Pure: no curses, no I/O.
 *
 * Every server string goes through tx_fit (control characters become '?'),
 * so a formatted line is safe to print.  Ownership: callers own every
 * buffer and cJSON; nothing is retained.  Failure: the parse functions
 * return -1 with a one-line reason in why (the object may then hold the
 * fields parsed before the bad one) and -2 when memory runs out.
 */
#ifndef TUI_KEYFMT_H
#define TUI_KEYFMT_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

/* "enabled", "disabled" or "expired" (expires_at passed at now_ms). */
const char *kf_state(const cJSON *key, int64_t now_ms);
/* "rpm 60, tpm 100k, day 2M, month 30M, conc 4, group team-a, models a,b"
 * or "unlimited".  Sanitised. */
void kf_limits(const cJSON *limits, char *out, size_t n);
/* Column titles, then one row per key, exactly `cols` columns (>= 60). */
void kf_header(int cols, char *out, size_t n);
void kf_row(const cJSON *key, int64_t now_ms, int cols, char *out, size_t n);

/* Set one limit in `limits` from text: name is rpm, tpm, day (tokens_day),
 * month (tokens_month), concurrent (max_concurrent), models or group; the
 * API names are accepted too.  Numbers must be whole and >= 0. */
int kf_set_limit(cJSON *limits, const char *name, const char *value, char *why, size_t n);
/* Space-separated name=value pairs (the TUI's limits prompt), e.g.
 * "rpm=60 day=2000000 models=gemini-2.5-flash,gemini-3-* group=team-a".
 * An empty text sets nothing. */
int kf_parse_limits(const char *text, cJSON *limits, char *why, size_t n);
/* expires_at from text: "never" / "" / "0" -> null, all digits -> Unix ms,
 * anything else is sent as an RFC 3339 string (the daemon validates). */
int kf_set_expires(cJSON *body, const char *value);

#endif
