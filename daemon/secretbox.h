/* secretbox.h -- authenticated encryption of small secrets at rest.
 *
 * AES-256-GCM (OpenSSL EVP).  Sealed text (format v2, written today) is
 *
 *     enc:v2:<kid>:<base64(12-byte nonce | ciphertext | 16-byte tag)>
 *
 * Key derivation from the configured secret string:
 *   - a high-entropy key (64+ hex digits, or base64/base64url of 32+ bytes
 *     with digits and both letter cases -- e.g. `openssl rand -base64 32`):
 *     HKDF-SHA256 over the decoded bytes;
 *   - anything else is a passphrase: PBKDF2-HMAC-SHA256 with
 *     SECRETBOX_PBKDF2_ITER iterations, then HKDF-SHA256.
 * The AES key and the 8-hex-digit kid are separate HKDF outputs, so the kid
 * reveals nothing about the key, and testing a passphrase guess against a
 * stored kid costs the full PBKDF2.  The associated data is the header
 * "enc:v2:<kid>" plus the caller's context (which record and which field,
 * e.g. "<csesidx>/<config_id>:secure_c_ses"): a ciphertext moved to another
 * record or field fails authentication.
 *
 * Format v1 ("enc:v1:<kid>:..." -- key = SHA-256 of the secret, kid from the
 * key, AAD = header only) is still opened, so existing databases keep
 * working; every write seals v2, and `gemgated --reencrypt` rewrites old
 * records.  Values without the "enc:" prefix are plaintext and are returned
 * as-is by secretbox_open, so encryption can be switched on for an existing
 * database.
 *
 * A box holds one current key (used to seal; may be absent) and any number
 * of old keys (used only to open, looked up by kid).  Boxes are immutable
 * after secretbox_new and safe to share between threads.
 */
#ifndef SECRETBOX_H
#define SECRETBOX_H

#include <stdbool.h>
#include <stddef.h>

#define SECRETBOX_PREFIX "enc:v2:"
#define SECRETBOX_PREFIX_V1 "enc:v1:"
#define SECRETBOX_PBKDF2_ITER 600000

struct secretbox;

/* key may be NULL/"" (no sealing); old_keys is a comma-separated list of
 * previous keys (blank items ignored), may be NULL.  Returns NULL with a
 * message in err on allocation failure only.  Free with secretbox_free.
 * A passphrase costs one PBKDF2 run here (a fraction of a second). */
struct secretbox *secretbox_new(const char *key, const char *old_keys, char *err, size_t errlen);
void secretbox_free(struct secretbox *b);           /* NULL is fine; wipes keys */

bool secretbox_can_seal(const struct secretbox *b);  /* a current key is set */
const char *secretbox_kid(const struct secretbox *b);/* current kid or "" */
/* true when key would be derived as a high-entropy key (HKDF only) */
bool secretbox_key_is_random(const char *key, size_t len);

/* Seal plain into a malloc'd string at *out, bound to ctx (which record and
 * field; NULL = "").  Without a current key *out is a copy of plain.  NULL
 * plain gives *out = NULL.  Returns 0, or -1 with a message in err (never
 * containing the secret). */
int secretbox_seal(const struct secretbox *b, const char *plain, const char *ctx,
                   char **out, char *err, size_t errlen);

/* Open stored (sealed or plaintext) into a malloc'd string at *out; ctx must
 * be the one it was sealed with (ignored for v1).  NULL stored gives *out =
 * NULL.  Returns 0, or -1 with a message in err when the value is sealed and
 * no key matches its kid, or it fails authentication (wrong key, record or
 * field), or it is malformed.  Never returns garbage. */
int secretbox_open(const struct secretbox *b, const char *stored, const char *ctx,
                   char **out, char *err, size_t errlen);

/* True when stored is NULL or already in the current form (v2 with the
 * current key; plaintext when no key is set): nothing for a rotation to do. */
bool secretbox_is_current(const struct secretbox *b, const char *stored);

#endif
