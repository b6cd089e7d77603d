/* exch_keys.h -- client keys (keys.h) on the generic HTTP exchange path
 * (exch_http.c), the same for every dialect: authentication, admission
 * (limits counted before any upstream work), the model allow-list and the
 * account group after parsing, and the usage count when the request ends.
 * Denials are described in a struct exch_error that the caller (exch_http.c)
 * replies with in the dialect's own envelope; this module queues no reply
 * (it depends on exch.h only, not on exch_http.h):
 * 401 unknown / disabled / expired key, 403 model not allowed, 429 rate
 * (Retry-After) or quota (message names it and its reset time), 503 when
 * no account carries the key's group.
 *
 * The admission ticket lives in r->state (r->state_free finishes it as an
 * error if nothing else did), so keys_finish runs exactly once per admitted
 * request: normally from exch_keys_finish() in exch_http_completed(), also
 * after parse errors and client aborts.  Root keys (API_KEY) and anonymous
 * access take none of this.
 *
 * Policy: when client keys exist and API_KEY is empty, requests without a
 * valid client key are refused (401); with no client keys and no API_KEY
 * the gateway stays open as before.
 */
#ifndef EXCH_KEYS_H
#define EXCH_KEYS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "exch.h"

struct http_req;
struct call;

/* Authenticate tok as a client key.  1: ok (key_id "c<id>"); 0: refused,
 * *e holds the 401; -1: not a client key, check root keys. */
int exch_keys_auth(const char *tok, char key_id[24], struct exch_error *e);
/* The same check for the HTTP layer's first callback (http_set_key_hook):
 * 1 a known, enabled, unexpired client key (key_id "c<id>"); 0 refused with
 * a message (401); -1 not a client key (root keys decide). */
int exch_keys_http_check(const char *tok, char key_id[24], const char **code, char *msg, size_t msgn);
/* Admission of a client key request (key_id from exch_keys_auth): 1
 * admitted (the ticket is in r->state; also 1 with nothing done for other
 * keys), 0 refused (*e holds the 429 / 503), -1 out of memory. */
int exch_keys_admit(struct http_req *r, const char *key_id, struct exch_error *e);
/* After parsing: the model allow-list (requested name or resolved id) and
 * the account group, which is copied into c->group.  false: refused, *e
 * holds the 403. */
bool exch_keys_check(struct http_req *r, struct call *c, struct exch_error *e);
/* The request ended: count it (no-op without a ticket). */
void exch_keys_finish(struct http_req *r, const char *model, int64_t tokens_in, int64_t tokens_out, bool error);

#endif
