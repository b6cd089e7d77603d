/* auth.h -- API and admin key checks (constant time) and the admin lockout.
 *
 * auth_reload() parses API_KEY (comma list) and ADMIN_KEY from cfg; call at
 * start and on SIGHUP.  When ADMIN_KEY is unset it defaults to the first
 * API key; when both are unset a key is generated, its SHA-256 stored in the
 * store's settings, and the key printed once.  Every comparison walks all
 * configured keys in constant time per key.  Lockout: an IP with 5 bad
 * admin keys within 10 minutes is refused for 15 minutes.  Thread-safe.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct store;

int auth_reload(struct store *st);
bool auth_api_required(void);
/* true when token is a valid API key; key_id gets a short stable id of
 * the key (for conversation keys and logs), never the key itself. */
bool auth_check_api(const char *token, char key_id[24]);
/* 0 ok, -1 bad key (counted), or >0 = locked out, seconds remaining. */
int auth_check_admin(const char *token, const char *ip);
void auth_free(void);

#endif
