/* fuzz_xfast.c -- differential libFuzzer harness: daemon/xfast.c (the fast
 * path for the common element) against the cJSON translator in xlate.c.
 *
 * Each input is used three ways:
 *   - as one element: xlate_element() with the fast path on and off must
 *     make the same sink calls (callback, bytes, thought flag, order) and
 *     return the same value;
 *   - as a stream body through the splitter, every element to one
 *     translator per path (thought routing depends on earlier elements):
 *     the whole call sequences must be the same;
 *   - xfast_parse() directly with an exact-size heap buffer and with a
 *     smaller one (size from the input's hash): no overflow, and a result
 *     from the small buffer equals the one from the big buffer;
 *   - as the raw inside of the `text` string of a common element (and of
 *     the session string), so the string decoder (escapes, \u, surrogates,
 *     controls, raw UTF-8) meets cJSON on nearly every input: same calls;
 *   - as choices for a generator of common elements (key order, optional
 *     members, layout, thought forms, text pieces and raw input slices),
 *     so most inputs also reach the fast path's accepting side.
 * Counts how often the fast path took an element (printed at exit) so a
 * corpus that never reaches it shows.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "gg_buf.h"
#include "splitter.h"
#include "xfast.h"
#include "xlate.h"

static void rec(void *ctx, char tag, const char *s, size_t n)
{
    struct gg_buf *b = ctx;
    if (!s) {
        FUZZ_CHECK(gg_buf_printf(b, "%c-|", tag) == 0);
        return;
    }
    FUZZ_CHECK(gg_buf_printf(b, "%c%zu:", tag, n) == 0);
    FUZZ_CHECK(gg_buf_add(b, s, n) == 0);
    FUZZ_CHECK(gg_buf_addc(b, '|') == 0);
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
    FUZZ_CHECK(gg_buf_printf(ctx, "E%d|", code) == 0);
    rec(ctx, 's', status, status ? strlen(status) : 0);
    rec(ctx, 'M', message, message ? strlen(message) : 0);
}

struct run {
    struct gg_buf log;
    struct xlate x;
    int last_rc;
};

static void run_init(struct run *r, bool fast)
{
    gg_buf_init(&r->log, 1u << 26);
    struct xlate_sink sink = {&r->log, on_text, on_file, on_session, on_state, on_error};
    xlate_fastpath = fast;
    xlate_init(&r->x, &sink);
    FUZZ_CHECK(r->x.fastpath == fast);
}

static int run_elem(void *ctx, const char *e, size_t n)
{
    struct run *r = ctx;
    int rc = xlate_element(&r->x, e, n);
    r->last_rc = rc;
    FUZZ_CHECK(gg_buf_printf(&r->log, "=%d,%zu\n", rc, r->x.elements) == 0);
    return 0;
}

static void same_log(const struct run *a, const struct run *b)
{
    if (a->log.len == b->log.len && (a->log.len == 0 || memcmp(a->log.p, b->log.p, a->log.len) == 0))
        return;
    fprintf(stderr, "fast:  %.*s\ncjson: %.*s\n", (int)a->log.len, a->log.p ? a->log.p : "",
            (int)b->log.len, b->log.p ? b->log.p : "");
    FUZZ_CHECK(!"fast path and cJSON disagree");
}

static size_t n_inputs, n_handled, n_wrapped, n_generated;

static void report(void)
{
    fprintf(stderr, "fuzz_xfast: fast path took %zu of %zu inputs as one element, %zu as a wrapped text, "
            "%zu generated elements\n", n_handled, n_inputs, n_wrapped, n_generated);
}

/* The input as the inside of the text (and session) string of a common
 * element; the thought flag form and layout come from the hash. */
static void wrapped(const char *in, size_t size, uint64_t h)
{
    static const char *const thoughts[] = {"", ",\"thought\":true", ",\"thought\":\"true\"", ",\"thought\":false"};
    struct gg_buf e;
    gg_buf_init(&e, 1u << 20);
    FUZZ_CHECK(gg_buf_adds(&e, (h & 4) ? "{\n  \"streamAssistResponse\": {\n    \"answer\": {\n"
                                         "      \"state\": \"IN_PROGRESS\",\n      \"replies\": [\n        {\n"
                                         "          \"groundedContent\": {\n            \"content\": {\n"
                                         "              \"role\": \"model\",\n              \"text\": \""
                                       : "{\"streamAssistResponse\":{\"answer\":{\"state\":\"IN_PROGRESS\",\"replies\":"
                                         "[{\"groundedContent\":{\"content\":{\"text\":\"") == 0);
    FUZZ_CHECK(gg_buf_add(&e, in, size) == 0);
    FUZZ_CHECK(gg_buf_printf(&e, "\"%s}}}]},\"sessionInfo\":{\"session\":\"", thoughts[h & 3]) == 0);
    if (h & 8)
        FUZZ_CHECK(gg_buf_add(&e, in, size) == 0);
    FUZZ_CHECK(gg_buf_adds(&e, "\"}}}") == 0);
    struct xfast_result r;
    char *buf = malloc(e.len + 1);
    FUZZ_CHECK(buf);
    if (xfast_parse(e.p, e.len, buf, e.len + 1, &r))
        n_wrapped++;
    free(buf);
    struct run f, c;
    run_init(&f, true);
    run_init(&c, false);
    run_elem(&f, e.p, e.len);
    run_elem(&c, e.p, e.len);
    same_log(&f, &c);
    gg_buf_free(&f.log);
    gg_buf_free(&c.log);
    gg_buf_free(&e);
}

static bool same_result(const struct xfast_result *a, const struct xfast_result *b)
{
    if (a->ntext != b->ntext || !a->session != !b->session)
        return false;
    if (a->session && (a->session_len != b->session_len || memcmp(a->session, b->session, a->session_len)))
        return false;
    for (size_t i = 0; i < a->ntext; i++) {
        if (a->text[i].n != b->text[i].n || a->text[i].thought != b->text[i].thought ||
            memcmp(a->text[i].s, b->text[i].s, a->text[i].n) != 0)
            return false;
    }
    return true;
}

/* ---- generated elements: the input is the generator's choices ---------- */

struct gen {
    const uint8_t *p;
    size_t n;
    struct gg_buf *b;
    int layout;     /* 0 compact, 1 pretty, 2 odd whitespace */
};

static unsigned pick(struct gen *g, unsigned mod)
{
    if (!g->n)
        return 0;
    g->n--;
    return *g->p++ % mod;
}

static void g_add(struct gen *g, const char *s)
{
    FUZZ_CHECK(gg_buf_adds(g->b, s) == 0);
}

static void g_ws(struct gen *g)
{
    static const char *const w[] = {" ", "\n", "\r\n", "\t", "\n        "};
    if (g->layout == 1)
        g_add(g, "\n  ");
    else if (g->layout == 2)
        for (unsigned k = pick(g, 3); k > 0; k--)
            g_add(g, w[pick(g, 5)]);
}

static void g_text(struct gen *g)
{
    static const char *const good[] = {
        "a", "hello ", "\xe6\x98\xa5\xe7\x9c\xa0", "\xf0\x9f\x98\x80", "\\n", "\\\"", "\\\\", "\\/", "\\b",
        "\\u00e9", "\\u4E2D", "\\ud83d\\ude00", "<ctrl46>st\\n", "**Assessing the Request**",
        "**Generating Response**", " ",
    };
    static const char *const bad[] = {"\\ud83d", "\\ude00", "\\u0000", "\\u", "\\x", "\x01"};
    const unsigned ngood = sizeof good / sizeof good[0];
    g_add(g, "\"");
    for (unsigned k = pick(g, 8); k > 0; k--) {
        unsigned c = pick(g, 2 * ngood + 2);
        if (c < 2 * ngood) {
            g_add(g, good[c % ngood]);
        } else if (c == 2 * ngood) {
            g_add(g, bad[pick(g, sizeof bad / sizeof bad[0])]);
        } else {    /* a raw slice of the input */
            size_t len = pick(g, 16);
            if (len > g->n)
                len = g->n;
            FUZZ_CHECK(gg_buf_add(g->b, g->p, len) == 0);
            g->p += len;
            g->n -= len;
        }
    }
    g_add(g, "\"");
}

static void g_value(struct gen *g, const char *key);

/* An object with keys[0..n) in an input-chosen order. */
static void g_obj(struct gen *g, const char **keys, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = pick(g, (unsigned)i);
        const char *t = keys[i - 1];
        keys[i - 1] = keys[j];
        keys[j] = t;
    }
    g_add(g, "{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            g_add(g, ",");
        g_ws(g);
        FUZZ_CHECK(gg_buf_printf(g->b, "\"%s\"%s", keys[i], g->layout ? ": " : ":") == 0);
        g_value(g, keys[i]);
    }
    g_ws(g);
    g_add(g, "}");
}

static void g_value(struct gen *g, const char *key)
{
    const char *k[4];
    size_t n = 0;
    if (!strcmp(key, "streamAssistResponse")) {
        k[n++] = "answer";
        if (pick(g, 2))
            k[n++] = "sessionInfo";
        if (pick(g, 2))
            k[n++] = "assistToken";
    } else if (!strcmp(key, "answer")) {
        k[n++] = "state";
        if (pick(g, 8))
            k[n++] = "replies";
        if (pick(g, 2))
            k[n++] = "adkAuthor";
    } else if (!strcmp(key, "sessionInfo")) {
        if (pick(g, 2))
            k[n++] = "session";
        if (pick(g, 2))
            k[n++] = "queryId";
    } else if (!strcmp(key, "groundedContent")) {
        k[n++] = "content";
    } else if (!strcmp(key, "content")) {
        if (pick(g, 8))
            k[n++] = "text";
        if (pick(g, 2))
            k[n++] = "role";
        if (pick(g, 2))
            k[n++] = "thought";
    } else if (!strcmp(key, "replies")) {
        g_add(g, "[");
        for (unsigned i = 0, m = pick(g, 4); i < m; i++) {
            const char *rk[2] = {"groundedContent", "replyId"};
            if (i)
                g_add(g, ",");
            g_ws(g);
            g_obj(g, rk, pick(g, 4) ? 1 : 2);
        }
        g_ws(g);
        g_add(g, "]");
        return;
    } else if (!strcmp(key, "state")) {
        g_add(g, "\"IN_PROGRESS\"");
        return;
    } else if (!strcmp(key, "thought")) {
        static const char *const forms[] = {"true", "false", "\"true\"", "\"false\""};
        g_add(g, forms[pick(g, 4)]);
        return;
    } else {
        g_text(g);
        return;
    }
    g_obj(g, k, n);
}

static void generated(const uint8_t *data, size_t size)
{
    struct gg_buf e;
    gg_buf_init(&e, 1u << 20);
    struct gen g = {data, size, &e, 0};
    g.layout = (int)pick(&g, 3);
    const char *keys[2] = {"streamAssistResponse", "uToken"};
    g_obj(&g, keys, pick(&g, 2) ? 1 : 2);
    struct xfast_result r;
    char *buf = malloc(e.len + 1);
    FUZZ_CHECK(buf);
    if (xfast_parse(e.p, e.len, buf, e.len + 1, &r))
        n_generated++;
    free(buf);
    struct run f, c;
    run_init(&f, true);
    run_init(&c, false);
    run_elem(&f, e.p, e.len);
    run_elem(&c, e.p, e.len);
    same_log(&f, &c);
    gg_buf_free(&f.log);
    gg_buf_free(&c.log);
    gg_buf_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        once = true;
        atexit(report);
    }
    const char *in = (const char *)data;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;

    /* xfast_parse directly: exact-size and smaller buffers */
    struct xfast_result big, small;
    char *b1 = malloc(size + 1);
    FUZZ_CHECK(b1);
    bool h1 = xfast_parse(in, size, b1, size + 1, &big);
    size_t cap2 = 1 + (size_t)(h % (size + 1));
    char *b2 = malloc(cap2);
    FUZZ_CHECK(b2);
    bool h2 = xfast_parse(in, size, b2, cap2, &small);
    if (h2) {
        FUZZ_CHECK(h1);
        FUZZ_CHECK(same_result(&big, &small));
    }
    if (h1) {
        n_handled++;
        for (size_t i = 0; i < big.ntext; i++)
            FUZZ_CHECK(big.text[i].n > 0 && strlen(big.text[i].s) == big.text[i].n);
        if (big.session)
            FUZZ_CHECK(big.session_len > 0 && strlen(big.session) == big.session_len);
    }
    n_inputs++;
    free(b1);
    free(b2);

    /* one element, both paths */
    struct run f, c;
    run_init(&f, true);
    run_init(&c, false);
    run_elem(&f, in, size);
    run_elem(&c, in, size);
    same_log(&f, &c);
    if (h1)
        FUZZ_CHECK(c.last_rc == 0 && c.x.elements == 1);   /* cJSON accepted what xfast took */
    gg_buf_free(&f.log);
    gg_buf_free(&c.log);

    /* as a stream through the splitter, both paths */
    struct splitter sf, sc;
    run_init(&f, true);
    run_init(&c, false);
    split_init(&sf, 1u << 20);
    split_init(&sc, 1u << 20);
    int rf = split_feed(&sf, in, size, run_elem, &f);
    int rs = split_feed(&sc, in, size, run_elem, &c);
    FUZZ_CHECK(rf == rs);
    same_log(&f, &c);
    split_free(&sf);
    split_free(&sc);
    gg_buf_free(&f.log);
    gg_buf_free(&c.log);

    wrapped(in, size, h);
    generated(data, size);
    xlate_fastpath = true;
    return 0;
}
