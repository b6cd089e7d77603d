/* admin.h -- the admin REST API under /api/admin/ (contract:
 * docs/ADMIN_API.md) and /readyz.  admin_init() receives the store the
 * handlers use; handlers run on MHD worker threads and call the store
 * directly (admin traffic is rare; the chat path never waits on it).
 * admin_handle() is called when the body is complete and again after a
 * suspended /test call is resumed; admin_completed() releases per-request
 * state. */
#ifndef ADMIN_H
#define ADMIN_H

#include <microhttpd.h>

struct http_req;
struct store;
struct storeq;

void admin_init(struct store *st, struct storeq *q);
enum MHD_Result admin_handle(struct http_req *r);
void admin_completed(struct http_req *r, enum MHD_RequestTerminationCode toe);
enum MHD_Result admin_readyz(struct http_req *r);

#endif
