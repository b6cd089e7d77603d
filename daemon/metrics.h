/* metrics.h -- Prometheus metrics (GET /metrics) and the per-API-key rate
 * limiter.  Counters are updated under one short mutex per event (not per
 * byte); rendering takes the same mutex.  Values owned by other modules
 * (streams, connections, accounts, store drops) come from registered
 * functions, called while rendering without the mutex held; metrics.c
 * calls no other module.  Thread-safe. */
#ifndef METRICS_H
#define METRICS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

struct http_req;

/* model may be NULL (rejected before a model was known); ttft_ms < 0 = none;
 * error_kind NULL = success. */
void metrics_request_done(const char *dialect, const char *model, int status, int64_t latency_ms, int64_t ttft_ms,
                          const char *error_kind);
void metrics_upstream_error(const char *kind);
void metrics_failover(void);
/* true when key_id exceeded RATE_LIMIT_RPM in the current minute. */
bool metrics_rate_limited(const char *key_id);
enum MHD_Result metrics_handle(struct http_req *r);

/* Register a value rendered on every scrape: `name` (a metric name),
 * `labels` (e.g. `state="active"`, or NULL), `type` ("gauge" or "counter"),
 * `help` (once per name; the first registration's wins), fn(arg) the value.
 * Strings must be static.  Call at start-up, before serving; returns 0, or
 * -1 when the table (32 entries) is full. */
typedef double (*metrics_value_fn)(void *arg);
/* Register a renderer of whole metric families with their own HELP/TYPE
 * lines (per-account or per-key series); called on every scrape, appends to
 * b.  At most 8; returns 0 or -1. */
struct gg_buf;
int metrics_register_text(void (*fn)(struct gg_buf *b));
int metrics_register(const char *name, const char *labels, const char *type, const char *help,
                     metrics_value_fn fn, void *arg);

#endif
