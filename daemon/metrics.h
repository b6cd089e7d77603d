/* metrics.h -- Prometheus metrics (GET /metrics) and the per-API-key rate
 * limiter.  Counters are updated under one short mutex per event (not per
 * byte); rendering takes the same mutex.  Thread-safe. */
#ifndef METRICS_H
#define METRICS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

struct http_req;

void metrics_http_request(void);
/* model may be NULL (rejected before a model was known); ttft_ms < 0 = none;
 * error_kind NULL = success. */
void metrics_request_done(const char *model, int status, int64_t latency_ms, int64_t ttft_ms,
                          const char *error_kind);
void metrics_upstream_error(const char *kind);
void metrics_failover(void);
/* true when key_id exceeded RATE_LIMIT_RPM in the current minute. */
bool metrics_rate_limited(const char *key_id);
enum MHD_Result metrics_handle(struct http_req *r);

#endif
