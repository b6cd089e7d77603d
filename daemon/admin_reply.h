/* admin_reply.h -- the admin API's error envelope (docs/ADMIN_API.md,
 * "Errors"): {"error":{"code","message","fields"?}} with the common headers
 * and an optional Retry-After.  Shared by admin.c and admin_logs.c; a leaf
 * over http.c (replies go through http_queue).
 *
 * Every function queues the reply on r and returns what MHD should get:
 * MHD_NO only when the reply could not be built (out of memory).  `fields`
 * is always taken over (freed on every path).
 */
#ifndef ADMIN_REPLY_H
#define ADMIN_REPLY_H

#include <microhttpd.h>

struct http_req;
struct cJSON;

/* status with code and message; fields (may be NULL) becomes error.fields;
 * retry_after > 0 adds Retry-After (seconds). */
enum MHD_Result admin_reply_error(struct http_req *r, int status, const char *code, const char *msg,
                                  struct cJSON *fields, int retry_after);
/* 400 validation_failed: the message joins "field: problem" pairs of the
 * fields object (string values). */
enum MHD_Result admin_reply_fields(struct http_req *r, struct cJSON *fields);
/* 503 store_unavailable with the store's last error, Retry-After 5. */
enum MHD_Result admin_reply_store_down(struct http_req *r);

#endif
