/* admin_keys.h -- the client keys part of the admin API (contract:
 * docs/ADMIN_API.md, "Client keys"): /api/admin/keys[/{id}[/usage]], and
 * the `tags` field of accounts.  Called by admin.c after the admin key was
 * checked; runs on MHD worker threads and may call the store (admin
 * traffic).  A key's secret appears only in the 201 reply of its creation;
 * it is never logged.
 */
#ifndef ADMIN_KEYS_H
#define ADMIN_KEYS_H

#include <microhttpd.h>

#include "acct_tags.h"

struct http_req;
struct cJSON;

/* path is the part after "/api/admin" ("/keys", "/keys/3", "/keys/3/usage"). */
enum MHD_Result admin_keys_handle(struct http_req *r, const char *path);
/* The `tags` field of an account body: 0 absent, 1 present (out holds the
 * normalised list), -1 invalid (fields["tags"] set). */
int admin_keys_tags_field(const struct cJSON *body, char out[ACCT_TAGS_MAX], struct cJSON *fields);

#endif
