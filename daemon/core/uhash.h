/* uhash.h -- a fast keyed hash of long texts, for the conversation key.
 *
 * Two polynomial evaluations over GF(2^61 - 1), each with its own fixed
 * key k: the text is cut into 7-byte little-endian words (each < 2^56, so
 * distinct texts give distinct word strings), the last word zero-padded,
 * and one more word holds the length in bytes; h = 0, then h = h*k + w for
 * every word.  Two texts of at most L words collide under one key for at
 * most L+1 of the 2^61 - 1 possible keys: a chance of about 2^-44 for two
 * different 1 MB answers, 2^-88 for both evaluations together.  The keys are
 * public constants: the result only ever goes into the SHA-256 of a
 * conversation key (core/flatten.c) next to the client's key id, so a
 * crafted collision can only join two of the crafting client's own
 * conversations.  About 2.5x the speed of SHA-256 with SHA-NI.
 *
 * Streaming use: uhash_init, then uhash_blocks over the text in order (it
 * consumes only whole 28-byte blocks and returns how many bytes it took:
 * pass the rest again with what follows), then uhash_final with the bytes
 * not yet consumed.  uhash() is the one-call form.  Plain data owned by the
 * caller; nothing allocated; thread-safe per state.
 */
#ifndef EXCH_UHASH_H
#define EXCH_UHASH_H

#include <stddef.h>
#include <stdint.h>

#define UHASH_BLOCK 28          /* 4 words of 7 bytes */
#define UHASH_LEN 16            /* result bytes: both values, little-endian */

struct uhash {
    uint64_t h[2];              /* running values, reduced */
    uint64_t k[2][4];           /* k, k^2, k^3, k^4 of each key */
    uint64_t len;               /* bytes consumed */
};

void uhash_init(struct uhash *u);
size_t uhash_blocks(struct uhash *u, const void *p, size_t n);
void uhash_final(struct uhash *u, const void *p, size_t n, unsigned char out[UHASH_LEN]);
void uhash(const void *p, size_t n, unsigned char out[UHASH_LEN]);

#endif
