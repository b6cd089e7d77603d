/*
 * util.h - small helpers shared by the fake upstream: clocks, randomness,
 * logging, percent-decoding, UTF-8 and base64.
 *
 * Nothing here allocates except where the comment says so; nothing can
 * fail except where a return code is documented.
 */
#ifndef FU_UTIL_H
#define FU_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "dbuf.h"

/* Milliseconds on CLOCK_MONOTONIC (timers) / since the Unix epoch. */
uint64_t now_mono_ms(void);
uint64_t now_wall_ms(void);
/* The fake's own wall clock: now_wall_ms() plus an offset moved by
 * POST /__fake/clock.  Everything the protocol compares with "now" (JWT
 * nbf/exp/iat, signing-key expiry, getoxsrf expirationTime) uses it. */
uint64_t fake_now_ms(void);
int64_t fake_clock_offset_ms(void);
void fake_clock_set_offset_ms(int64_t off);

/* Fills buf with n cryptographically random bytes (getrandom). */
void rand_bytes(void *buf, size_t n);
/* Fast non-crypto 64-bit random number (xorshift, seeded at start). */
uint64_t rand_u64(void);
/* Writes n random lowercase hex digits plus a NUL (out needs n+1). */
void rand_hex(char *out, size_t n);
/* Writes a random decimal number of 19 or 20 digits, no leading zero,
 * plus NUL (out needs 21). */
void rand_digits(char *out);

/* Formats `ms` since the epoch as RFC3339 "2025-01-02T03:04:05.678Z"
 * (out needs 32 bytes). */
void fmt_rfc3339(char *out, size_t outlen, uint64_t ms);
/* Formats the IMF-fixdate used in the Date header (out needs 40). */
void fmt_http_date(char *out, size_t outlen);

/* Logging.  log_quiet suppresses the per-request lines (log_req); fatal
 * and warning lines (log_msg) always go to stderr. */
extern int log_quiet;
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_req(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Decodes %xx escapes (and '+' to space when plus_space) from s[0..n)
 * into out (a fresh dbuf the caller frees).  Invalid escapes are copied
 * literally.  Returns 0 or -1 on cap overflow. */
int pct_decode(struct dbuf *out, const char *s, size_t n, int plus_space);

/* Looks up query parameter `name` in a raw query string (no leading '?')
 * and returns its percent-decoded value as a malloc'ed string, or NULL
 * when absent. */
char *query_param(const char *query, const char *name);

/* Returns the largest length <= n such that s[0..len) does not end in the
 * middle of a UTF-8 sequence (assumes s is otherwise well-formed). */
size_t utf8_cut(const char *s, size_t n);
/* Returns the smallest offset >= off that is not a UTF-8 continuation
 * byte (or n). */
size_t utf8_next_boundary(const char *s, size_t n, size_t off);

/* Standard base64 (with padding).  b64_encode appends to out.
 * b64_decode_strict accepts only canonical padded standard base64 (no
 * whitespace, length multiple of 4, '=' only at the end); returns 0 and
 * appends the bytes, or -1 (out may hold partial output). */
int b64_encode(struct dbuf *out, const void *p, size_t n);
int b64_decode_strict(struct dbuf *out, const char *s, size_t n);
/* base64url without padding.  Decode rejects '=' and invalid characters
 * and impossible lengths (n % 4 == 1). */
int b64url_encode(struct dbuf *out, const void *p, size_t n);
int b64url_decode(struct dbuf *out, const char *s, size_t n);

/* Lowercase hex of n bytes into out (needs 2n+1). */
void hex_encode(char *out, const unsigned char *p, size_t n);

/* Case-insensitive compare helpers. */
int ieq(const char *a, const char *b);
int ieqn(const char *a, const char *b, size_t n);

#endif
