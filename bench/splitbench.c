/* splitbench.c -- microbenchmark of daemon/splitter.c and daemon/xlate.c.
 *
 * Builds an in-memory widgetStreamAssist body of about --mb MB (default 100)
 * in the pretty layout of protocol doc §5.4 / the fake upstream (2-space
 * indent, elements separated by "\n,\r\n"): two thought elements, then
 * answer-fragment elements whose texts cycle through CJK, English with
 * escapes (\n, \", \\) and markdown, then the SUCCEEDED element.  Then it
 * times, best of --reps runs:
 *   memchr-absent   memchr() for a byte that never occurs (memory-scan ceiling)
 *   memchr-quote    memchr() hopping over every '"' (structural-byte scan)
 *   split           split_feed() in 16 KiB chunks (curl's write size)
 *   split-1MiB      split_feed() in 1 MiB chunks
 *   split+xlate     split_feed() 16 KiB + xlate_element() per element, cJSON
 *                   only (xlate_fastpath off: the translator before xfast.c)
 *   split+xfast     the same with the fast path on (daemon/xfast.c)
 *   xlate / xfast   xlate_element() alone over the elements in place (no
 *                   splitter), cJSON only / fast path on
 * and prints one JSON object with MB/s (1 MB = 1e6 bytes) and elements/s.
 * The two translator variants must report the same text bytes and
 * callbacks (a checksum), else it exits 1.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "splitter.h"
#include "xlate.h"

static char *body;
static size_t blen, bcap;
/* where each element lies in body (for the translator-only runs) */
static size_t *eoff, *elen, n_eoff, eoff_cap;

static void mark(size_t start)
{
    if (n_eoff == eoff_cap) {
        eoff_cap = eoff_cap ? eoff_cap * 2 : 1024;
        eoff = realloc(eoff, eoff_cap * sizeof(*eoff));
        elen = realloc(elen, eoff_cap * sizeof(*elen));
        if (!eoff || !elen) {
            fprintf(stderr, "splitbench: out of memory\n");
            exit(2);
        }
    }
    eoff[n_eoff] = start;
    elen[n_eoff++] = blen - start;
}

static void add(const char *s)
{
    size_t n = strlen(s);
    if (blen + n > bcap) {
        bcap = (blen + n) * 2;
        body = realloc(body, bcap);
        if (!body) {
            fprintf(stderr, "splitbench: out of memory\n");
            exit(2);
        }
    }
    memcpy(body + blen, s, n);
    blen += n;
}

static const char *frags[] = {
    "春眠不觉晓，",
    "处处闻啼鸟。",
    "The quick brown fox jumps over the lazy dog, ",
    "and then \\\"quotes\\\" itself.\\n\\n",
    "## Heading\\n\\n- item one\\n- item two with `code` and a path C:\\\\tmp\\\\x\\n",
    "夜来风雨声，花落知多少。",
    "Here is a longer sentence that a model might stream in one piece when the connection is fast "
    "enough to batch several tokens together before the server flushes its buffer. ",
    "```c\\nint main(void) { return 0; }\\n```\\n",
    "Ünïcödé ✓ — mixed 😀 text. ",
    "ok",
};

static void element_text(const char *text, int thought, int first)
{
    size_t start = blen;
    add("{\n");
    if (first)
        add("  \"uToken\": \"d11e75de276bfa6a0520258ba9f8abaa7ce2a37a\",\n");
    add("  \"streamAssistResponse\": {\n    \"answer\": {\n      \"state\": \"IN_PROGRESS\",\n"
        "      \"replies\": [\n        {\n          \"groundedContent\": {\n            \"content\": {\n"
        "              \"role\": \"model\",\n              \"text\": \"");
    add(text);
    add(thought ? "\",\n              \"thought\": true\n" : "\"\n");
    add("            }\n          }\n        }\n      ],\n      \"adkAuthor\": \"root_agent\"\n    }");
    if (first)
        add(",\n    \"sessionInfo\": {},\n    \"assistToken\": \"a27a7ebfb18eeb6d27259608597bfff64ac5f233\"");
    add("\n  }\n}");
    mark(start);
}

static void build(size_t target)
{
    add("[");
    element_text("**Assessing the Request**\\n\\nThe user wants a poem about spring.", 1, 1);
    add("\n,\r\n");
    element_text("**Generating Response**\\n\\nDrafting the lines now.", 1, 0);
    size_t k = 0;
    while (blen < target) {
        add("\n,\r\n");
        element_text(frags[k++ % (sizeof frags / sizeof frags[0])], 0, 0);
    }
    add("\n,\r\n");
    size_t start = blen;
    add("{\n  \"streamAssistResponse\": {\n    \"answer\": {\n      \"name\": \"projects/372889301682/locations/"
        "global/collections/default_collection/engines/agentspace-engine/sessions/18399586466940005660/answers/"
        "9f2c\",\n      \"state\": \"SUCCEEDED\"\n    },\n    \"sessionInfo\": {\n      \"session\": \"projects/"
        "372889301682/locations/global/collections/default_collection/engines/agentspace-engine/sessions/"
        "18399586466940005660\",\n      \"queryId\": \"q-1\",\n      \"turnId\": \"t-1\"\n    }\n  }\n}");
    mark(start);
    add("\n]");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t n_elems, text_bytes;
static uint64_t sum;        /* checksum of everything the sink saw */
static struct xlate xl;

static void mix(const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++)
        sum = (sum ^ u[i]) * 1099511628211ull;
}

static int cb_count(void *ctx, const char *e, size_t n)
{
    (void)ctx;
    (void)e;
    (void)n;
    n_elems++;
    return 0;
}

static void on_text(void *ctx, const char *s, size_t n, bool thought)
{
    (void)ctx;
    text_bytes += n;
    if (ctx) {     /* checksum pass only: keep the timed runs lean */
        mix(s, n);
        mix(&thought, 1);
    }
}

static void on_state(void *ctx, const char *state, const char *detail)
{
    if (ctx) {
        mix(state, strlen(state));
        mix(detail ? detail : "-", detail ? strlen(detail) : 1);
    }
}

static void on_session(void *ctx, const char *s)
{
    if (ctx)
        mix(s, strlen(s));
}

static int cb_xlate(void *ctx, const char *e, size_t n)
{
    (void)ctx;
    n_elems++;
    return xlate_element(&xl, e, n) == 0 ? 0 : -1;
}

static void xl_init(int fast, void *ctx)
{
    struct xlate_sink sink = {.ctx = ctx, .text = on_text, .session = on_session, .state = on_state};
    xlate_fastpath = fast;
    xlate_init(&xl, &sink);
    if (xl.fastpath != (fast != 0)) {
        fprintf(stderr, "splitbench: XLATE_FASTPATH is set in the environment; unset it\n");
        exit(2);
    }
}

/* with_xlate: 0 split only, 1 + cJSON, 2 + fast path */
static double run_split(size_t chunk, int with_xlate)
{
    struct splitter s;
    split_init(&s, 16u << 20);
    n_elems = 0;
    text_bytes = 0;
    xl_init(with_xlate == 2, NULL);
    double t = now_s();
    for (size_t off = 0; off < blen; off += chunk) {
        size_t n = blen - off < chunk ? blen - off : chunk;
        int r = split_feed(&s, body + off, n, with_xlate ? cb_xlate : cb_count, NULL);
        if (r != 0) {
            fprintf(stderr, "splitbench: split_feed returned %d at %zu\n", r, off);
            exit(1);
        }
    }
    t = now_s() - t;
    if (split_finish(&s) != SPLIT_COMPLETE) {
        fprintf(stderr, "splitbench: body not complete\n");
        exit(1);
    }
    split_free(&s);
    return t;
}

/* The translator alone over the elements where they lie in body. */
static double run_xlate(int fast, void *ctx)
{
    text_bytes = 0;
    sum = 1469598103934665603ull;
    xl_init(fast, ctx);
    double t = now_s();
    for (size_t i = 0; i < n_eoff; i++) {
        if (xlate_element(&xl, body + eoff[i], elen[i]) != 0) {
            fprintf(stderr, "splitbench: element %zu rejected\n", i);
            exit(1);
        }
    }
    return now_s() - t;
}

static volatile size_t sink_v;

static double run_memchr(int c)
{
    double t = now_s();
    size_t hits = 0;
    const char *p = body, *end = body + blen;
    while (p < end) {
        const char *q = memchr(p, c, (size_t)(end - p));
        if (!q)
            break;
        hits++;
        p = q + 1;
    }
    sink_v = hits;
    return now_s() - t;
}

int main(int argc, char **argv)
{
    double mb = 100;
    int reps = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--mb"))
            mb = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
    }
    if (mb <= 0 || mb > 4000 || reps < 1 || reps > 100) {
        fprintf(stderr, "usage: splitbench [--mb 100] [--reps 3]\n");
        return 2;
    }
    build((size_t)(mb * 1e6));
    /* the two translators must agree before anything is timed */
    run_xlate(0, &sum);
    uint64_t sum_cjson = sum;
    size_t text_cjson = text_bytes;
    run_xlate(1, &sum);
    if (sum != sum_cjson || text_bytes != text_cjson) {
        fprintf(stderr, "splitbench: fast path and cJSON disagree (%zu vs %zu text bytes)\n", text_bytes, text_cjson);
        return 1;
    }
    struct { const char *name; double best; } r[] = {
        {"memchr_absent", 1e9}, {"memchr_quote", 1e9}, {"split_16k", 1e9}, {"split_1m", 1e9}, {"split_xlate_16k", 1e9},
        {"split_xfast_16k", 1e9}, {"xlate_cjson", 1e9}, {"xlate_fast", 1e9}};
    size_t elems = 0, texts = 0;
    for (int k = 0; k < reps; k++) {
        double t;
        t = run_memchr(0x01);
        if (t < r[0].best) r[0].best = t;
        t = run_memchr('"');
        if (t < r[1].best) r[1].best = t;
        t = run_split(16384, 0);
        if (t < r[2].best) r[2].best = t;
        elems = n_elems;
        t = run_split(1 << 20, 0);
        if (t < r[3].best) r[3].best = t;
        t = run_split(16384, 1);
        if (t < r[4].best) r[4].best = t;
        texts = text_bytes;
        t = run_split(16384, 2);
        if (t < r[5].best) r[5].best = t;
        if (text_bytes != texts) {
            fprintf(stderr, "splitbench: fast path text bytes differ\n");
            return 1;
        }
        t = run_xlate(0, NULL);
        if (t < r[6].best) r[6].best = t;
        t = run_xlate(1, NULL);
        if (t < r[7].best) r[7].best = t;
    }
    printf("{\"body_bytes\":%zu,\"elements\":%zu,\"text_bytes\":%zu,\"reps\":%d", blen, elems, texts, reps);
    for (size_t k = 0; k < sizeof r / sizeof r[0]; k++)
        printf(",\"%s_MBps\":%.1f", r[k].name, (double)blen / r[k].best / 1e6);
    printf(",\"split_xlate_elems_per_s\":%.0f,\"split_xfast_elems_per_s\":%.0f}\n", (double)elems / r[4].best,
           (double)elems / r[5].best);
    return 0;
}
