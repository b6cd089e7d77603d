/* tokens.c -- see tokens.h
 *
 * One pass, no <ctype.h> (the C locale's isalnum / isspace were a call per
 * byte): ASCII is classified 16 bytes at a time with SSE2 (x86-64), else 8
 * at a time (range tests on a 64-bit word, visiting each end of an
 * alphanumeric run); non-ASCII bytes go the per-character way.  The result is exactly the per-byte definition kept as the reference
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

/* Number of bytes of m (only high bits set) that are set: one multiply
 * (no popcount instruction in the baseline x86-64 ISA). */
static inline uint64_t count_highs(uint64_t m)
{
    return ((m >> 7) * ONES) >> 56;
}

static inline int ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static inline int ascii_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The state of a count: the open alphanumeric run, tokens of closed runs,
 * punctuation.  Each helper below takes the ASCII bytes from s[i] on, as
 * far as it can, and returns where it stopped (a non-ASCII byte, or fewer
 * bytes left than one word). */

/* 8 bytes a word: the run ends (non-alphanumeric bytes) are visited one by
 * one. */
static size_t ascii_words8(const unsigned char *s, size_t i, size_t n, uint64_t *run_, uint64_t *tok_,
                           uint64_t *pun_)
{
    uint64_t run = *run_, tok = *tok_, pun = *pun_;
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        if (w & HIGHS)
            break;
        uint64_t alnum = in_range(w, '0', '9') | in_range(w | ONES * 0x20, 'a', 'z');
        uint64_t space = in_range(w, '\t', '\r') | in_range(w, ' ', ' ');
        uint64_t ends = ~alnum & HIGHS;        /* bytes that end a run */
        pun += count_highs(ends & ~space);
        /* byte j of the text is bits 8j..8j+7 */
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
    *run_ = run;
    *tok_ = tok;
    *pun_ = pun;
    return i;
}

#if defined(__SSE2__) && !defined(TOKENS_PORTABLE)
#include <emmintrin.h>

static inline uint64_t popcount64(uint64_t v)      /* SWAR: no popcnt in the baseline ISA */
{
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (v * ONES) >> 56;
}

/* x in [lo, hi] for 16 bytes all < 0x80: one add moves hi to 127 (the
 * bytes above it wrap negative), one signed compare checks the floor. */
static inline __m128i in16(__m128i v, char lo, char hi)
{
    return _mm_cmpgt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(127 - hi))), _mm_set1_epi8((char)(127 - hi + lo - 1)));
}

/* Byte classes of 16 bytes (all < 0x80): 0xFF lanes where alphanumeric,
 * where white space. */
static inline void classes_v(__m128i v, __m128i *alnum, __m128i *space)
{
    __m128i letter = in16(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
    *alnum = _mm_or_si128(letter, in16(v, '0', '9'));
    *space = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), in16(v, '\t', '\r'));
}

/* The same as 16-bit masks. */
static inline void classes16(__m128i v, uint64_t *alnum, uint64_t *space)
{
    __m128i a, w;
    classes_v(v, &a, &w);
    *alnum = (unsigned)_mm_movemask_epi8(a);
    *space = (unsigned)_mm_movemask_epi8(w);
}

/* 64 bytes a block as bit masks (bit j = byte j).  The run carried in and
 * the one it continues into close together; the run reaching the block's
 * end is carried out; every run in between counts its bytes at offsets
 * 0, 4, 8, ... from its start (= (len + 3) / 4), found by moving the run
 * starts 4 bytes at a time while the run goes on. */
static size_t ascii_words64(const unsigned char *s, size_t i, size_t n, uint64_t *run_, uint64_t *tok_,
                            uint64_t *pun_)
{
    uint64_t run = *run_, tok = *tok_, pun = *pun_;
    while (n - i >= 64) {
        __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
        __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 32));
        __m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 48));
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3))))
            break;                                      /* non-ASCII: the 16-byte loop finds it */
        uint64_t a0, a1, a2, a3, w0, w1, w2, w3;
        classes16(v0, &a0, &w0);
        classes16(v1, &a1, &w1);
        classes16(v2, &a2, &w2);
        classes16(v3, &a3, &w3);
        uint64_t A = a0 | a1 << 16 | a2 << 32 | a3 << 48;
        uint64_t W = w0 | w1 << 16 | w2 << 32 | w3 << 48;
        i += 64;
        pun += popcount64(~(A | W));
        if (A == ~0ull) {
            run += 64;
            continue;
        }
        unsigned lead = ctz64(~A);                      /* the carried run goes on for lead bytes */
        tok += (run + lead + 3) >> 2;
        unsigned end = 64 - (unsigned)__builtin_clzll(~A); /* after the last non-alphanumeric byte */
        uint64_t mid = A & ~((1ull << lead) - 1);
        if (end < 64)
            mid &= (1ull << end) - 1;
        run = 64 - end;
        uint64_t starts = mid & ~(mid << 1);
        uint64_t four = mid & (mid << 1) & (mid << 2) & (mid << 3);
        uint64_t marks = starts, cur = starts;
        while ((cur = (cur << 4) & four) != 0)
            marks |= cur;
        tok += popcount64(marks);
    }
    *run_ = run;
    *tok_ = tok;
    *pun_ = pun;
    return i;
}

/* 16 bytes a vector, no branch per run: the first run end of a vector
 * closes the run carried in; for every later end j the run before it is j
 * minus the previous end's index + 1, found for all lanes at once as a
 * prefix maximum of (index + 1) over the ends. */
static size_t ascii_words(const unsigned char *s, size_t i, size_t n, uint64_t *run_, uint64_t *tok_,
                          uint64_t *pun_)
{
    i = ascii_words64(s, i, n, run_, tok_, pun_);
    const __m128i zero = _mm_setzero_si128(), one = _mm_set1_epi8(1);
    const __m128i idx0 = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m128i idx1 = _mm_add_epi8(idx0, one);
    uint64_t run = *run_, tok = *tok_;
    __m128i tacc = zero, pacc = zero;
    while (n - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        if (_mm_movemask_epi8(v))
            break;
        __m128i alnum, space;
        classes_v(v, &alnum, &space);
        pacc = _mm_add_epi64(pacc, _mm_sad_epu8(_mm_andnot_si128(_mm_or_si128(alnum, space), one), zero));
        unsigned ends = ~(unsigned)_mm_movemask_epi8(alnum) & 0xFFFFu;
        i += 16;
        if (!ends) {
            run += 16;
            continue;
        }
        tok += (run + ctz64(ends) + 3) >> 2;
        run = 15 - (31 - (unsigned)__builtin_clz(ends));
        __m128i b = _mm_cmpeq_epi8(alnum, zero);            /* 0xFF at the ends */
        __m128i p = _mm_and_si128(b, idx1);
        p = _mm_max_epu8(p, _mm_slli_si128(p, 1));
        p = _mm_max_epu8(p, _mm_slli_si128(p, 2));
        p = _mm_max_epu8(p, _mm_slli_si128(p, 4));
        p = _mm_max_epu8(p, _mm_slli_si128(p, 8));
        __m128i prev = _mm_slli_si128(p, 1);                /* previous end + 1, 0 = none */
        __m128i later = _mm_andnot_si128(_mm_cmpeq_epi8(prev, zero), b);
        __m128i len = _mm_sub_epi8(idx0, prev);             /* the run before a later end */
        __m128i t = _mm_and_si128(_mm_srli_epi16(_mm_add_epi8(len, _mm_set1_epi8(3)), 2), _mm_set1_epi8(0x3F));
        tacc = _mm_add_epi64(tacc, _mm_sad_epu8(_mm_and_si128(t, later), zero));
    }
    uint64_t lanes[4];
    _mm_storeu_si128((__m128i *)(void *)lanes, tacc);
    _mm_storeu_si128((__m128i *)(void *)(lanes + 2), pacc);
    *run_ = run;
    *tok_ = tok + lanes[0] + lanes[1];
    *pun_ += lanes[2] + lanes[3];
    return ascii_words8(s, i, n, run_, tok_, pun_);
}
#else
static size_t ascii_words(const unsigned char *s, size_t i, size_t n, uint64_t *run, uint64_t *tok, uint64_t *pun)
{
    return ascii_words8(s, i, n, run, tok, pun);
}
#endif

static void count_char(struct exch_tokcount *t, unsigned cp)
{
    if (is_cjk(cp))
        t->tokens++;
    else
        t->other++;
}

void exch_tokcount_init(struct exch_tokcount *t)
{
    memset(t, 0, sizeof(*t));
}

void exch_tokcount_feed(struct exch_tokcount *t, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    t->len += n;
    /* the rest of a character cut by the previous piece: taken whatever the
     * bytes are, as the whole-text count takes them */
    for (; t->skip && i < n; i++) {
        t->cp = t->cp << 6 | (s[i] & 0x3F);
        if (--t->skip == 0)
            count_char(t, t->cp);
    }
    int64_t tokens = t->tokens, alnum_run = t->alnum_run, punct = t->punct;
    while (i < n) {
        /* ASCII: 16 / 8 bytes at a time */
        uint64_t run = (uint64_t)alnum_run, tok = 0, pun = 0;
        i = ascii_words(s, i, n, &run, &tok, &pun);
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
        size_t k = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        unsigned cp = k == 2 ? c & 0x1F : k == 3 ? c & 0x0F : k == 4 ? c & 0x07 : c;
        size_t j = 1;
        for (; j < k && i + j < n; j++)
            cp = cp << 6 | (s[i + j] & 0x3F);
        if (j < k) {            /* cut by the end of this piece */
            t->cp = cp;
            t->skip = (unsigned char)(k - j);
            break;
        }
        t->tokens = tokens;
        count_char(t, cp);
        tokens = t->tokens;
        i += k;
    }
    t->tokens = tokens;
    t->alnum_run = alnum_run;
    t->punct = punct;
}

int64_t exch_tokcount_total(const struct exch_tokcount *t)
{
    int64_t tokens = t->tokens, other = t->other;
    if (t->skip) {              /* a character cut by the end of the text */
        if (is_cjk(t->cp))
            tokens++;
        else
            other++;
    }
    tokens += (t->alnum_run + 3) / 4 + (t->punct + 1) / 2 + (other + 1) / 2;
    if (tokens == 0 && t->len > 0)
        tokens = 1;
    return tokens;
}

int64_t exch_estimate_tokens(const char *str, size_t n)
{
    struct exch_tokcount t;
    exch_tokcount_init(&t);
    exch_tokcount_feed(&t, str, n);
    return exch_tokcount_total(&t);
}
