/* gg_util.h -- small helpers: constant-time compare, secret masking, random
 * ids, hashing.  All are thread-safe. */
#ifndef GG_UTIL_H
#define GG_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Constant-time equality of two byte strings (time depends only on the
 * lengths, never on where they differ). */
bool gg_ct_equal(const void *a, size_t an, const void *b, size_t bn);
/* Mask a secret for display: at most the first 4 characters (fewer for short
 * values), then "…", then "[<len>]".  out must hold 32 bytes.  NULL or empty
 * gives "". */
void gg_mask(const char *secret, char *out, size_t n);
/* Mask the credentials of a URL for display: the userinfo of
 * "http://user:pass@host:port/x" becomes "***" (host, port and path stay);
 * a URL without userinfo is copied.  NULL gives "".  Never shows any byte
 * of the userinfo. */
void gg_mask_url(const char *url, char *out, size_t n);
/* Fill out with n random bytes from the OS (getrandom); returns 0 or -1. */
int gg_random(void *out, size_t n);
/* Random lowercase hex string of 2*nbytes chars into out (size 2*nbytes+1). */
void gg_random_hex(char *out, size_t nbytes);
/* SHA-256 of data as 64 lowercase hex chars + NUL into out[65]. */
void gg_sha256_hex(const void *data, size_t n, char out[65]);
/* Trim ASCII whitespace in place; returns s. */
char *gg_trim(char *s);
/* strdup that returns NULL for NULL. */
char *gg_strdup0(const char *s);
/* Parse a decimal integer within [min,max]; returns 0 or -1. */
int gg_parse_int(const char *s, long long min, long long max, long long *out);
/* Valid UTF-8 check. */
bool gg_utf8_valid(const char *s, size_t n);
/* Make s valid UTF-8 in place: every byte that does not start a complete,
 * valid sequence becomes '?', and an incomplete sequence at the end (a cut
 * made by a size-capped printf) is dropped.  Returns s. */
char *gg_utf8_sanitize(char *s);
/* Name the calling thread (shown by top -H, ps -L, gdb; at most 15 bytes
 * are kept) and, when background is true, lower its CPU priority (nice +10,
 * this thread only) so that request-path threads win the cores it shares
 * with them.  Best effort: failures are ignored. */
void gg_thread_role(const char *name, bool background);
/* Put the calling thread in the idle scheduling class (SCHED_IDLE: it runs
 * only on CPU time no other thread wants, and never preempts one) or back
 * to the normal one at nice +10.  Leaving the idle class needs CAP_SYS_NICE
 * or an RLIMIT_NICE of at least 10 (systemd: LimitNICE=+10).  Returns false
 * when the kernel refuses (errno set); the class is then unchanged. */
bool gg_thread_idle(bool idle);
/* Length of the longest prefix of s[0..n) that does not end inside a
 * multi-byte UTF-8 sequence (the rest must wait for more bytes). */
size_t gg_utf8_complete_prefix(const char *s, size_t n);

#endif
