/* gg_admin_client_internal.h -- what the parts of the admin client share.
 * Private to gg_admin_*.c; the public API is gg_admin_client.h.
 *
 *   gg_admin_client.c  settings, error mapping, gg_admin_call() and the
 *                      blocking log-stream reader (layer 1)
 *   gg_admin_routes.c  one helper per admin route, URL encoding (layer 1)
 *   gg_admin_sse.c     the incremental SSE parser, no I/O (layer 2)
 *   gg_admin_async.c   worker threads, the reconnecting stream thread and
 *                      the result queue behind a pipe fd (layer 3)
 *
 * Ownership and failure contract are those of gg_admin_client.h: nothing
 * here allocates for the caller, nothing aborts.
 */
#ifndef GG_ADMIN_CLIENT_INTERNAL_H
#define GG_ADMIN_CLIENT_INTERNAL_H

#include "gg_admin_client.h"

#define SSE_LINE_MAX (1024 * 1024)   /* default line cap of an SSE parser */

/* Fill err (NULL is ignored) with kind, HTTP status and copies of code and
 * msg (NULL = ""), truncated to the struct's buffers.  Never fails. */
void gg_admin_err_set(struct gg_admin_error *err, enum gg_admin_kind kind, long status,
                      const char *code, const char *msg);

#endif
