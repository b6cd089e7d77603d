/* fuzz_stream.c -- libFuzzer harness for the upstream stream splitter
 * (daemon/splitter.c) and the element translator (daemon/xlate.c).
 *
 * The input is fed twice: once in one piece and once in chunks whose sizes
 * (1..64 bytes) come from a PRNG seeded with a hash of the input, so every
 * input has its own reproducible chunking.  Invariants:
 *   - both feeds emit the same elements (same bytes, same order), return the
 *     same code and agree on complete vs truncated;
 *   - every element starts with '{' and ends with '}', and is valid UTF-8
 *     when the input was;
 *   - xlate_element() returns 0 exactly for the elements cJSON parses and -1
 *     for the others (no sink call then); when the input was valid UTF-8
 *     every text it reports is non-empty valid UTF-8, files have an id and
 *     states a name;
 *   - the error callback fires exactly for an element whose top-level
 *     "error" is an object, once, with that object's code (0 when not a
 *     number), status and message (NULL when not strings), and nothing
 *     else is reported for that element;
 *   - xlate_flush() at the end reports only text (same UTF-8 rule).
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "gg_util.h"
#include "splitter.h"
#include "xlate.h"

#define MAX_ELEMENT 4096

struct elems {
    char **p;
    size_t *len;
    size_t n, cap;
};

static int collect(void *ctx, const char *e, size_t n)
{
    struct elems *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->p = realloc(l->p, l->cap * sizeof(*l->p));
        l->len = realloc(l->len, l->cap * sizeof(*l->len));
        FUZZ_CHECK(l->p && l->len);
    }
    l->p[l->n] = malloc(n ? n : 1);
    FUZZ_CHECK(l->p[l->n]);
    memcpy(l->p[l->n], e, n);
    l->len[l->n++] = n;
    return 0;
}

static void elems_free(struct elems *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->p[i]);
    free(l->p);
    free(l->len);
}

static bool input_utf8;

/* what the sink saw for the current element */
struct seen {
    size_t text, other, errors;
    int code;
    bool status_null, message_null;
    char status[256], message[256];
};

static void on_text(void *ctx, const char *s, size_t n, bool thought)
{
    (void)thought;
    FUZZ_CHECK(s && n > 0);
    if (input_utf8)
        FUZZ_CHECK(gg_utf8_valid(s, n));
    ((struct seen *)ctx)->text++;
}

static void on_file(void *ctx, const char *id, const char *mime, const char *name)
{
    (void)mime;
    (void)name;
    FUZZ_CHECK(id && *id);
    ((struct seen *)ctx)->other++;
}

static void on_session(void *ctx, const char *s)
{
    FUZZ_CHECK(s && *s);
    ((struct seen *)ctx)->other++;
}

static void on_state(void *ctx, const char *state, const char *detail)
{
    (void)detail;
    FUZZ_CHECK(state);
    ((struct seen *)ctx)->other++;
}

static void on_error(void *ctx, int code, const char *status, const char *message)
{
    struct seen *sn = ctx;
    sn->errors++;
    sn->code = code;
    sn->status_null = !status;
    sn->message_null = !message;
    snprintf(sn->status, sizeof(sn->status), "%s", status ? status : "");
    snprintf(sn->message, sizeof(sn->message), "%s", message ? message : "");
    if (input_utf8) {
        FUZZ_CHECK(!status || gg_utf8_valid(status, strlen(status)));
        FUZZ_CHECK(!message || gg_utf8_valid(message, strlen(message)));
    }
}

/* The translator's contract for one element, judged with cJSON directly. */
static void check_element(struct xlate *x, struct seen *sn, const char *e, size_t n)
{
    memset(sn, 0, sizeof(*sn));
    int rc = xlate_element(x, e, n);
    cJSON *root = cJSON_ParseWithLength(e, n);
    FUZZ_CHECK(rc == (root ? 0 : -1));
    if (!root) {
        FUZZ_CHECK(sn->text == 0 && sn->other == 0 && sn->errors == 0);
        return;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsObject(err)) {
        FUZZ_CHECK(sn->errors == 1 && sn->text == 0 && sn->other == 0);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(err, "status");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
        FUZZ_CHECK(sn->code == (cJSON_IsNumber(code) ? code->valueint : 0));
        FUZZ_CHECK(sn->status_null == !cJSON_IsString(st));
        FUZZ_CHECK(sn->message_null == !cJSON_IsString(msg));
        if (cJSON_IsString(st))
            FUZZ_CHECK(strncmp(sn->status, st->valuestring, sizeof(sn->status) - 1) == 0);
        if (cJSON_IsString(msg))
            FUZZ_CHECK(strncmp(sn->message, msg->valuestring, sizeof(sn->message) - 1) == 0);
    } else {
        FUZZ_CHECK(sn->errors == 0);
    }
    cJSON_Delete(root);
}

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211ull;
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    input_utf8 = gg_utf8_valid(in, size);

    struct splitter one;
    struct elems e1 = {0};
    split_init(&one, MAX_ELEMENT);
    int rc1 = split_feed(&one, in, size, collect, &e1);
    int fin1 = split_finish(&one);
    split_free(&one);

    struct splitter ch;
    struct elems e2 = {0};
    split_init(&ch, MAX_ELEMENT);
    uint64_t rng = fnv1a(data, size) | 1;
    int rc2 = 0;
    for (size_t off = 0; off < size && rc2 == 0;) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        size_t k = 1 + (size_t)(rng % 64);
        if (k > size - off)
            k = size - off;
        rc2 = split_feed(&ch, in + off, k, collect, &e2);
        off += k;
    }
    int fin2 = split_finish(&ch);
    split_free(&ch);

    FUZZ_CHECK(rc1 == rc2);
    FUZZ_CHECK(rc1 != 0 || fin1 == fin2);
    FUZZ_CHECK(e1.n == e2.n);
    for (size_t i = 0; i < e1.n; i++) {
        FUZZ_CHECK(e1.len[i] == e2.len[i] && memcmp(e1.p[i], e2.p[i], e1.len[i]) == 0);
        FUZZ_CHECK(e1.len[i] >= 2 && e1.len[i] <= MAX_ELEMENT);
        FUZZ_CHECK(e1.p[i][0] == '{');
        /* regressions/stream/split-bracket-mismatch: "{]" is not an element */
        FUZZ_CHECK(e1.p[i][e1.len[i] - 1] == '}');
        if (input_utf8)
            FUZZ_CHECK(gg_utf8_valid(e1.p[i], e1.len[i]));
    }

    struct seen sn;
    struct xlate_sink sink = {
        .ctx = &sn, .text = on_text, .file = on_file, .session = on_session, .state = on_state, .error = on_error,
    };
    struct xlate x;
    xlate_init(&x, &sink);
    for (size_t i = 0; i < e1.n; i++)
        check_element(&x, &sn, e1.p[i], e1.len[i]);
    memset(&sn, 0, sizeof(sn));
    xlate_flush(&x);
    FUZZ_CHECK(sn.other == 0 && sn.errors == 0);
    /* The heading check must not read past n on any length. */
    xlate_is_thinking_heading(in, size);

    elems_free(&e1);
    elems_free(&e2);
    return 0;
}
