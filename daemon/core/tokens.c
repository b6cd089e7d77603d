/* tokens.c -- see tokens.h
 *
 * One pass, no <ctype.h> (the C locale's isalnum / isspace were a call per
 * byte): ASCII is classified 8 bytes at a time (SWAR range tests on a
 * 64-bit word), and only the ends of alphanumeric runs are visited (one
 * iteration per non-alphanumeric byte).  Non-ASCII bytes go the per-character
 * way.  The result is exactly the per-byte definition kept as the reference
 * in tests/unit/test_relay.c.
 */
#include "tokens.h"

#include <string.h>

static int is_cjk(unsigned cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF) ||
           (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFFEF);
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* High bit of each byte of w (all bytes < 0x80) set where the byte >= k
 * (k <= 0x80): no byte sum carries into its neighbour. */
static inline uint64_t ge(uint64_t w, unsigned k)
{
    return (w + ONES * (0x80u - k)) & HIGHS;
}

static inline uint64_t in_range(uint64_t w, unsigned lo, unsigned hi)
{
    return ge(w, lo) & ~ge(w, hi + 1);
}

static inline unsigned ctz64(uint64_t v)
{
    return (unsigned)__builtin_ctzll(v);
}

static inline unsigned popcount64(uint64_t v)
{
    return (unsigned)__builtin_popcountll(v);
}

static inline int ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static inline int ascii_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

int64_t exch_estimate_tokens(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    int64_t tokens = 0, alnum_run = 0, punct = 0, other = 0;
    size_t i = 0;
    while (i < n) {
        /* ASCII words: 8 bytes at a time */
        uint64_t run = (uint64_t)alnum_run, tok = 0, pun = 0;
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & HIGHS)
                break;
            uint64_t alnum = in_range(w, '0', '9') | in_range(w | ONES * 0x20, 'a', 'z');
            uint64_t space = in_range(w, '\t', '\r') | in_range(w, ' ', ' ');
            uint64_t ends = ~alnum & HIGHS;        /* bytes that end a run */
            pun += popcount64(ends & ~space);
            /* little-endian load: byte j of the text is bits 8j..8j+7 */
            uint64_t start = 0;
            while (ends) {
                uint64_t j = ctz64(ends) >> 3;
                tok += (run + j - start + 3) >> 2;
                run = 0;
                start = j + 1;
                ends &= ends - 1;
            }
            run += 8 - start;
            i += 8;
        }
        alnum_run = (int64_t)run;
        tokens += (int64_t)tok;
        punct += (int64_t)pun;
        if (i >= n)
            break;
        unsigned char c = s[i];
        if (c < 0x80) {
            if (ascii_alnum(c)) {
                alnum_run++;
            } else {
                tokens += (alnum_run + 3) / 4;
                alnum_run = 0;
                if (!ascii_space(c))
                    punct++;
            }
            i++;
            continue;
        }
        tokens += (alnum_run + 3) / 4;
        alnum_run = 0;
        unsigned cp = 0;
        size_t k = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        cp = k == 2 ? c & 0x1F : k == 3 ? c & 0x0F : k == 4 ? c & 0x07 : c;
        for (size_t j = 1; j < k && i + j < n; j++)
            cp = cp << 6 | (s[i + j] & 0x3F);
        if (is_cjk(cp))
            tokens++;
        else
            other++;
        i += k;
    }
    tokens += (alnum_run + 3) / 4 + (punct + 1) / 2 + (other + 1) / 2;
    if (tokens == 0 && n > 0)
        tokens = 1;
    return tokens;
}
