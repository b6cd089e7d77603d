/* uhash.c -- the polynomial hash of uhash.h.  Four words per step:
 * h' = h*k^4 + w1*k^3 + w2*k^2 + w3*k + w4, summed unreduced in 128 bits
 * (each product < 2^122, so five fit) and reduced once. */
#include "uhash.h"

#include <string.h>

#define P61 ((1ull << 61) - 1)
#define W56 ((1ull << 56) - 1)

static const uint64_t uhash_keys[2] = {0x0928a497f02218adull, 0x15bf3be982763517ull};

static uint64_t fold(uint64_t s)         /* s < 2^64 -> s mod p */
{
    s = (s & P61) + (s >> 61);
    return s >= P61 ? s - P61 : s;
}

#if defined(__SIZEOF_INT128__) && !defined(UHASH_PORTABLE)
#define UHASH_INT128 1
typedef unsigned __int128 acc_t;
#define MUL(a, b) ((acc_t)(a) * (b))

static uint64_t reduce(acc_t x)          /* x < 2^125 */
{
    return fold(((uint64_t)x & P61) + (uint64_t)(x >> 61));
}
#else
/* no 128-bit integers: every product reduced on its own */
typedef uint64_t acc_t;

static uint64_t mulmod(uint64_t a, uint64_t b)
{
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    uint64_t lo = (ll & 0xffffffffu) | (mid << 32);
    uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    /* x = hi*2^64 + lo = (hi*8 + lo>>61)*2^61 + (lo & p); hi < 2^58 */
    return fold(fold(lo & P61) + fold((hi << 3) | (lo >> 61)));
}
#define MUL(a, b) mulmod((a), (b))

static uint64_t reduce(acc_t x)
{
    return fold(x);
}
#endif

static uint64_t mul_p(uint64_t a, uint64_t b)
{
    return reduce(MUL(a, b));
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static uint64_t word(const unsigned char *p)    /* 7 bytes at p, 8 readable */
{
    return load_le64(p) & W56;
}

static uint64_t word_hi(const unsigned char *p)  /* 7 bytes at p+1, p..p+8 readable */
{
    return load_le64(p) >> 8;
}

void uhash_init(struct uhash *u)
{
    for (int j = 0; j < 2; j++) {
        uint64_t k = uhash_keys[j];
        u->h[j] = 0;
        u->k[j][0] = k;
        for (int e = 1; e < 4; e++)
            u->k[j][e] = mul_p(u->k[j][e - 1], k);
    }
    u->len = 0;
}

size_t uhash_blocks(struct uhash *u, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t done = 0;
    uint64_t h0 = u->h[0], h1 = u->h[1];
    const uint64_t *a = u->k[0], *b = u->k[1];
    while (n - done >= UHASH_BLOCK) {
        const unsigned char *q = s + done;
        uint64_t w1 = word(q), w2 = word(q + 7), w3 = word(q + 14), w4 = word_hi(q + 20);
#ifdef UHASH_INT128
        /* the words' products first: only the last add waits for h */
        acc_t s0 = (MUL(w1, a[2]) + MUL(w2, a[1])) + (MUL(w3, a[0]) + w4);
        acc_t s1 = (MUL(w1, b[2]) + MUL(w2, b[1])) + (MUL(w3, b[0]) + w4);
        h0 = reduce(s0 + MUL(h0, a[3]));
        h1 = reduce(s1 + MUL(h1, b[3]));
#else
        h0 = fold(fold(fold(MUL(h0, a[3]) + MUL(w1, a[2])) + fold(MUL(w2, a[1]) + MUL(w3, a[0]))) + w4);
        h1 = fold(fold(fold(MUL(h1, b[3]) + MUL(w1, b[2])) + fold(MUL(w2, b[1]) + MUL(w3, b[0]))) + w4);
#endif
        done += UHASH_BLOCK;
    }
    u->h[0] = h0;
    u->h[1] = h1;
    u->len += done;
    return done;
}

static void step(struct uhash *u, uint64_t w)
{
    for (int j = 0; j < 2; j++)
        u->h[j] = fold(mul_p(u->h[j], u->k[j][0]) + w);
}

void uhash_final(struct uhash *u, const void *p, size_t n, unsigned char out[UHASH_LEN])
{
    const unsigned char *s = p;
    size_t took = uhash_blocks(u, s, n);
    s += took;
    n -= took;
    while (n > 0) {
        unsigned char w[8] = {0};
        size_t k = n < 7 ? n : 7;
        memcpy(w, s, k);
        step(u, word(w));
        s += k;
        n -= k;
        u->len += k;
    }
    step(u, u->len);
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 8; i++)
            out[8 * j + i] = (unsigned char)(u->h[j] >> (8 * i));
}

void uhash(const void *p, size_t n, unsigned char out[UHASH_LEN])
{
    struct uhash u;
    uhash_init(&u);
    uhash_final(&u, p, n, out);
}
