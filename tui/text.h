/* text.h -- terminal text helpers for gemctl-tui (pure: no ncurses).
 *
 * Column widths are display columns as reported by wcwidth(3) in the
 * current locale (setlocale must have been called).  Control characters,
 * invalid UTF-8 and non-printable characters (C0, ESC, DEL, C1 code points
 * U+0080-U+009F, anything wcwidth() rejects) are shown as '?' so that data
 * from the server can never move the cursor or garble the screen.
 *
 * Ownership: callers own every buffer; nothing is retained or allocated.
 * Failure: none; NULL strings count as "", output that does not fit is cut
 * at a character boundary and always NUL-terminated (outsz > 0).
 */
#ifndef TUI_TEXT_H
#define TUI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Display width of s (sanitised as described above). */
int tx_width(const char *s);

/* Write s into out fitted to at most `width` columns: when wider it is cut
 * and ends with "…" (or "~" when the locale cannot show "…"); with `pad`
 * it is padded with spaces to exactly `width` columns, on the left when
 * `right` is set.  out is always NUL-terminated; an out of at least
 * 4*width+8 bytes never truncates.  Returns the columns used. */
int tx_fit(const char *s, int width, bool pad, bool right, char *out, size_t outsz);

/* Copy s into out replacing control characters and invalid UTF-8 by '?'. */
void tx_sanitize(const char *s, char *out, size_t outsz);

/* Human durations: "5s", "4m", "2h05m", "3d04h". */
void tx_duration(int64_t seconds, char *out, size_t n);
/* "3m ago" / "just now" / "-" (then_ms <= 0). */
void tx_ago(int64_t then_ms, int64_t now_ms, char *out, size_t n);
/* "in 4m" / "now" / "-" (until_ms <= 0). */
void tx_until(int64_t until_ms, int64_t now_ms, char *out, size_t n);
/* Case-insensitive (ASCII) substring test; empty needle matches. */
bool tx_icontains(const char *hay, const char *needle);

/* Is the current locale UTF-8?  (cached after the first call) */
bool tx_utf8(void);
/* "\u2014" in UTF-8 locales, else "-". */
const char *tx_dash(void);

/* UTF-8 aware cursor moves in a byte string: offset of the previous /
 * next character boundary from pos. */
size_t tx_prev_char(const char *s, size_t pos);
size_t tx_next_char(const char *s, size_t len, size_t pos);

#endif
