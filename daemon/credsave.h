/* credsave.h -- persisting cookies that getoxsrf's refreshcookies hop
 * renewed (issue 18), off the request path.
 *
 * credsave_start() registers the pool's cookie callback and starts one
 * worker thread that writes each renewal to the store: a stored account's
 * row gets the new cookies (the store encrypts them at rest when SECRET_KEY
 * is set); the environment account's renewal goes to the key-value entry
 * "env_cookies", sealed with SECRET_KEY when set, and is applied again at
 * the next start as long as the environment still holds the cookie the
 * renewal started from (a changed SECURE_C_SES wins).  The newest renewal
 * per account wins; at most CREDSAVE_MAX are queued (older ones dropped
 * with a warning).  credsave_stop() writes what is queued and joins.
 * Both are called by sessions_init / sessions_shutdown (which own the
 * store handle on the daemon side).  credsave_start returns 0 or -1.
 */
#ifndef CREDSAVE_H
#define CREDSAVE_H

struct store;

int credsave_start(struct store *st);
void credsave_stop(void);

#endif
