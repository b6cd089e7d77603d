/* test_xfast.c -- daemon/xfast.c against the cJSON translator.
 *
 * Every case runs xlate_element() twice, with the fast path on and off, and
 * requires the same sink calls (callback, bytes, thought flag, order) and
 * the same return values.  Fixed elements also state whether the fast path
 * must take them (so a fast path that declines everything fails), and a few
 * decoded texts are checked byte for byte.  Random cases: generated common
 * elements (random key order, layout, optional members, escapes, surrogate
 * pairs, CJK, <ctrl46> lines, thinking headings) must be handled and agree;
 * mutated copies must agree; whole streams fed through the splitter in
 * random chunks with the fast path must match one-piece feeds through cJSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_buf.h"
#include "splitter.h"
#include "tinytest.h"
#include "xfast.h"
#include "xlate.h"

/* ------------------------------------------------------------ recorder */

static void rec(void *ctx, char tag, const char *s, size_t n)
{
    struct gg_buf *b = ctx;
    if (!s) {
        gg_buf_printf(b, "%c-|", tag);
        return;
    }
    gg_buf_printf(b, "%c%zu:", tag, n);
    gg_buf_add(b, s, n);
    gg_buf_addc(b, '|');
}

static void on_text(void *ctx, const char *s, size_t n, bool thought)
{
    rec(ctx, thought ? 'R' : 'T', s, n);
}

static void on_file(void *ctx, const char *id, const char *mime, const char *name)
{
    rec(ctx, 'F', id, strlen(id));
    rec(ctx, 'm', mime, mime ? strlen(mime) : 0);
    rec(ctx, 'n', name, name ? strlen(name) : 0);
}

static void on_session(void *ctx, const char *s)
{
    rec(ctx, 'S', s, strlen(s));
}

static void on_state(void *ctx, const char *state, const char *detail)
{
    rec(ctx, 'X', state, strlen(state));
    rec(ctx, 'd', detail, detail ? strlen(detail) : 0);
}

static void on_error(void *ctx, int code, const char *status, const char *message)
{
    gg_buf_printf(ctx, "E%d|", code);
    rec(ctx, 's', status, status ? strlen(status) : 0);
    rec(ctx, 'M', message, message ? strlen(message) : 0);
}

struct run {
    struct gg_buf log;
    struct xlate x;
};

static void run_init(struct run *r, bool fast)
{
    gg_buf_init(&r->log, 64u << 20);
    struct xlate_sink sink = {&r->log, on_text, on_file, on_session, on_state, on_error};
    xlate_fastpath = fast;
    xlate_init(&r->x, &sink);
    xlate_fastpath = true;
}

static void run_elem(struct run *r, const char *e, size_t n)
{
    int rc = xlate_element(&r->x, e, n);
    gg_buf_printf(&r->log, "=%d,%zu\n", rc, r->x.elements);
}

static bool same_log(const struct run *a, const struct run *b)
{
    return a->log.len == b->log.len && (a->log.len == 0 || memcmp(a->log.p, b->log.p, a->log.len) == 0);
}

static bool handled(const char *e, size_t n)
{
    char *buf = malloc(n + 1);
    struct xfast_result r;
    bool ok = buf && xfast_parse(e, n, buf, n + 1, &r);
    free(buf);
    return ok;
}

static int n_handled, n_declined;

/* One element through both paths: same log; returns whether fast took it. */
static bool diff1(const char *e, size_t n)
{
    struct run f, c;
    run_init(&f, true);
    run_init(&c, false);
    run_elem(&f, e, n);
    run_elem(&c, e, n);
    bool same = same_log(&f, &c);
    if (!same)
        fprintf(stderr, "differ on [%.*s]:\n fast: %s\n cjson: %s\n", (int)n, e,
                f.log.p ? f.log.p : "", c.log.p ? c.log.p : "");
    TT_CHECK(same);
    gg_buf_free(&f.log);
    gg_buf_free(&c.log);
    bool h = handled(e, n);
    if (h)
        n_handled++;
    else
        n_declined++;
    return h;
}

/* ------------------------------------------------------------ fixed cases */

#define PRETTY_FIRST \
    "{\n  \"uToken\": \"AOvN1x-abc\",\n  \"streamAssistResponse\": {\n    \"answer\": {\n" \
    "      \"state\": \"IN_PROGRESS\",\n      \"replies\": [\n        {\n          \"groundedContent\": {\n" \
    "            \"content\": {\n              \"role\": \"model\",\n" \
    "              \"text\": \"**Assessing the Request**\\n\\nThe user wants a poem.\",\n" \
    "              \"thought\": true\n            }\n          }\n        }\n      ],\n" \
    "      \"adkAuthor\": \"root_agent\"\n    },\n    \"sessionInfo\": {},\n    \"assistToken\": \"Cj0KM2\"\n  }\n}"

#define C(t) "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[" \
    "{\"groundedContent\":{\"content\":{\"role\":\"model\",\"text\":\"" t "\"}}}]}}}"
#define CT(t, th) "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[" \
    "{\"groundedContent\":{\"content\":{\"role\":\"model\",\"text\":\"" t "\",\"thought\":" th "}}}]}}}"

static const char *const fast_cases[] = {
    PRETTY_FIRST,
    C("春眠不觉晓，"),
    C("处处闻啼鸟。"),
    C("esc \\n\\t\\\"\\\\\\/\\b\\f\\r end"),
    C("\\u00e9\\u4e2d\\u00E9 \\ud83d\\ude00 \\uD83D\\uDE00 \\u0041\\u007f\\u0080\\u07ff\\u0800\\uffff"),
    C("\\udbff\\udfff max"),
    C("<ctrl46>Image size: (8, 8)\\nkept line\\n<ctrl46>Image generated.\\n"),
    C("<ctrl46>only a status line\\n"),
    C("**Generating Response**\\n\\nunflagged thinking heading"),
    C("  \\n**Drafting the Response** with leading whitespace"),
    C(""),
    C("raw \xff\xfe invalid UTF-8 passes through"),
    CT("thought as string", "\"true\""),
    CT("thought false", "false"),
    CT("thought \\\"false\\\" string", "\"false\""),
    CT("**Assessing the Request** flagged false", "false"),
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\"}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"adkAuthor\":\"root_agent\",\"replies\":[{\"replyId\":\"r1\","
    "\"groundedContent\":{\"content\":{\"thought\":\"true\",\"text\":\"b\",\"role\":\"model\"}}},"
    "{\"groundedContent\":{\"content\":{\"role\":\"model\"}}},"
    "{\"groundedContent\":{\"content\":{\"text\":\"\"}}},"
    "{\"groundedContent\":{\"content\":{\"text\":\"second\"}}}],\"state\":\"IN_PROGRESS\"},"
    "\"assistToken\":\"t\",\"sessionInfo\":{\"turnId\":\"t-1\",\"session\":\"projects/1/sessions/2\",\"queryId\":\"q\"}},"
    "\"uToken\":\"u\"}",
    "{\"streamAssistResponse\":{\"sessionInfo\":{\"session\":\"\"},\"answer\":{\"state\":\"IN_PROGRESS\"}}}",
    " \r\n\t{ \"streamAssistResponse\" :\t{ \"answer\" :\r\n{ \"state\" : \"IN_PROGRESS\" , \"replies\" : [ { "
    "\"groundedContent\" : { \"content\" : { \"text\" : \"tabs\" } } } ] } } } \r\n\t ",
};

static const char *const slow_cases[] = {
    "",
    "{}",
    "[]",
    "null",
    "{\"streamAssistResponse\":{}}",
    "{\"streamAssistResponse\":{\"answer\":{}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"SUCCEEDED\"}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"FAILED\"}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"SKIPPED\",\"assistSkippedReasons\":[\"X\"]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRES\\u0053\"}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"name\":\"n\",\"state\":\"IN_PROGRESS\"}}}",
    "{\"error\":{\"code\":429,\"message\":\"Resource has been exhausted\",\"status\":\"RESOURCE_EXHAUSTED\"}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"groundedContent\":"
    "{\"content\":{\"role\":\"model\",\"file\":{\"fileId\":\"f1\",\"mimeType\":\"image/png\",\"name\":\"a.png\"}}}}]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"groundedContent\":"
    "{\"content\":{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"AAAA\"}}}}]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"content\":{\"text\":\"no gc\"}}]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"groundedContent\":"
    "{\"content\":{\"text\":\"a\"},\"textGroundingMetadata\":{}}}]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"groundedContent\":"
    "{\"content\":{\"text\":\"a\",\"text\":\"b\"}}}]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\"}},\"streamAssistResponse\":{}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"groundedContent\":"
    "{\"content\":{\"te\\u0078t\":\"escaped key\"}}}]}}}",
    CT("number thought", "1"),
    CT("null thought", "null"),
    CT("object thought", "{}"),
    CT("other string", "\"yes\""),
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"groundedContent\":"
    "{\"content\":{\"text\":42}}}]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"groundedContent\":"
    "{\"content\":{\"text\":[\"a\"]}}}]}}}",
    "{\"uToken\":7,\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\"}}}",
    "{\"uToken\":null,\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\"}}}",
    C("bad escape \\x"),
    C("bad escape \\a"),
    C("lone high \\ud83d end"),
    C("lone high at end \\ud83d"),
    C("lone low \\ude00"),
    C("reversed \\ude00\\ud83d"),
    C("high then BMP \\ud83d\\u0041"),
    C("nul \\u0000 cut"),
    C("bad hex \\uZZZZ"),
    C("short hex \\u12"),
    C("raw \x01 control"),
    C("raw \t tab"),
    "\xef\xbb\xbf" C("BOM"),
    C("trailing") "x",
    C("trailing") "}",
    C("two") C("objects"),
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"groundedContent\":"
    "{\"content\":{\"text\":\"a\"}}},]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[{\"groundedContent\":"
    "{\"content\":{\"text\":\"truncated",
    "{\"streamAssistResponse\":{\"answer\":{\"replies\":[{\"groundedContent\":{\"content\":{\"text\":\"no state\"}}}]}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\"},\"sessionInfo\":{\"session\":\"s\",\"other\":1}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\"},\"sessionInfo\":{\"session\":5}}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\"},\"sessionInfo\":[]}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\"}},\"error\":{\"code\":1}}",
    "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\"}}} \x0b",
    "{\"streamAssistResponse\"\x0b:{\"answer\":{\"state\":\"IN_PROGRESS\"}}}",
};

static void test_fixed(void)
{
    for (size_t i = 0; i < sizeof fast_cases / sizeof fast_cases[0]; i++) {
        bool h = diff1(fast_cases[i], strlen(fast_cases[i]));
        if (!h)
            fprintf(stderr, "fast case %zu declined\n", i);
        TT_CHECK(h);
    }
    for (size_t i = 0; i < sizeof slow_cases / sizeof slow_cases[0]; i++) {
        bool h = diff1(slow_cases[i], strlen(slow_cases[i]));
        if (h)
            fprintf(stderr, "slow case %zu handled\n", i);
        TT_CHECK(!h);
    }
    /* an element longer than the hook's stack buffer */
    struct gg_buf big;
    gg_buf_init(&big, 1u << 20);
    gg_buf_adds(&big, "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":["
                      "{\"groundedContent\":{\"content\":{\"text\":\"");
    for (int i = 0; i < 3000; i++)
        gg_buf_adds(&big, "ab\\u4e2d\\n");
    gg_buf_adds(&big, "\"}}}]}}}");
    TT_CHECK(diff1(big.p, big.len));
    gg_buf_free(&big);
}

/* Decoded bytes, thought flags and session, checked directly. */
static void test_decode(void)
{
    static const char e[] =
        "{\"streamAssistResponse\":{\"sessionInfo\":{\"session\":\"p\\/s\"},\"answer\":{\"state\":\"IN_PROGRESS\","
        "\"replies\":[{\"groundedContent\":{\"content\":{\"text\":\"a\\u00e9\\u4e2d\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\","
        "\"thought\":true}}},{\"groundedContent\":{\"content\":{\"thought\":\"true\",\"text\":\"\\u6625x\"}}},"
        "{\"groundedContent\":{\"content\":{\"text\":\"plain\"}}}]}}}";
    char buf[sizeof e];
    struct xfast_result r;
    TT_CHECK(xfast_parse(e, strlen(e), buf, sizeof buf, &r));
    TT_EQ_INT(r.ntext, 3);
    TT_EQ_STR(r.text[0].s, "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"\\/\b\f\n\r\t");
    TT_EQ_INT(r.text[0].n, strlen(r.text[0].s));
    TT_CHECK(r.text[0].thought);
    TT_EQ_STR(r.text[1].s, "\xe6\x98\xa5x");
    TT_CHECK(r.text[1].thought);
    TT_EQ_STR(r.text[2].s, "plain");
    TT_CHECK(!r.text[2].thought);
    TT_EQ_STR(r.session, "p/s");
    TT_EQ_INT(r.session_len, 3);
    /* a buffer too small is "not handled", never an overflow */
    char small[8];
    TT_CHECK(!xfast_parse(e, strlen(e), small, sizeof small, &r));
    /* 17 texts: more than XFAST_MAX_TEXTS */
    struct gg_buf b;
    gg_buf_init(&b, 1u << 16);
    gg_buf_adds(&b, "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":[");
    for (int i = 0; i < XFAST_MAX_TEXTS + 1; i++)
        gg_buf_printf(&b, "%s{\"groundedContent\":{\"content\":{\"text\":\"t%d\"}}}", i ? "," : "", i);
    gg_buf_adds(&b, "]}}}");
    TT_CHECK(!diff1(b.p, b.len));
    gg_buf_free(&b);
}

/* Thought routing depends on earlier elements (answer_seen): sequences. */
static void test_sequence(void)
{
    static const char *const seq[] = {
        C("**Assessing the Request**\\n\\nunflagged"),
        CT("**Generating Response**\\n\\nflagged", "true"),
        C("answer starts"),
        C("**Generating Response** now part of the answer"),
        "{\"streamAssistResponse\":{\"answer\":{\"state\":\"SUCCEEDED\"},\"sessionInfo\":{\"session\":\"s/1\"}}}",
    };
    struct run f, c;
    run_init(&f, true);
    run_init(&c, false);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        run_elem(&f, seq[i], strlen(seq[i]));
        run_elem(&c, seq[i], strlen(seq[i]));
    }
    TT_CHECK(same_log(&f, &c));
    TT_CHECK(strstr(f.log.p, "R36:**Assessing the Request**\n\nunflagged|") != NULL);
    TT_CHECK(strstr(f.log.p, "T46:**Generating Response** now part of the answer|") != NULL);
    gg_buf_free(&f.log);
    gg_buf_free(&c.log);
}

/* ------------------------------------------------------------ random cases */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void gen_ws(struct gg_buf *b, int layout)
{
    static const char *const w[] = {" ", "\n", "\r\n", "\t", "  ", "\n      "};
    if (layout == 1)
        gg_buf_adds(b, "\n  ");
    else if (layout == 2)
        for (uint32_t k = rnd(3); k > 0; k--)
            gg_buf_adds(b, w[rnd(6)]);
}

static void gen_text(struct gg_buf *b)
{
    static const char *const pieces[] = {
        "a", "hello ", "\xe6\x98\xa5\xe7\x9c\xa0", "\xf0\x9f\x98\x80", "\\n", "\\t", "\\\"", "\\\\", "\\/",
        "\\b", "\\f", "\\r", "\\u00e9", "\\u4E2D", "\\ud83d\\ude00", "\\uDBFF\\uDFFF", "<ctrl46>status\\n",
        "**Assessing the Request**", "**Generating Response**\\n\\n", " ", "\xc3\xbc", "`code`",
    };
    if (rnd(4) == 0)
        gg_buf_adds(b, pieces[17 + rnd(2)]);
    for (uint32_t k = rnd(12); k > 0; k--) {
        if (rnd(10) == 0) {
            uint32_t cp = 1 + rnd(0xFFFE);
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0x263A;
            gg_buf_printf(b, rnd(2) ? "\\u%04x" : "\\u%04X", cp);
        } else {
            gg_buf_adds(b, pieces[rnd(sizeof pieces / sizeof pieces[0])]);
        }
    }
}

/* members: shuffled order of n strings */
static void shuffle(const char **v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd((uint32_t)i);
        const char *t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static void val(struct gg_buf *b, int layout, const char *key);

static void gen_obj(struct gg_buf *b, int layout, const char **keys, size_t n, void (*fn)(struct gg_buf *, int, const char *))
{
    shuffle(keys, n);
    gg_buf_addc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            gg_buf_addc(b, ',');
        gen_ws(b, layout);
        gg_buf_printf(b, "\"%s\"", keys[i]);
        if (layout)
            gg_buf_adds(b, layout == 1 ? ": " : " : ");
        else
            gg_buf_addc(b, ':');
        fn(b, layout, keys[i]);
    }
    gen_ws(b, layout);
    gg_buf_addc(b, '}');
}

static void val(struct gg_buf *b, int layout, const char *key)
{
    const char *keys[4];
    size_t n = 0;
    if (!strcmp(key, "streamAssistResponse")) {
        keys[n++] = "answer";
        if (rnd(3) == 0)
            keys[n++] = "sessionInfo";
        if (rnd(3) == 0)
            keys[n++] = "assistToken";
    } else if (!strcmp(key, "answer")) {
        keys[n++] = "state";
        if (rnd(8))
            keys[n++] = "replies";
        if (rnd(2))
            keys[n++] = "adkAuthor";
    } else if (!strcmp(key, "sessionInfo")) {
        if (rnd(2))
            keys[n++] = "session";
        if (rnd(3) == 0)
            keys[n++] = "queryId";
        if (rnd(3) == 0)
            keys[n++] = "turnId";
    } else if (!strcmp(key, "groundedContent")) {
        keys[n++] = "content";
    } else if (!strcmp(key, "content")) {
        if (rnd(10))
            keys[n++] = "text";
        if (rnd(2))
            keys[n++] = "role";
        if (rnd(2))
            keys[n++] = "thought";
    } else if (!strcmp(key, "state")) {
        gg_buf_adds(b, "\"IN_PROGRESS\"");
        return;
    } else if (!strcmp(key, "replies")) {
        gg_buf_addc(b, '[');
        for (uint32_t i = 0, k = rnd(4); i < k; i++) {
            const char *rk[2] = {"groundedContent", "replyId"};
            if (i)
                gg_buf_addc(b, ',');
            gen_ws(b, layout);
            gen_obj(b, layout, rk, rnd(4) ? 1 : 2, val);
        }
        gen_ws(b, layout);
        gg_buf_addc(b, ']');
        return;
    } else if (!strcmp(key, "text")) {
        gg_buf_addc(b, '"');
        gen_text(b);
        gg_buf_addc(b, '"');
        return;
    } else if (!strcmp(key, "thought")) {
        static const char *const forms[] = {"true", "false", "\"true\"", "\"false\""};
        gg_buf_adds(b, forms[rnd(4)]);
        return;
    } else if (!strcmp(key, "session")) {
        gg_buf_adds(b, rnd(4) ? "\"projects/372889301682/locations/global/sessions/1839\"" : "\"\"");
        return;
    } else {
        gg_buf_printf(b, "\"%s-%u\"", key, rnd(1000));
        return;
    }
    gen_obj(b, layout, keys, n, val);
}

static void gen_element(struct gg_buf *b)
{
    const char *keys[2] = {"streamAssistResponse", "uToken"};
    gen_obj(b, (int)rnd(3), keys, rnd(3) ? 1 : 2, val);
}

static void mutate(struct gg_buf *b)
{
    static const char bytes[] = "{}[]\",:\\u0 \x01\xff" "aetn";
    for (uint32_t k = 1 + rnd(3); k > 0 && b->len > 0; k--) {
        size_t at = rnd((uint32_t)b->len);
        switch (rnd(3)) {
        case 0:
            b->p[at] = bytes[rnd(sizeof bytes - 1)];
            break;
        case 1:
            memmove(b->p + at, b->p + at + 1, b->len - at - 1);
            b->len--;
            break;
        default:
            if (gg_buf_addc(b, 0) == 0) {
                memmove(b->p + at + 1, b->p + at, b->len - at - 1);
                b->p[at] = bytes[rnd(sizeof bytes - 1)];
            }
        }
    }
}

static void test_random_elements(void)
{
    int declined_valid = 0, mutated_handled = 0;
    for (int i = 0; i < 4000; i++) {
        struct gg_buf b;
        gg_buf_init(&b, 1u << 20);
        gen_element(&b);
        if (!diff1(b.p, b.len)) {
            if (declined_valid++ < 3)
                fprintf(stderr, "generated element declined: %s\n", b.p);
        }
        for (int m = 0; m < 4; m++) {
            struct gg_buf c;
            gg_buf_init(&c, 1u << 20);
            gg_buf_add(&c, b.p, b.len);
            mutate(&c);
            if (diff1(c.p, c.len))
                mutated_handled++;
            gg_buf_free(&c);
        }
        gg_buf_free(&b);
    }
    TT_EQ_INT(declined_valid, 0);
    TT_CHECK(mutated_handled > 0);   /* some mutations (in text) stay common */
}

static int feed_cb(void *ctx, const char *e, size_t n)
{
    run_elem(ctx, e, n);
    return 0;
}

/* Whole streams: fast path fed in random chunks == cJSON fed in one piece. */
static void test_random_streams(void)
{
    for (int i = 0; i < 300; i++) {
        struct gg_buf body;
        gg_buf_init(&body, 16u << 20);
        gg_buf_addc(&body, '[');
        for (uint32_t k = 0, n = 1 + rnd(12); k < n; k++) {
            if (k)
                gg_buf_adds(&body, rnd(2) ? "\n,\r\n" : ",");
            if (rnd(8) == 0)
                gg_buf_adds(&body, slow_cases[5 + rnd(8)]);
            else
                gen_element(&body);
        }
        gg_buf_addc(&body, ']');
        struct run f, c;
        struct splitter sf, sc;
        run_init(&f, true);
        run_init(&c, false);
        split_init(&sf, 1u << 20);
        split_init(&sc, 1u << 20);
        for (size_t off = 0; off < body.len;) {
            size_t step = 1 + rnd(rnd(2) ? 7 : 300);
            if (step > body.len - off)
                step = body.len - off;
            TT_EQ_INT(split_feed(&sf, body.p + off, step, feed_cb, &f), 0);
            off += step;
        }
        TT_EQ_INT(split_feed(&sc, body.p, body.len, feed_cb, &c), 0);
        TT_EQ_INT(split_finish(&sf), SPLIT_COMPLETE);
        TT_CHECK(same_log(&f, &c));
        split_free(&sf);
        split_free(&sc);
        gg_buf_free(&f.log);
        gg_buf_free(&c.log);
        gg_buf_free(&body);
    }
}

/* XLATE_FASTPATH=0 turns the fast path off for new translators. */
static void test_switch(void)
{
    struct run r;
    setenv("XLATE_FASTPATH", "0", 1);
    run_init(&r, true);
    TT_CHECK(!r.x.fastpath);
    gg_buf_free(&r.log);
    unsetenv("XLATE_FASTPATH");
    run_init(&r, true);
    TT_CHECK(r.x.fastpath);
    gg_buf_free(&r.log);
    run_init(&r, false);
    TT_CHECK(!r.x.fastpath);
    gg_buf_free(&r.log);
}

int main(void)
{
    TT_RUN(test_fixed);
    TT_RUN(test_decode);
    TT_RUN(test_sequence);
    TT_RUN(test_random_elements);
    TT_RUN(test_random_streams);
    TT_RUN(test_switch);
    printf("fast path took %d elements, declined %d\n", n_handled, n_declined);
    return TT_REPORT();
}
