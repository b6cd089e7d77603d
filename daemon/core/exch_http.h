/* exch_http.h -- the HTTP side of an exchange, the same for every dialect:
 * method, API key and rate limit, parse (dialect->parse), model already
 * resolved by the parser, conversation lookup, a new struct call handed to
 * the upstream thread, then draining its output while the connection is
 * suspended: the 200 body, the stream (dialect->stream_ctype), or the error
 * envelope (dialect->error_body) with its status.  A new dialect is one
 * exch_dialect table and one route calling exch_http_handle().
 *
 * exch_http_handle() is called when the body is complete and again after
 * every resume (r->call is then set; `in` is ignored).  `in` is copied; its
 * key_id is filled here after authentication.  Returns what MHD expects:
 * MHD_YES after queueing or suspending, MHD_NO to drop the connection
 * (allocation failure).
 * exch_http_completed() runs from the request-completed callback: cancels an
 * unfinished exchange, logs the request line, records it (reqlog, metrics)
 * and drops the HTTP side's reference.
 * exch_http_auth() checks the API key (Bearer or x-api-key); on failure it
 * queues the dialect's 401 and returns 0.
 */
#ifndef EXCH_HTTP_H
#define EXCH_HTTP_H

#include <microhttpd.h>

#include "exch.h"

struct http_req;

enum MHD_Result exch_http_handle(struct http_req *r, const struct exch_dialect *d, const struct exch_parse_in *in);
void exch_http_completed(struct http_req *r, enum MHD_RequestTerminationCode toe);
int exch_http_auth(struct http_req *r, const struct exch_dialect *d, char key_id[24]);
/* GET / DELETE of a kept result (dialects with result_* hooks, e.g.
 * /v1/responses/{id}): the stored body, the dialect's "deleted" body, or its
 * 404; scoped to the caller's key. */
enum MHD_Result exch_http_result(struct http_req *r, const struct exch_dialect *d, const char *id);
/* The dialect's error envelope with e->status (Retry-After when set). */
enum MHD_Result exch_http_reply_error(struct http_req *r, const struct exch_dialect *d, const struct exch_error *e);

#endif
