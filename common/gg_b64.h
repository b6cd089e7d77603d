/* gg_b64.h -- base64 (RFC 4648 §4) and base64url (§5) codecs.
 *
 * Encoders write into a caller buffer sized with gg_b64_enc_len(); they
 * NUL-terminate and return the length.  Decoders are table-driven (4
 * characters per step), accept input with or without '=' padding (when
 * present it must complete a multiple of 4, at most two), reject any other
 * character including whitespace, write at most gg_b64_dec_len() bytes and
 * return the decoded length, or -1 on malformed input.  Thread-safe.
 */
#ifndef GG_B64_H
#define GG_B64_H

#include <stddef.h>
#include <sys/types.h>

size_t gg_b64_enc_len(size_t n);                  /* including the NUL */
size_t gg_b64_dec_len(size_t n);                  /* upper bound */
size_t gg_b64_encode(const void *in, size_t n, char *out);          /* standard, padded */
size_t gg_b64url_encode(const void *in, size_t n, char *out);       /* url-safe, no padding */
ssize_t gg_b64_decode(const char *in, size_t n, unsigned char *out);    /* standard alphabet */
ssize_t gg_b64url_decode(const char *in, size_t n, unsigned char *out); /* url-safe alphabet */

#endif
