/* results.h -- finished exchanges a client can read back or continue by id
 * (OpenAI Responses: GET/DELETE /v1/responses/{id}, previous_response_id).
 *
 * Entries are keyed by (key id, result id): one API key never sees another
 * key's results.  Each holds the result body as the dialect rendered it,
 * and the upstream session it ran on (account id + session name), so a
 * request continuing it goes to the same account and session and sends only
 * its new input.  Entries expire SESSION_TTL seconds after they were stored;
 * the table is bounded (RESULTS_MAX entries, RESULTS_MAX_BYTES of bodies),
 * the oldest going first.  Kept in memory: a restart forgets them (the
 * client then gets the dialect's "not found").
 *
 * Thread-safe (one mutex).  Returned strings are malloc'd copies owned by
 * the caller.  results_put returns 0 or -1 (no memory, or a body larger
 * than the whole budget); the others cannot fail beyond "not found" (-1).
 */
#ifndef RESULTS_H
#define RESULTS_H

#include <stddef.h>
#include <stdint.h>

#define RESULTS_MAX 10000
#define RESULTS_MAX_BYTES (64u << 20)

int results_put(const char *key_id, const char *id, const char *body, size_t len, int64_t account_id,
                const char *session, const char *model);
/* Body of a kept result: 0 with *body / *len (caller frees), or -1. */
int results_get(const char *key_id, const char *id, char **body, size_t *len);
/* Where a kept result ran: 0 with *account_id, *session and *model (caller
 * frees both; session may be NULL when the upstream session is unknown), or -1. */
int results_session(const char *key_id, const char *id, int64_t *account_id, char **session, char **model);
int results_delete(const char *key_id, const char *id);
size_t results_count(void);
void results_clear(void);

#endif
