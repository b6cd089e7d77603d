/* gg_scan.h -- find the first byte of a small set in a buffer: the scans
 * of the relay's hot path (splitter, element fast path, JSON escaping,
 * UTF-8 check).
 *
 * Each gg_scan_*(s, n) returns the index of the first byte of s[0..n) that
 * belongs to its set, or n when there is none.  16 bytes at a time with
 * SSE2 (every x86-64), else 8 at a time in a 64-bit word (the word test may
 * stop early on a borrow, never miss a byte: the byte loop decides), then
 * byte by byte.  Reads only s[0..n).  Pure, thread-safe, header only.
 */
#ifndef GG_SCAN_H
#define GG_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(GG_SCAN_PORTABLE)
#include <emmintrin.h>
#define GG_SCAN_SSE2 1
#endif

#define GG_SCAN_ONES 0x0101010101010101ull
#define GG_SCAN_HIGHS 0x8080808080808080ull

/* High bit of each byte of w set where that byte equals c.  A borrow can
 * only mark a byte above a true hit, so a word without one reads 0. */
static inline uint64_t gg_scan_eq8_(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (GG_SCAN_ONES * c);
    return (x - GG_SCAN_ONES) & ~x;
}

/* The same for a byte below c (c <= 0x80). */
static inline uint64_t gg_scan_lt8_(uint64_t w, unsigned char c)
{
    return (w - GG_SCAN_ONES * c) & ~w;
}

static inline uint64_t gg_scan_load8_(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

#ifdef GG_SCAN_SSE2
static inline __m128i gg_scan_load16_(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline unsigned gg_scan_ctz_(unsigned m)
{
    return (unsigned)__builtin_ctz(m);
}

/* unsigned v < c */
static inline __m128i gg_scan_lt16_(__m128i v, unsigned char c)
{
    const __m128i flip = _mm_set1_epi8((char)0x80);
    return _mm_cmplt_epi8(_mm_xor_si128(v, flip), _mm_set1_epi8((char)(c ^ 0x80)));
}
#endif

/* '"' or '\\' (the bytes that matter inside a JSON string being split) */
static inline size_t gg_scan_quote(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
#ifdef GG_SCAN_SSE2
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\');
    for (; n - i >= 16; i += 16) {
        __m128i v = gg_scan_load16_(s + i);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)));
        if (m)
            return i + gg_scan_ctz_(m);
    }
#endif
    for (; n - i >= 8; i += 8) {
        uint64_t w = gg_scan_load8_(s + i);
        if ((gg_scan_eq8_(w, '"') | gg_scan_eq8_(w, '\\')) & GG_SCAN_HIGHS)
            break;
    }
    while (i < n && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

/* '"', '{', '}', '[' or ']' (the structure of a JSON value outside its
 * strings); c | 0x20 maps '[' and ']' onto '{' and '}' and no other byte */
static inline size_t gg_scan_struct(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
#ifdef GG_SCAN_SSE2
    const __m128i q = _mm_set1_epi8('"'), o = _mm_set1_epi8('{'), c = _mm_set1_epi8('}');
    const __m128i sp = _mm_set1_epi8(0x20);
    for (; n - i >= 16; i += 16) {
        __m128i v = gg_scan_load16_(s + i), f = _mm_or_si128(v, sp);
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_or_si128(_mm_cmpeq_epi8(f, o), _mm_cmpeq_epi8(f, c)));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return i + gg_scan_ctz_(m);
    }
#endif
    for (; n - i >= 8; i += 8) {
        uint64_t w = gg_scan_load8_(s + i), f = w | (GG_SCAN_ONES * 0x20);
        if ((gg_scan_eq8_(w, '"') | gg_scan_eq8_(f, '{') | gg_scan_eq8_(f, '}')) & GG_SCAN_HIGHS)
            break;
    }
    while (i < n && s[i] != '"' && (s[i] | 0x20) != '{' && (s[i] | 0x20) != '}')
        i++;
    return i;
}

/* '"', '\\' or a control below 0x20 (what ends a plain run of a JSON
 * string being decoded) */
static inline size_t gg_scan_str_end(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
#ifdef GG_SCAN_SSE2
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\');
    for (; n - i >= 16; i += 16) {
        __m128i v = gg_scan_load16_(s + i);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)), gg_scan_lt16_(v, 0x20));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return i + gg_scan_ctz_(m);
    }
#endif
    for (; n - i >= 8; i += 8) {
        uint64_t w = gg_scan_load8_(s + i);
        if ((gg_scan_eq8_(w, '"') | gg_scan_eq8_(w, '\\') | gg_scan_lt8_(w, 0x20)) & GG_SCAN_HIGHS)
            break;
    }
    while (i < n && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

/* What a JSON string literal escapes (gg_buf_add_json_str): '"', '\\', a
 * control, DEL, and 0xC2 (the lead byte of the C1 controls U+0080..U+009F) */
static inline size_t gg_scan_json_escape(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
#ifdef GG_SCAN_SSE2
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), del = _mm_set1_epi8(0x7f);
    const __m128i c2 = _mm_set1_epi8((char)0xc2);
    for (; n - i >= 16; i += 16) {
        __m128i v = gg_scan_load16_(s + i);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                                   _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmpeq_epi8(v, c2)),
                                                gg_scan_lt16_(v, 0x20)));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return i + gg_scan_ctz_(m);
    }
#endif
    for (; n - i >= 8; i += 8) {
        uint64_t w = gg_scan_load8_(s + i);
        uint64_t t = gg_scan_lt8_(w, 0x20) | gg_scan_eq8_(w, '"') | gg_scan_eq8_(w, '\\') | gg_scan_eq8_(w, 0x7f) |
                     gg_scan_eq8_(w, 0xc2);
        if (t & GG_SCAN_HIGHS)
            break;
    }
    for (; i < n; i++) {
        unsigned char c = s[i];
        if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f || c == 0xc2)
            break;
    }
    return i;
}

/* A byte >= 0x80 (the end of an ASCII run) */
static inline size_t gg_scan_nonascii(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
#ifdef GG_SCAN_SSE2
    for (; n - i >= 16; i += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(gg_scan_load16_(s + i));
        if (m)
            return i + gg_scan_ctz_(m);
    }
#endif
    for (; n - i >= 8; i += 8)
        if (gg_scan_load8_(s + i) & GG_SCAN_HIGHS)
            break;
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

#endif
