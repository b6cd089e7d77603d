/* test_convkey.c -- the conversation key built while the answer grows
 * (exch_convhash_*, core/flatten.c) against the whole-text key
 * (exch_conv_key_calls): random, whitespace-heavy and CJK answers, short
 * and above the 1 KiB long-text limit, fed in one piece, cut once at every
 * position and cut at many random places, with and without tool calls; the
 * lapsed states fall back (final false).  The key's layout is checked
 * against SHA-256 computed here (short texts keep the keys of earlier
 * versions), and uhash against a one-word-at-a-time reference.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "exch.h"
#include "flatten.h"
#include "tinytest.h"
#include "uhash.h"

static uint64_t seed = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return n ? (unsigned)(seed % n) : 0;
}

/* kind 0: mixed ASCII, 1: mostly whitespace, 2: CJK with whitespace */
static size_t gen(char *buf, size_t cap, unsigned kind)
{
    static const char *const ws[] = {" ", "\t", "\n", "\r", "\v", "\f"};
    static const char *const cjk[] = {"\xe4\xb8\xad", "\xe6\x96\x87", "\xe3\x80\x80", "\xf0\x9f\x98\x80", "\xc2\xa0"};
    size_t n = 0, want = rnd((unsigned)cap);
    while (n + 4 < cap && n < want) {
        unsigned r = rnd(10);
        const char *piece;
        char one[2] = {0, 0};
        if (kind == 1 ? r < 7 : r < 2)
            piece = ws[rnd(6)];
        else if (kind == 2 && r < 8)
            piece = cjk[rnd(5)];
        else {
            one[0] = (char)(0x21 + rnd(94));
            piece = one;
        }
        size_t k = strlen(piece);
        memcpy(buf + n, piece, k);
        n += k;
    }
    buf[n] = '\0';
    return n;
}

static struct exch_message msgs[3];
static struct exch_tool_call calls[2];
static struct exch_request req;

static void setup(void)
{
    static char t0[] = "  You are terse.\n", t1[] = "\tHello there \n", t2[] = "earlier answer";
    static char n0[] = "lookup", n1[] = "fetch", id0[] = "c1", a0[] = "{}";
    calls[0] = (struct exch_tool_call){.id = id0, .name = n0, .args_json = a0};
    calls[1] = (struct exch_tool_call){.id = id0, .name = n1, .args_json = a0};
    msgs[0] = (struct exch_message){.role = EXCH_SYSTEM, .text = t0};
    msgs[1] = (struct exch_message){.role = EXCH_USER, .text = t1};
    msgs[2] = (struct exch_message){.role = EXCH_ASSISTANT, .text = t2, .tool_calls = calls, .n_tool_calls = 1};
    req.msgs = msgs;
    req.n_msgs = 3;
}

/* the answer s[0, n) fed as the pieces ending at cuts[] (sorted), then n */
static bool pieces_key(const char *s, size_t n, const size_t *cuts, size_t nc, size_t n_calls, char out[65])
{
    struct exch_convhash h = {0};
    exch_convhash_begin(&h, "kid", &req, req.n_msgs);
    for (size_t k = 0; k < nc; k++)
        exch_convhash_feed(&h, s, cuts[k]);
    exch_convhash_feed(&h, s, n);
    bool ok = exch_convhash_final(&h, s, req.n_msgs, n, calls, n_calls, out);
    exch_convhash_free(&h);
    return ok;
}

static void pieces_rounds(size_t cap, int rounds, size_t every_cut_max)
{
    char *s = malloc(cap + 8), want[65], got[65];
    TT_CHECK(s != NULL);
    if (!s)
        return;
    size_t bad = 0, runs = 0;
    for (int round = 0; round < rounds; round++) {
        size_t n = gen(s, cap, (unsigned)round % 3);
        size_t nc_calls = (size_t)round % 3 == 0 ? 2 : 0;
        exch_conv_key_calls("kid", &req, req.n_msgs, s, n, calls, nc_calls, want);
        for (size_t k = 0; k <= n; k += n > every_cut_max ? 1 + rnd(61) : 1) {
            runs++;
            if ((!pieces_key(s, n, &k, 1, nc_calls, got) || strcmp(got, want) != 0) && bad++ == 0)
                fprintf(stderr, "key differs: round %d, cut at %zu of %zu\n", round, k, n);
        }
        for (int r = 0; r < 20; r++) {
            size_t cuts[12], nc = 1 + rnd(12);
            for (size_t k = 0; k < nc; k++)
                cuts[k] = rnd((unsigned)n + 1);
            for (size_t a = 1; a < nc; a++)
                for (size_t b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
                    size_t t = cuts[b];
                    cuts[b] = cuts[b - 1];
                    cuts[b - 1] = t;
                }
            runs++;
            if ((!pieces_key(s, n, cuts, nc, nc_calls, got) || strcmp(got, want) != 0) && bad++ == 0)
                fprintf(stderr, "key differs: round %d, %zu random cuts\n", round, nc);
        }
    }
    TT_EQ_INT(bad, 0);
    TT_CHECK(runs > (size_t)rounds * 20);
    free(s);
}

static void test_convkey_pieces(void)
{
    pieces_rounds(200, 600, 200);
}

/* answers up to 6 KB: most above the long-text limit, cut anywhere */
static void test_convkey_pieces_long(void)
{
    pieces_rounds(6000, 90, 1500);
}

/* uhash against the definition in uhash.h, one 7-byte word at a time */
static void ref_uhash(const unsigned char *p, size_t n, unsigned char out[UHASH_LEN])
{
    static const uint64_t keys[2] = {0x0928a497f02218adull, 0x15bf3be982763517ull};
    const uint64_t P = (1ull << 61) - 1;
    for (int j = 0; j < 2; j++) {
        uint64_t h = 0;
        for (size_t at = 0; at <= n; at += 7) {
            uint64_t w = 0;
            if (at == n)
                break;
            for (size_t b = 0; b < 7 && at + b < n; b++)
                w |= (uint64_t)p[at + b] << (8 * b);
            h = (uint64_t)(((unsigned __int128)h * keys[j] + w) % P);
        }
        h = (uint64_t)(((unsigned __int128)h * keys[j] + n) % P);
        for (int i = 0; i < 8; i++)
            out[8 * j + i] = (unsigned char)(h >> (8 * i));
    }
}

static void test_uhash_reference(void)
{
    enum { N = 700 };
    unsigned char buf[N], want[UHASH_LEN], got[UHASH_LEN];
    size_t bad = 0;
    for (size_t i = 0; i < N; i++)
        buf[i] = (unsigned char)(i % 5 == 0 ? 0xff : rnd(256));
    for (size_t n = 0; n <= N; n++) {
        ref_uhash(buf, n, want);
        uhash(buf, n, got);
        if (memcmp(want, got, UHASH_LEN) != 0 && bad++ == 0)
            fprintf(stderr, "uhash differs at length %zu\n", n);
        /* streamed: blocks in random pieces, each piece's rest passed again */
        struct uhash u;
        uhash_init(&u);
        size_t at = 0;
        while (at < n) {
            size_t piece = rnd((unsigned)(n - at) + 1);
            at += uhash_blocks(&u, buf + at, piece);
            if (piece < UHASH_BLOCK)
                break;
        }
        uhash_final(&u, buf + at, n - at, got);
        if (memcmp(want, got, UHASH_LEN) != 0 && bad++ == 0)
            fprintf(stderr, "streamed uhash differs at length %zu\n", n);
    }
    TT_EQ_INT(bad, 0);
    /* one flipped bit or one more byte changes it */
    unsigned char a[UHASH_LEN], b[UHASH_LEN];
    uhash(buf, 300, a);
    buf[150] ^= 4;
    uhash(buf, 300, b);
    TT_CHECK(memcmp(a, b, UHASH_LEN) != 0);
    uhash(buf, 301, a);
    TT_CHECK(memcmp(a, b, UHASH_LEN) != 0);
}

/* the key's bytes: SHA-256 of key id NUL, then per message role digit, the
 * trimmed text (or \x01 U uhash for more than 1 KiB) NUL, calls \x02 name NUL */
static void layout_key(const char *text, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    TT_CHECK(c != NULL);
    if (!c)
        return;
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, "kid", 4);
    for (size_t i = 0; i < req.n_msgs; i++) {
        const char *t = msgs[i].text;
        char r = (char)('0' + msgs[i].role);
        EVP_DigestUpdate(c, &r, 1);
        while (*t == ' ' || *t == '\n' || *t == '\t')
            t++;
        size_t k = strlen(t);
        while (k > 0 && (t[k - 1] == ' ' || t[k - 1] == '\n'))
            k--;
        EVP_DigestUpdate(c, t, k);
        EVP_DigestUpdate(c, "", 1);
        for (size_t j = 0; j < msgs[i].n_tool_calls; j++) {
            EVP_DigestUpdate(c, "\x02", 1);
            EVP_DigestUpdate(c, msgs[i].tool_calls[j].name, strlen(msgs[i].tool_calls[j].name) + 1);
        }
    }
    char r = (char)('0' + EXCH_ASSISTANT);
    EVP_DigestUpdate(c, &r, 1);
    if (n > 1024) {
        unsigned char d[UHASH_LEN];
        ref_uhash((const unsigned char *)text, n, d);
        EVP_DigestUpdate(c, "\x01U", 2);
        EVP_DigestUpdate(c, d, UHASH_LEN);
    } else {
        EVP_DigestUpdate(c, text, n);
    }
    EVP_DigestUpdate(c, "", 1);
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* short answers keep the earlier versions' keys; the limit is 1 KiB of
 * trimmed text, whitespace around it not counted */
static void test_convkey_layout(void)
{
    static char text[1200];
    char want[65], got[65], whole[65];
    memset(text, 'w', sizeof(text));
    for (size_t i = 0; i < sizeof(text); i += 9)
        text[i] = ' ';
    text[0] = text[1] = 'x';
    for (size_t n = 1020; n <= 1030; n++) {
        text[n - 1] = 'z';
        layout_key(text, n, want);
        exch_conv_key_calls("kid", &req, req.n_msgs, text, n, NULL, 0, whole);
        TT_EQ_STR(whole, want);
        char padded[1300];
        padded[0] = '\n';
        padded[1] = ' ';
        memcpy(padded + 2, text, n);
        memcpy(padded + 2 + n, " \n\n", 3);
        TT_CHECK(pieces_key(padded, n + 5, NULL, 0, 0, got));
        TT_EQ_STR(got, want);
        text[n - 1] = 'w';
    }
}

static void test_convkey_fixed(void)
{
    char want[65], got[65];
    static const char *const answers[] = {"", "   ", " \n\t", "a", "  a  ", "a \n b\n\n", "\xe4\xb8\xad \xe6\x96\x87 "};
    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        const char *a = answers[i];
        exch_conv_key_calls("kid", &req, req.n_msgs, a, strlen(a), NULL, 0, want);
        TT_CHECK(pieces_key(a, strlen(a), NULL, 0, 0, got));
        TT_EQ_STR(got, want);
    }
    /* the trimmed answer: whitespace around it does not change the key */
    char k1[65], k2[65];
    exch_conv_key_calls("kid", &req, req.n_msgs, "x y", 3, NULL, 0, k1);
    TT_CHECK(pieces_key("\n x y \t", 7, NULL, 0, 0, k2));
    TT_EQ_STR(k1, k2);
    /* the next turn's history finds the key stored after this one */
    struct exch_message m4[4];
    memcpy(m4, msgs, sizeof(msgs));
    char ans[] = "the answer";
    m4[3] = (struct exch_message){.role = EXCH_ASSISTANT, .text = ans};
    struct exch_request next = {.msgs = m4, .n_msgs = 4};
    exch_conv_key("kid", &next, 4, NULL, 0, want);
    TT_CHECK(pieces_key(ans, strlen(ans), NULL, 0, 0, got));
    TT_EQ_STR(got, want);
}

/* states that do not cover the answer: final() refuses, the caller hashes whole */
static void test_convkey_lapsed(void)
{
    char out[65] = "";
    struct exch_convhash h = {0};
    TT_CHECK(!exch_convhash_final(&h, "abc", req.n_msgs, 0, NULL, 0, out));        /* never begun */
    exch_convhash_begin(&h, "kid", &req, req.n_msgs);
    exch_convhash_feed(&h, "abc", 3);
    TT_CHECK(!exch_convhash_final(&h, "abc", req.n_msgs, 4, NULL, 0, out));        /* a length it did not see */
    TT_CHECK(!exch_convhash_final(&h, "abc", 2, 3, NULL, 0, out));                 /* other messages */
    exch_convhash_feed(&h, "ab", 2);                                       /* shrank: lapsed */
    TT_CHECK(!exch_convhash_final(&h, "abc", req.n_msgs, 2, NULL, 0, out));
    exch_convhash_begin(&h, "kid", &req, req.n_msgs);                      /* reused: a new attempt */
    exch_convhash_feed(&h, "abc", 3);
    TT_CHECK(exch_convhash_final(&h, "abc", req.n_msgs, 3, NULL, 0, out));
    char want[65];
    exch_conv_key_calls("kid", &req, req.n_msgs, "abc", 3, NULL, 0, want);
    TT_EQ_STR(out, want);
    TT_CHECK(!exch_convhash_final(&h, "abc", req.n_msgs, 3, NULL, 0, out));        /* ended */
    exch_convhash_free(&h);
    exch_convhash_free(&h);
    TT_CHECK(h.md == NULL);
}

int main(void)
{
    setup();
    TT_RUN(test_convkey_fixed);
    TT_RUN(test_uhash_reference);
    TT_RUN(test_convkey_layout);
    TT_RUN(test_convkey_pieces);
    TT_RUN(test_convkey_pieces_long);
    TT_RUN(test_convkey_lapsed);
    return TT_REPORT();
}
