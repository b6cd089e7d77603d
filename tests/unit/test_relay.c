/* test_relay.c -- the relay's hot helpers against their per-byte reference
 * definitions (issue 14): the token estimate (core/tokens.c), JSON string
 * escaping (gg_buf_add_json_str), the UTF-8 check (gg_utf8_valid), the
 * byte-set scans (gg_scan.h) and the splitter's in-place / gathered
 * elements.  test_relay_portable builds the same file without SSE2.  The references below are the
 * straightforward implementations the fast ones replaced; every test
 * requires identical results on random text (ASCII, controls, CJK, emoji,
 * C1 controls, broken UTF-8) at every length and alignment.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gg_buf.h"
#include "gg_scan.h"
#include "gg_util.h"
#include "splitter.h"
#include "tinytest.h"
#include "tokens.h"

/* ------------------------------------------------------------ references */

static int ref_is_cjk(unsigned cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF) ||
           (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFFEF);
}

static int64_t ref_estimate(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    int64_t tokens = 0, alnum_run = 0, punct = 0, other = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (isalnum(c)) {
                alnum_run++;
            } else {
                tokens += (alnum_run + 3) / 4;
                alnum_run = 0;
                if (!isspace(c))
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
        if (ref_is_cjk(cp))
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

static int ref_json_str(struct gg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start_len = b->len;
    if (gg_buf_reserve(b, n + 2) != 0)
        return -1;
    b->p[b->len++] = '"';
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                ubuf[0] = '\\'; ubuf[1] = 'u'; ubuf[2] = '0'; ubuf[3] = '0';
                ubuf[4] = hex[c >> 4]; ubuf[5] = hex[c & 15]; ubuf[6] = 0;
                esc = ubuf;
            } else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                       (unsigned char)s[i + 1] <= 0x9f) {
                unsigned char d = (unsigned char)s[i + 1];
                ubuf[0] = '\\'; ubuf[1] = 'u'; ubuf[2] = '0'; ubuf[3] = '0';
                ubuf[4] = hex[d >> 4]; ubuf[5] = hex[d & 15]; ubuf[6] = 0;
                if (gg_buf_add(b, s + run, i - run) != 0 || gg_buf_adds(b, ubuf) != 0)
                    goto fail;
                i++;
                run = i + 1;
                continue;
            }
        }
        if (esc) {
            if (gg_buf_add(b, s + run, i - run) != 0 || gg_buf_adds(b, esc) != 0)
                goto fail;
            run = i + 1;
        }
    }
    if (gg_buf_add(b, s + run, n - run) != 0 || gg_buf_addc(b, '"') != 0)
        goto fail;
    return 0;
fail:
    b->len = start_len;
    if (b->p)
        b->p[b->len] = '\0';
    return -1;
}

static bool ref_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        unsigned cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; if (c < 0xC2) return false; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; if (c > 0xF4) return false; }
        else return false;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += k + 1;
    }
    return true;
}

/* ------------------------------------------------------------ text */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Pieces the generators mix: words, every kind of ASCII, controls, C1
 * controls, Latin-1, CJK, Hangul, emoji, and broken UTF-8 of each kind. */
static const char *const pieces[] = {
    "Lorem", "ipsum", "dolor", "a", "ab", "abc", "abcd", "abcde", "0123456789", "x9Y", " ", "  ", "\t", "\n",
    "\r\n", "\v", "\f", ",", ".", "!?", "\"", "\\", "/", "{}", "[]", "@", "`", "_", "~", "\x7f", "\x01", "\x1f",
    "\b", "\xc2\x80", "\xc2\x9f", "\xc2\xa0", "\xc2\xbf", "\xc2", "\xc3\xa9", "\xe4\xb8\xad", "\xe6\x96\x87",
    "\xe3\x81\x82", "\xea\xb0\x80", "\xef\xbc\x81", "\xe3\x80\x82", "\xf0\x9f\x98\x80", "\xf0\xa0\x80\x80",
    "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
    "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf5\x80\x80\x80", "\xf8", "\xff", "\x80", "\xbf",
    "\xe4\xb8", "\xf0\x9f\x98", "\xe2\x82\xac", "\xd7\xa9", "\xce\xbb",
};

static size_t gen(char *out, size_t cap, unsigned kind)
{
    size_t n = 0, want = rnd((unsigned)cap);
    while (n < want) {
        const char *p;
        if (kind == 0)
            p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
        else if (kind == 1)   /* mostly prose */
            p = rnd(8) ? pieces[rnd(12)] : pieces[12 + rnd(10)];
        else {                /* raw bytes */
            out[n++] = (char)rnd(256);
            continue;
        }
        size_t k = strlen(p);
        if (k == 0)
            k = 1;            /* never: pieces are non-empty */
        if (n + k > cap)
            break;
        memcpy(out + n, p, k);
        n += k;
    }
    return n;
}

/* ------------------------------------------------------------ tests */

static void test_estimate_fixed(void)
{
    TT_EQ_INT(exch_estimate_tokens("", 0), 0);
    TT_EQ_INT(exch_estimate_tokens(" ", 1), 1);
    TT_EQ_INT(exch_estimate_tokens("abcd", 4), 1);
    TT_EQ_INT(exch_estimate_tokens("abcde", 5), 2);
    TT_EQ_INT(exch_estimate_tokens("Hello, world!", 13), 5);   /* 2 + 2 words, 2 punctuation */
    TT_EQ_INT(exch_estimate_tokens("\xe4\xb8\xad\xe6\x96\x87", 6), 2);
    const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ";
    TT_EQ_INT(exch_estimate_tokens(lorem, strlen(lorem)), ref_estimate(lorem, strlen(lorem)));
}

/* Every prefix and every suffix of random texts, at every alignment of the
 * start (the fast loop reads 8 bytes at a time). */
static void test_estimate_random(void)
{
    enum { CAP = 300 };
    char buf[CAP + 16];
    size_t bad = 0, runs = 0;
    for (int round = 0; round < 600; round++) {
        unsigned kind = (unsigned)round % 3;
        size_t off = (size_t)round % 8;
        size_t n = gen(buf + off, CAP, kind);
        const char *s = buf + off;
        for (size_t k = 0; k <= n; k++) {
            runs += 2;
            if (exch_estimate_tokens(s, k) != ref_estimate(s, k) ||
                exch_estimate_tokens(s + k, n - k) != ref_estimate(s + k, n - k)) {
                if (bad++ == 0)
                    fprintf(stderr, "estimate differs: round %d, split %zu of %zu\n", round, k, n);
            }
        }
    }
    TT_EQ_INT(bad, 0);
    TT_CHECK(runs > 100000);
    /* long prose (the relay's case) and every byte value once */
    size_t big = 1u << 20;
    char *t = malloc(big);
    TT_CHECK(t != NULL);
    if (!t)
        return;
    size_t n = 0;
    while (n + 16 < big) {
        const char *p = rnd(20) ? pieces[rnd(12)] : pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
        memcpy(t + n, p, strlen(p));
        n += strlen(p);
    }
    TT_EQ_INT(exch_estimate_tokens(t, n), ref_estimate(t, n));
    for (int c = 0; c < 256; c++)
        t[c] = (char)c;
    for (size_t k = 0; k <= 256; k++)
        TT_EQ_INT(exch_estimate_tokens(t, k), ref_estimate(t, k));
    free(t);
}

/* Long alphanumeric runs (the 64-byte block path: a run filling whole
 * blocks, ending at every offset of one, carried across blocks). */
static const char k_sep[4] = {' ', ',', '\n', '-'};

static void test_estimate_long_runs(void)
{
    static char t[600];
    size_t bad = 0;
    for (size_t a = 1; a <= 200; a++) {
        for (size_t b = 0; b <= 140; b += 7) {
            size_t n = 0;
            for (size_t k = 0; k < a; k++)
                t[n++] = (char)('a' + k % 26);
            t[n++] = (k_sep[b % 4]);
            for (size_t k = 0; k < b; k++)
                t[n++] = (char)('0' + k % 10);
            t[n++] = ' ';
            for (size_t k = 0; k < 130; k++)
                t[n++] = k % 9 == 8 ? '.' : 'Z';
            for (size_t off = 0; off < 8; off++)
                if (exch_estimate_tokens(t + off, n - off) != ref_estimate(t + off, n - off) && bad++ == 0)
                    fprintf(stderr, "long runs differ: a=%zu b=%zu off=%zu\n", a, b, off);
        }
    }
    TT_EQ_INT(bad, 0);
}

static int64_t pieces_estimate(const char *s, size_t n, const size_t *cuts, size_t ncuts)
{
    struct exch_tokcount t;
    exch_tokcount_init(&t);
    size_t at = 0;
    for (size_t k = 0; k < ncuts; k++) {
        exch_tokcount_feed(&t, s + at, cuts[k] - at);
        at = cuts[k];
    }
    exch_tokcount_feed(&t, s + at, n - at);
    return exch_tokcount_total(&t);
}

/* The running count: cut once at every position, and many times at random
 * places (UTF-8 characters cut too, empty pieces included). */
static void test_estimate_pieces(void)
{
    enum { CAP = 300 };
    char buf[CAP + 16];
    size_t bad = 0;
    for (int round = 0; round < 600; round++) {
        size_t off = (size_t)round % 8;
        size_t n = gen(buf + off, CAP, (unsigned)round % 3);
        const char *s = buf + off;
        int64_t want = ref_estimate(s, n);
        for (size_t k = 0; k <= n; k++) {
            if (pieces_estimate(s, n, &k, 1) != want && bad++ == 0)
                fprintf(stderr, "running count differs: round %d, cut at %zu of %zu\n", round, k, n);
        }
        for (int r = 0; r < 20; r++) {
            size_t cuts[12], nc = 1 + rnd(12);
            for (size_t k = 0; k < nc; k++)
                cuts[k] = rnd((unsigned)n + 1);
            for (size_t a = 1; a < nc; a++)          /* sorted */
                for (size_t b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
                    size_t t = cuts[b];
                    cuts[b] = cuts[b - 1];
                    cuts[b - 1] = t;
                }
            if (pieces_estimate(s, n, cuts, nc) != want && bad++ == 0)
                fprintf(stderr, "running count differs: round %d, %zu random cuts\n", round, nc);
        }
    }
    TT_EQ_INT(bad, 0);
    struct exch_tokcount t;                           /* nothing fed, and empty pieces */
    exch_tokcount_init(&t);
    TT_EQ_INT(exch_tokcount_total(&t), 0);
    exch_tokcount_feed(&t, "", 0);
    TT_EQ_INT(exch_tokcount_total(&t), 0);
    exch_tokcount_feed(&t, "\xe4", 1);               /* a cut character at the end */
    TT_EQ_INT(exch_tokcount_total(&t), ref_estimate("\xe4", 1));
    exch_tokcount_feed(&t, "\xb8", 1);
    exch_tokcount_feed(&t, "\xad", 1);
    TT_EQ_INT(exch_tokcount_total(&t), ref_estimate("\xe4\xb8\xad", 3));
}

static bool same_buf(const struct gg_buf *a, const struct gg_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0) &&
           (!a->p || a->p[a->len] == '\0') && (!b->p || b->p[b->len] == '\0');
}

static void test_json_str_random(void)
{
    enum { CAP = 300 };
    char buf[CAP + 16];
    size_t bad = 0;
    for (int round = 0; round < 3000; round++) {
        size_t off = (size_t)round % 8;
        size_t n = gen(buf + off, CAP, (unsigned)round % 3);
        const char *s = buf + off;
        struct gg_buf a, b;
        gg_buf_init(&a, 1u << 20);
        gg_buf_init(&b, 1u << 20);
        if (round % 2) {    /* something already in the buffer */
            gg_buf_adds(&a, "data: ");
            gg_buf_adds(&b, "data: ");
        }
        int ra = gg_buf_add_json_str(&a, s, n), rb = ref_json_str(&b, s, n);
        if (ra != 0 || rb != 0 || !same_buf(&a, &b)) {
            if (bad++ == 0)
                fprintf(stderr, "json escape differs: round %d (%zu bytes)\n", round, n);
        }
        gg_buf_free(&a);
        gg_buf_free(&b);
    }
    TT_EQ_INT(bad, 0);
}

/* The cap: the result fits exactly, or is one byte too long (the buffer is
 * left as it was), for every prefix of texts with escapes of each size. */
static void test_json_str_cap(void)
{
    const char *t = "ab\"c\\d\ne\x01\x7f\xc2\x85x\xc2\xa0y\xe4\xb8\xad\t";
    size_t tn = strlen(t), bad = 0;
    for (size_t k = 0; k <= tn; k++) {
        struct gg_buf r;
        gg_buf_init(&r, 4096);
        gg_buf_adds(&r, "pre");
        TT_EQ_INT(ref_json_str(&r, t, k), 0);
        size_t need = r.len;
        for (size_t max = need - 2; max <= need + 1; max++) {   /* need >= 5: "pre" fits */
            struct gg_buf a, b;
            gg_buf_init(&a, max);
            gg_buf_init(&b, max);
            gg_buf_adds(&a, "pre");
            gg_buf_adds(&b, "pre");
            int ra = gg_buf_add_json_str(&a, t, k), rb = ref_json_str(&b, t, k);
            if (ra != rb || !same_buf(&a, &b) || ra != (max >= need ? 0 : -1)) {
                if (bad++ == 0)
                    fprintf(stderr, "json cap differs: prefix %zu, max %zu (need %zu): %d %d\n", k, max, need, ra, rb);
            }
            gg_buf_free(&a);
            gg_buf_free(&b);
        }
        gg_buf_free(&r);
    }
    TT_EQ_INT(bad, 0);
    struct gg_buf e;
    gg_buf_init(&e, 64);
    TT_EQ_INT(gg_buf_add_json_str(&e, "", 0), 0);
    TT_EQ_STR(e.p, "\"\"");
    gg_buf_reset(&e);
    TT_EQ_INT(gg_buf_add_json_str(&e, "\xc2\x9f\xc2", 3), 0);
    TT_EQ_STR(e.p, "\"\\u009f\xc2\"");
    gg_buf_free(&e);
}

static void test_utf8_valid(void)
{
    static const char *const fixed[] = {
        "", "a", "abcdefgh", "abcdefghi", "\xc2\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\x80", "\xe0\xa0\x80",
        "\xed\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xee\x80\x80", "\xf0\x8f\xbf\xbf", "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe4\xb8", "abcdefg\xe4\xb8", "abcdefgh\x80",
        "\xf0\x9f\x98\x80" "abcdefgh", "abcdefgh" "\xf0\x9f\x98", "\xff", "\xfe",
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        TT_EQ_INT(gg_utf8_valid(fixed[i], strlen(fixed[i])), ref_utf8_valid(fixed[i], strlen(fixed[i])));
    enum { CAP = 200 };
    char buf[CAP + 16];
    size_t bad = 0, valid = 0;
    for (int round = 0; round < 1500; round++) {
        size_t off = (size_t)round % 8;
        size_t n = gen(buf + off, CAP, (unsigned)round % 3);
        const char *s = buf + off;
        for (size_t k = 0; k <= n; k++) {
            bool want = ref_utf8_valid(s, k);
            valid += want;
            if (gg_utf8_valid(s, k) != want || gg_utf8_valid(s + k, n - k) != ref_utf8_valid(s + k, n - k)) {
                if (bad++ == 0)
                    fprintf(stderr, "utf8 differs: round %d, split %zu of %zu\n", round, k, n);
            }
        }
    }
    TT_EQ_INT(bad, 0);
    TT_CHECK(valid > 1000);   /* both answers were exercised */
}

/* ------------------------------------------------------------ scans */

static bool in_quote(unsigned char c) { return c == '"' || c == '\\'; }
static bool in_struct(unsigned char c) { return c == '"' || c == '{' || c == '}' || c == '[' || c == ']'; }
static bool in_str_end(unsigned char c) { return c == '"' || c == '\\' || c < 0x20; }
static bool in_escape(unsigned char c) { return c == '"' || c == '\\' || c < 0x20 || c == 0x7f || c == 0xc2; }
static bool in_nonascii(unsigned char c) { return c >= 0x80; }

static size_t ref_scan(const char *s, size_t n, bool (*in)(unsigned char))
{
    size_t i = 0;
    while (i < n && !in((unsigned char)s[i]))
        i++;
    return i;
}

/* Every scan against its definition: one byte of the set (every byte value
 * in turn) at every position of a buffer of every length up to 40, over a
 * background of plain bytes, at every alignment; then random buffers. */
static void test_scans(void)
{
    static const struct {
        size_t (*fn)(const char *, size_t);
        bool (*in)(unsigned char);
        const char *name;
    } scans[] = {
        {gg_scan_quote, in_quote, "quote"},       {gg_scan_struct, in_struct, "struct"},
        {gg_scan_str_end, in_str_end, "str_end"}, {gg_scan_json_escape, in_escape, "json_escape"},
        {gg_scan_nonascii, in_nonascii, "nonascii"},
    };
    char buf[64];
    size_t bad = 0, checks = 0;
    for (size_t f = 0; f < sizeof(scans) / sizeof(scans[0]); f++) {
        for (unsigned bg = 0; bg < 256; bg += 17) {         /* background bytes */
            for (size_t off = 0; off < 8; off++) {
                for (size_t n = 0; n <= 40; n += 1 + (off & 1)) {
                    for (size_t at = 0; at <= n; at++) {
                        for (unsigned c = 0; c < 256; c += (at == n ? 256 : 3)) {
                            memset(buf, (int)bg, sizeof(buf));
                            if (at < n)
                                buf[off + at] = (char)c;
                            checks++;
                            if (scans[f].fn(buf + off, n) != ref_scan(buf + off, n, scans[f].in) && bad++ == 0)
                                fprintf(stderr, "gg_scan_%s: bg %u byte %u at %zu of %zu\n", scans[f].name, bg, c, at, n);
                        }
                    }
                }
            }
        }
        for (int round = 0; round < 3000; round++) {
            size_t n = gen(buf, 48, (unsigned)round % 3);
            for (size_t k = 0; k < n; k++) {
                checks++;
                if (scans[f].fn(buf + k, n - k) != ref_scan(buf + k, n - k, scans[f].in) && bad++ == 0)
                    fprintf(stderr, "gg_scan_%s: random round %d at %zu\n", scans[f].name, round, k);
            }
        }
    }
    TT_EQ_INT(bad, 0);
    TT_CHECK(checks > 1000000);
}

/* ------------------------------------------------------------ splitter */

struct elems {
    struct gg_buf all;       /* "<len>:<bytes>" per element */
    size_t n;
};

static int collect(void *ctx, const char *e, size_t n)
{
    struct elems *l = ctx;
    l->n++;
    gg_buf_printf(&l->all, "%zu:", n);
    gg_buf_add(&l->all, e, n);
    return 0;
}

static void test_split_chunks(void)
{
    /* elements with strings holding quotes, backslashes and braces, long
     * plain runs (the 8-byte skip) and whitespace between them */
    struct gg_buf body;
    gg_buf_init(&body, 1u << 20);
    gg_buf_adds(&body, ")]}'\n[");
    for (int i = 0; i < 40; i++) {
        gg_buf_printf(&body, "%s{\"t\":\"", i ? ",\n  " : "");
        size_t len = rnd(70);
        for (size_t k = 0; k < len; k++) {
            unsigned r = rnd(30);
            gg_buf_adds(&body, r == 0 ? "\\\"" : r == 1 ? "\\\\" : r == 2 ? "{" : r == 3 ? "}" : r == 4 ? "]" : "x");
        }
        gg_buf_printf(&body, "\",\"n\":[%d,{\"a\":\"\\u00e9\"}]}", i);
    }
    gg_buf_adds(&body, "]");
    struct elems one = {{0}, 0};
    gg_buf_init(&one.all, 1u << 20);
    struct splitter sp;
    split_init(&sp, 1u << 16);
    TT_EQ_INT(split_feed(&sp, body.p, body.len, collect, &one), 0);
    TT_EQ_INT(split_finish(&sp), SPLIT_COMPLETE);
    split_free(&sp);
    TT_EQ_INT(one.n, 40);
    size_t bad = 0;
    for (size_t cut = 1; cut < body.len; cut++) {   /* two chunks, cut everywhere */
        struct elems two = {{0}, 0};
        gg_buf_init(&two.all, 1u << 20);
        split_init(&sp, 1u << 16);
        int r1 = split_feed(&sp, body.p, cut, collect, &two);
        int r2 = split_feed(&sp, body.p + cut, body.len - cut, collect, &two);
        if (r1 || r2 || split_finish(&sp) != SPLIT_COMPLETE || !same_buf(&one.all, &two.all))
            bad++;
        split_free(&sp);
        gg_buf_free(&two.all);
    }
    TT_EQ_INT(bad, 0);
    for (size_t step = 1; step <= 64; step++) {      /* many chunks of each size */
        struct elems many = {{0}, 0};
        gg_buf_init(&many.all, 1u << 20);
        split_init(&sp, 1u << 16);
        int rc = 0;
        for (size_t off = 0; off < body.len && rc == 0; off += step)
            rc = split_feed(&sp, body.p + off, body.len - off < step ? body.len - off : step, collect, &many);
        TT_CHECK(rc == 0 && same_buf(&one.all, &many.all));
        split_free(&sp);
        gg_buf_free(&many.all);
    }
    gg_buf_free(&one.all);
    gg_buf_free(&body);
}

/* The element cap holds on both paths: in place (followed by more bytes in
 * the chunk) and gathered (ending the chunk / spanning chunks). */
static void test_split_cap(void)
{
    const char *el = "{\"a\":\"0123456789\"}";   /* 18 bytes */
    char s[64];
    struct elems l = {{0}, 0};
    gg_buf_init(&l.all, 4096);
    struct splitter sp;
    for (size_t max = 17; max <= 18; max++) {
        int want = max >= 18 ? 0 : SPLIT_ERR_SIZE;
        snprintf(s, sizeof(s), "[%s,", el);       /* in place */
        split_init(&sp, max);
        TT_EQ_INT(split_feed(&sp, s, strlen(s), collect, &l), want);
        split_free(&sp);
        snprintf(s, sizeof(s), "[%s", el);        /* ends the chunk: gathered */
        split_init(&sp, max);
        TT_EQ_INT(split_feed(&sp, s, strlen(s), collect, &l), want);
        split_free(&sp);
        split_init(&sp, max);                     /* spans two chunks */
        int r = split_feed(&sp, s, 9, collect, &l);
        if (r == 0)
            r = split_feed(&sp, s + 9, strlen(s) - 9, collect, &l);
        TT_EQ_INT(r, want);
        split_free(&sp);
    }
    TT_EQ_INT(l.n, 3);
    split_init(&sp, 64);                          /* "{...]" is refused in place too */
    TT_EQ_INT(split_feed(&sp, "[{\"a\":[1}],", 11, collect, &l), SPLIT_ERR_SYNTAX);
    split_free(&sp);
    gg_buf_free(&l.all);
}

int main(void)
{
    TT_RUN(test_estimate_fixed);
    TT_RUN(test_estimate_random);
    TT_RUN(test_estimate_long_runs);
    TT_RUN(test_estimate_pieces);
    TT_RUN(test_json_str_random);
    TT_RUN(test_json_str_cap);
    TT_RUN(test_utf8_valid);
    TT_RUN(test_scans);
    TT_RUN(test_split_chunks);
    TT_RUN(test_split_cap);
    return TT_REPORT();
}
