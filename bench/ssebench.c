/* ssebench.c -- microbenchmark of writing OpenAI chat.completion.chunk SSE
 * frames for content deltas, today's way against a copy-free way.
 *
 *   current   what upstream.c emit_delta() (and dialect/openai_chat.c
 *             delta() after the core split) does per delta: reset a scratch
 *             gg_buf, gg_buf_printf() the chunk header (id, created, model),
 *             gg_buf_printf() `{"index":0,"delta":{"<field>":`,
 *             gg_buf_add_json_str(), two or three gg_buf_adds(), then
 *             out_append() = lock, gg_buf_add(&call->out, scratch), unlock.
 *   direct    the frame's constant head (`data: {"id":...,"choices":[{"index":
 *             0,"delta":{"content":`) and tail (`},"logprobs":null,
 *             "finish_reason":null}]}\n\n`) are rendered once per call; per
 *             delta: lock, one gg_buf_reserve(&out, head + 6n + 2 + tail)
 *             (the worst case of the escape, so nothing after it can fail),
 *             memcpy the head, JSON-escape the text straight into out's
 *             storage (plain runs with memcpy), memcpy the tail, len += k,
 *             unlock.  No scratch buffer, no printf, one pass over the text.
 *
 * Both variants run over the same decoded fragments (those of splitbench:
 * CJK, English with quotes/backslashes/newlines, markdown, code, emoji); the
 * output buffer is drained (reset) every 1 MiB as the HTTP side would.  The
 * two must produce identical bytes (checked first, else exit 1).  Prints one
 * JSON object: frames/s and MB/s of text for each, best of --reps.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gg_buf.h"

static const char *frags[] = {
    "春眠不觉晓，",
    "处处闻啼鸟。",
    "The quick brown fox jumps over the lazy dog, ",
    "and then \"quotes\" itself.\n\n",
    "## Heading\n\n- item one\n- item two with `code` and a path C:\\tmp\\x\n",
    "夜来风雨声，花落知多少。",
    "Here is a longer sentence that a model might stream in one piece when the connection is fast "
    "enough to batch several tokens together before the server flushes its buffer. ",
    "```c\nint main(void) { return 0; }\n```\n",
    "Ünïcödé ✓ — mixed 😀 text. ",
    "ok",
};
#define NFRAG (sizeof frags / sizeof frags[0])

struct call {
    const char *id, *model;
    long long created;
    bool include_usage;
    pthread_mutex_t mu;
    struct gg_buf out;
    /* direct: pre-rendered frame parts */
    struct gg_buf head_content, head_reasoning, tail;
};

static struct gg_buf scratch = {NULL, 0, 0, 64u << 20};

/* ---- current ------------------------------------------------------------- */

static void out_append(struct call *c, const char *data, size_t n)
{
    pthread_mutex_lock(&c->mu);
    gg_buf_add(&c->out, data, n);
    pthread_mutex_unlock(&c->mu);
}

static void cur_delta(struct call *c, const char *field, const char *s, size_t n)
{
    struct gg_buf *b = &scratch;
    gg_buf_reset(b);
    gg_buf_printf(b, "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\",\"created\":%lld,"
                  "\"model\":\"%s\",\"system_fingerprint\":null,\"choices\":[",
                  c->id, c->created, c->model);
    gg_buf_printf(b, "{\"index\":0,\"delta\":{\"%s\":", field);
    gg_buf_add_json_str(b, s, n);
    gg_buf_adds(b, "},\"logprobs\":null,\"finish_reason\":null}");
    gg_buf_adds(b, "]");
    if (c->include_usage)
        gg_buf_adds(b, ",\"usage\":null");
    gg_buf_adds(b, "}\n\n");
    out_append(c, b->p, b->len);
}

/* ---- direct -------------------------------------------------------------- */

/* 0: copied as-is; else the letter after the backslash ('u': \u00XX) */
static unsigned char esc_tab[256];

static void esc_init(void)
{
    for (int i = 0; i < 0x20; i++)
        esc_tab[i] = 'u';
    esc_tab['"'] = '"';
    esc_tab['\\'] = '\\';
    esc_tab['\n'] = 'n';
    esc_tab['\r'] = 'r';
    esc_tab['\t'] = 't';
    esc_tab['\b'] = 'b';
    esc_tab['\f'] = 'f';
}

/* JSON-escape s (no quotes) to o, which has room for 6n bytes; returns the end. */
static char *escape_to(char *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s, *end = u + n;
    while (u < end) {
        const unsigned char *q = u;
        while (q < end && !esc_tab[*q])
            q++;
        memcpy(o, u, (size_t)(q - u));
        o += q - u;
        if (q == end)
            break;
        unsigned char ch = *q, e = esc_tab[ch];
        *o++ = '\\';
        *o++ = (char)e;
        if (e == 'u') {
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
        u = q + 1;
    }
    return o;
}

static void direct_init(struct call *c)
{
    static const char *const fields[2] = {"content", "reasoning_content"};
    struct gg_buf *heads[2] = {&c->head_content, &c->head_reasoning};
    for (int i = 0; i < 2; i++) {
        gg_buf_init(heads[i], 4096);
        gg_buf_adds(heads[i], "data: {\"id\":");
        gg_buf_add_json_str(heads[i], c->id, strlen(c->id));
        gg_buf_printf(heads[i], ",\"object\":\"chat.completion.chunk\",\"created\":%lld,\"model\":", c->created);
        gg_buf_add_json_str(heads[i], c->model, strlen(c->model));
        gg_buf_printf(heads[i], ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{\"%s\":\"", fields[i]);
    }
    gg_buf_init(&c->tail, 4096);
    gg_buf_adds(&c->tail, "\"},\"logprobs\":null,\"finish_reason\":null}]");
    if (c->include_usage)
        gg_buf_adds(&c->tail, ",\"usage\":null");
    gg_buf_adds(&c->tail, "}\n\n");
}

static int direct_delta(struct call *c, bool reasoning, const char *s, size_t n)
{
    const struct gg_buf *h = reasoning ? &c->head_reasoning : &c->head_content;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    if (n > (c->out.max - h->len - c->tail.len) / 6 ||
        gg_buf_reserve(&c->out, h->len + 6 * n + c->tail.len) != 0) {
        rc = -1;        /* the caller closes the stream: nothing was written */
        goto out;
    }
    char *o = c->out.p + c->out.len;
    memcpy(o, h->p, h->len);
    o = escape_to(o + h->len, s, n);
    memcpy(o, c->tail.p, c->tail.len);
    o += c->tail.len;
    *o = '\0';
    c->out.len = (size_t)(o - c->out.p);
out:
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- driver -------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t flens[NFRAG];

static double run(struct call *c, int direct, size_t frames, size_t *text)
{
    *text = 0;
    gg_buf_reset(&c->out);
    double t = now_s();
    for (size_t i = 0; i < frames; i++) {
        size_t k = i % NFRAG;
        if (direct)
            direct_delta(c, false, frags[k], flens[k]);
        else
            cur_delta(c, "content", frags[k], flens[k]);
        *text += flens[k];
        if (c->out.len > (1u << 20))
            gg_buf_reset(&c->out);      /* the HTTP side drained it */
    }
    return now_s() - t;
}

int main(int argc, char **argv)
{
    size_t frames = 2000000;
    int reps = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--frames"))
            frames = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--reps"))
            reps = (int)strtol(argv[i + 1], NULL, 10);
    }
    if (frames < 1 || reps < 1 || reps > 100) {
        fprintf(stderr, "usage: ssebench [--frames 2000000] [--reps 3]\n");
        return 2;
    }
    esc_init();
    for (size_t k = 0; k < NFRAG; k++)
        flens[k] = strlen(frags[k]);
    struct call c = {.id = "chatcmpl-5f0c3a1e9b7d4c2a8e6f1b3d", .model = "gemini-2.5-flash",
                     .created = 1764600000, .include_usage = false};
    pthread_mutex_init(&c.mu, NULL);
    gg_buf_init(&c.out, 64u << 20);
    direct_init(&c);

    /* same bytes, with and without usage, content and reasoning, controls */
    static const char ctl[] = "ctl \x01\x1f\x7f end";
    struct gg_buf a;
    gg_buf_init(&a, 64u << 20);
    for (int usage = 0; usage < 2; usage++) {
        c.include_usage = usage;
        gg_buf_free(&c.head_content);
        gg_buf_free(&c.head_reasoning);
        gg_buf_free(&c.tail);
        direct_init(&c);
        gg_buf_reset(&a);
        gg_buf_reset(&c.out);
        for (size_t k = 0; k <= NFRAG; k++) {
            const char *s = k < NFRAG ? frags[k] : ctl;
            size_t n = k < NFRAG ? flens[k] : sizeof ctl - 1;
            cur_delta(&c, k & 1 ? "reasoning_content" : "content", s, n);
        }
        gg_buf_add(&a, c.out.p, c.out.len);
        gg_buf_reset(&c.out);
        for (size_t k = 0; k <= NFRAG; k++) {
            const char *s = k < NFRAG ? frags[k] : ctl;
            size_t n = k < NFRAG ? flens[k] : sizeof ctl - 1;
            direct_delta(&c, k & 1, s, n);
        }
        if (a.len != c.out.len || memcmp(a.p, c.out.p, a.len) != 0) {
            fprintf(stderr, "ssebench: the two framings differ:\n%s\n---\n%s\n", a.p, c.out.p);
            return 1;
        }
    }
    gg_buf_free(&a);

    double best[2] = {1e9, 1e9};
    size_t text = 0;
    for (int r = 0; r < reps; r++) {
        for (int d = 0; d < 2; d++) {
            double t = run(&c, d, frames, &text);
            if (t < best[d])
                best[d] = t;
        }
    }
    printf("{\"frames\":%zu,\"text_bytes\":%zu,\"reps\":%d", frames, text, reps);
    static const char *const names[2] = {"current", "direct"};
    for (int d = 0; d < 2; d++)
        printf(",\"%s_frames_per_s\":%.0f,\"%s_text_MBps\":%.1f,\"%s_ns_per_frame\":%.1f", names[d],
               (double)frames / best[d], names[d], (double)text / best[d] / 1e6, names[d], best[d] / (double)frames * 1e9);
    printf("}\n");
    gg_buf_free(&c.out);
    gg_buf_free(&c.head_content);
    gg_buf_free(&c.head_reasoning);
    gg_buf_free(&c.tail);
    gg_buf_free(&scratch);
    return 0;
}
