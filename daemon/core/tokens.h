/* tokens.h -- the gateway's token estimate (the upstream reports none).
 *
 * Never 0 for non-empty text.  Latin runs count ~4 chars per token, CJK
 * characters 1 token each, other non-ASCII 1 per 2 chars, punctuation 1 per
 * 2.  Roughly sub-additive: the estimate of a concatenation is at most the
 * sum of the estimates of its pieces.  Pure, thread-safe.
 */
#ifndef EXCH_TOKENS_H
#define EXCH_TOKENS_H

#include <stddef.h>
#include <stdint.h>

int64_t exch_estimate_tokens(const char *s, size_t n);

/* The same estimate kept as text arrives in pieces: after init and feeds of
 * pieces p1..pk, total() is exactly exch_estimate_tokens(p1 + ... + pk),
 * wherever the cuts fall (inside a UTF-8 character too).  Plain data owned
 * by the caller; nothing to free. */
struct exch_tokcount {
    int64_t tokens, alnum_run, punct, other;
    size_t len;                 /* bytes fed */
    unsigned cp;                /* a character cut by the last piece... */
    unsigned char skip;         /* ...and its bytes still to come (0 = none) */
};

void exch_tokcount_init(struct exch_tokcount *t);
void exch_tokcount_feed(struct exch_tokcount *t, const char *s, size_t n);
int64_t exch_tokcount_total(const struct exch_tokcount *t);

#endif
