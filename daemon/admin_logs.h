/* admin_logs.h -- the reporting part of the admin API (contract:
 * docs/ADMIN_API.md): GET /api/admin/stats and GET /api/admin/logs, read
 * from the store after flushing the write queue (at most 2 s).  Called by
 * admin.c after the admin key was checked; runs on MHD worker threads.
 *
 * Query values are checked: a bad one gives 400 validation_failed in the
 * admin envelope with `fields` naming it (window; limit, account_id,
 * status, since, dialect).  A store failure gives 503 store_unavailable.  Replies
 * never carry secrets (account names and ids only).
 */
#ifndef ADMIN_LOGS_H
#define ADMIN_LOGS_H

#include <microhttpd.h>

struct http_req;
struct store;
struct storeq;
struct store_reqlog_filter;

enum MHD_Result admin_logs_stats(struct http_req *r, struct store *st, struct storeq *sq);
enum MHD_Result admin_logs_list(struct http_req *r, struct store *st, struct storeq *sq);

/* The /logs filter from its query values (NULL or empty = absent):
 *   limit       1..1000 (absent: 100); numbers are plain decimal digits
 *   account_id  0..2^63-1 (0 or absent: any account)
 *   status      a code 100..599, or "1xx".."5xx"
 *   since       RFC 3339 / "YYYY-MM-DD HH:MM:SS" (UTC)
 *   model       any string (empty: any)
 *   dialect     openai | anthropic | responses | gemini | images (empty: any);
 *               f->dialect then points at static text, never at the argument
 * Returns NULL and fills f, or the name of the first bad parameter with
 * *why saying what it must be (static text; f is then partly filled). */
const char *admin_logs_filter(const char *limit, const char *account_id, const char *status,
                              const char *since, const char *model, const char *dialect,
                              struct store_reqlog_filter *f, const char **why);

#endif
