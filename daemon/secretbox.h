/* secretbox.h -- authenticated encryption of small secrets at rest.
 *
 * AES-256-GCM (OpenSSL EVP).  The key is SHA-256 of the configured secret
 * string; its key id ("kid") is the first 8 hex characters of SHA-256 of the
 * derived key, so a kid never reveals the key.  Sealed text looks like
 *
 *     enc:v1:<kid>:<base64(12-byte nonce | ciphertext | 16-byte tag)>
 *
 * with the "enc:v1:<kid>" header bound as associated data.  Values without
 * the "enc:" prefix are plaintext and are returned as-is by secretbox_open,
 * so encryption can be switched on for an existing database.
 *
 * A box holds one current key (used to seal; may be absent) and any number
 * of old keys (used only to open, looked up by kid).  Boxes are immutable
 * after secretbox_new and safe to share between threads.
 */
#ifndef SECRETBOX_H
#define SECRETBOX_H

#include <stdbool.h>
#include <stddef.h>

#define SECRETBOX_PREFIX "enc:v1:"

struct secretbox;

/* key may be NULL/"" (no sealing); old_keys is a comma-separated list of
 * previous keys (blank items ignored), may be NULL.  Returns NULL with a
 * message in err on allocation failure only.  Free with secretbox_free. */
struct secretbox *secretbox_new(const char *key, const char *old_keys, char *err, size_t errlen);
void secretbox_free(struct secretbox *b);           /* NULL is fine; wipes keys */

bool secretbox_can_seal(const struct secretbox *b);  /* a current key is set */
const char *secretbox_kid(const struct secretbox *b);/* current kid or "" */

/* Seal plain into a malloc'd string at *out.  Without a current key *out is a
 * copy of plain.  NULL plain gives *out = NULL.  Returns 0, or -1 with a
 * message in err (never containing the secret). */
int secretbox_seal(const struct secretbox *b, const char *plain, char **out, char *err, size_t errlen);

/* Open stored (sealed or plaintext) into a malloc'd string at *out.  NULL
 * stored gives *out = NULL.  Returns 0, or -1 with a message in err when the
 * value is sealed and no key matches its kid, or it fails authentication, or
 * it is malformed.  Never returns garbage. */
int secretbox_open(const struct secretbox *b, const char *stored, char **out, char *err, size_t errlen);

/* True when stored is NULL or already sealed with the current key (nothing
 * for a rotation to do). */
bool secretbox_is_current(const struct secretbox *b, const char *stored);

#endif
