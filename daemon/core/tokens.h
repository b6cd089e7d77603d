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

#endif
