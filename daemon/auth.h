/* auth.h -- API and admin key checks (constant time) and the admin lockout.
 *
 * auth_reload() parses API_KEY (comma list), ADMIN_KEY and TRUSTED_PROXIES
 * from cfg; call at start and on SIGHUP.  The admin key is, in order:
 *   - ADMIN_KEY when set;
 *   - the API key when exactly one API_KEY is configured (a warning says
 *     that ADMIN_KEY is recommended);
 *   - otherwise (no API key, or several: client keys never open the admin
 *     API) a generated key whose SHA-256 is kept in the store's settings
 *     ("admin_key_sha256"); the key is printed once, when it is generated.
 * Every comparison walks all configured keys in constant time per key.
 * auth_reload() returns 0, or -1 when out of memory: then nothing changed
 * (the previous keys, admin hash and proxies stay in force; at start-up
 * that is "no keys"), so a caller must treat -1 at start-up as fatal.
 *
 * Lockout (one critical section per check, so parallel requests cannot get
 * extra guesses): a client address with 5 bad admin keys within 10 minutes
 * is refused for 15 minutes (the 5th bad key locks).  Addresses are IPv4
 * addresses or IPv6 /64 prefixes.  Locked entries are never evicted before
 * they expire.  Independently, all sources together get at most
 * AUTH_GLOBAL_FAILS bad keys per 10 minutes (and a full table counts as
 * spent); past that, only addresses that authenticated successfully in the
 * last 24 hours are still checked, everyone else is refused until the window
 * ends.  Thread-safe.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_LOCK_FAILS 5
#define AUTH_GLOBAL_FAILS 100

struct store;
struct sockaddr;

int auth_reload(struct store *st);
bool auth_api_required(void);
/* true when token is a valid API key; key_id gets a short stable id of
 * the key (for conversation keys and logs), never the key itself. */
bool auth_check_api(const char *token, char key_id[24]);
/* 0 ok, -1 bad key (counted), or >0 = locked out, seconds remaining.
 * addr is the lockout key: use auth_client_addr(). */
int auth_check_admin(const char *token, const char *addr);
/* The lockout key of a client: the peer address (IPv4 dotted, IPv4-mapped
 * IPv6 as IPv4, other IPv6 as its "<prefix>::/64"), or, when the peer is in
 * TRUSTED_PROXIES and xff (X-Forwarded-For, may be NULL) is set, the
 * right-most X-Forwarded-For address that is not itself a trusted proxy.
 * peer may be NULL (gives "").  out gets at most 63 chars + NUL. */
void auth_client_addr(const struct sockaddr *peer, const char *xff, char out[64]);
/* Generate a new admin key, store its hash (replacing the old one) and print
 * it once on stdout.  Used by `gemgated --new-admin-key`.  0 or -1. */
int auth_new_admin_key(struct store *st);
/* Start-up hardening: no core dumps (prctl PR_SET_DUMPABLE 0 and
 * RLIMIT_CORE 0) unless GEMGATE_ALLOW_CORE=1 (debugging).  A .env (env_path,
 * may be NULL) readable by group or other is warned about, naming whether it
 * holds secret settings; never refused, since many setups write it with the
 * default umask.  Returns 0 (kept as int for a future refusal). */
int auth_harden_process(const char *env_path);
void auth_free(void);

#endif
