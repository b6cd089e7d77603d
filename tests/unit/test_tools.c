/* test_tools.c -- the tool-call engine (daemon/core/tools*.c): the reply
 * corpus in tests/tools/corpus (one-shot and streamed with random chunkings,
 * which must agree byte for byte), the schema validator, the prompt contract
 * and its round trip through the parser, streaming hold-back, and bounds. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tools.h"
#include "gg_buf.h"
#include "tinytest.h"

#ifndef TOOLS_CORPUS_DIR
#define TOOLS_CORPUS_DIR "tests/tools/corpus"
#endif
#define MARKER "7f3a9c1e"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct gg_buf b;
    gg_buf_init(&b, 64u << 20);
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (gg_buf_add(&b, tmp, n) < 0)
            break;
    fclose(f);
    if (!b.p && gg_buf_adds(&b, "") < 0)
        return NULL;
    return gg_buf_steal(&b, len);
}

/* ---- the declared tools of the corpus ------------------------------------ */

static struct exch_tool g_tools[16];
static size_t g_ntools;

static void load_tools(void)
{
    size_t len;
    char *txt = slurp(TOOLS_CORPUS_DIR "/tools.json", &len);
    TT_CHECK(txt != NULL);
    cJSON *root = txt ? cJSON_Parse(txt) : NULL, *t;
    cJSON_ArrayForEach(t, root) {
        struct exch_tool *d = &g_tools[g_ntools++];
        d->name = strdup(cJSON_GetObjectItem(t, "name")->valuestring);
        d->description = strdup(cJSON_GetObjectItem(t, "description")->valuestring);
        d->params_json = cJSON_PrintUnformatted(cJSON_GetObjectItem(t, "parameters"));
    }
    cJSON_Delete(root);
    free(txt);
}

static void free_tools(void)
{
    for (size_t i = 0; i < g_ntools; i++) {
        free(g_tools[i].name);
        free(g_tools[i].description);
        free(g_tools[i].params_json);
    }
}

static void spec_for(struct tools_spec *s, const cJSON *exp)
{
    enum exch_tool_choice ch = EXCH_TOOLS_AUTO;
    const cJSON *c = cJSON_GetObjectItem(exp, "choice");
    const cJSON *cn = cJSON_GetObjectItem(exp, "choice_name");
    const cJSON *par = cJSON_GetObjectItem(exp, "parallel");
    if (cJSON_IsString(c) && strcmp(c->valuestring, "required") == 0)
        ch = EXCH_TOOLS_REQUIRED;
    if (cJSON_IsString(c) && strcmp(c->valuestring, "named") == 0)
        ch = EXCH_TOOLS_NAMED;
    TT_EQ_INT(tools_spec_init(s, g_tools, g_ntools, ch, cJSON_IsString(cn) ? cn->valuestring : NULL,
                              !cJSON_IsFalse(par), MARKER), 0);
}

/* ---- comparing results ------------------------------------------------------ */

static bool same_calls(const struct tools_result *a, const struct tools_result *b)
{
    if (a->n_calls != b->n_calls)
        return false;
    for (size_t i = 0; i < a->n_calls; i++)
        if (strcmp(a->calls[i].name, b->calls[i].name) || strcmp(a->calls[i].args_json, b->calls[i].args_json))
            return false;
    return true;
}

static bool same_text(const struct tools_result *r, const char *p, size_t n)
{
    return r->text.len == n && (n == 0 || memcmp(r->text.p, p, n) == 0);
}

static unsigned repairs_of(const cJSON *exp, bool *given)
{
    const cJSON *rs = cJSON_GetObjectItem(exp, "repairs"), *e;
    unsigned bits = 0;
    *given = cJSON_IsArray(rs);
    cJSON_ArrayForEach(e, rs) {
        unsigned b = 0;
        for (int i = 0; i < TOOLS_REP_COUNT; i++)
            if (strcmp(tools_repair_name(1u << i), e->valuestring) == 0)
                b = 1u << i;
        if (!b)
            fprintf(stderr, "unknown repair name %s\n", e->valuestring);
        bits |= b;
    }
    return bits;
}

static void print_repairs(unsigned bits)
{
    for (int i = 0; i < TOOLS_REP_COUNT; i++)
        if (bits & (1u << i))
            fprintf(stderr, " %s", tools_repair_name(1u << i));
}

/* Does the one-shot result match the expectation?  Prints why not. */
static bool matches(const char *name, const struct tools_result *r, const cJSON *exp)
{
    bool ok = true;
    const cJSON *calls = cJSON_GetObjectItem(exp, "calls");
    size_t want = (size_t)cJSON_GetArraySize(calls);
    if (r->n_calls != want) {
        fprintf(stderr, "%s: %zu calls, want %zu (error: %s)\n", name, r->n_calls, want, r->error);
        ok = false;
    } else {
        for (size_t i = 0; i < want; i++) {
            const cJSON *c = cJSON_GetArrayItem(calls, (int)i);
            cJSON *got = cJSON_Parse(r->calls[i].args_json);
            if (strcmp(r->calls[i].name, cJSON_GetObjectItem(c, "name")->valuestring) != 0 ||
                !cJSON_Compare(got, cJSON_GetObjectItem(c, "args"), 1)) {
                fprintf(stderr, "%s: call %zu is %s %.200s\n", name, i, r->calls[i].name, r->calls[i].args_json);
                ok = false;
            }
            if (strncmp(r->calls[i].id, "call_", 5) != 0 || strlen(r->calls[i].id) != 29) {
                fprintf(stderr, "%s: bad id %s\n", name, r->calls[i].id);
                ok = false;
            }
            cJSON_Delete(got);
        }
    }
    const cJSON *err = cJSON_GetObjectItem(exp, "error");
    if (cJSON_IsString(err) ? (r->n_errors == 0 || !strstr(r->error, err->valuestring)) : r->n_errors != 0) {
        fprintf(stderr, "%s: error \"%s\" (%u), want \"%s\"\n", name, r->error, r->n_errors,
                cJSON_IsString(err) ? err->valuestring : "");
        ok = false;
    }
    const cJSON *txt = cJSON_GetObjectItem(exp, "text");
    if (cJSON_IsString(txt) && !same_text(r, txt->valuestring, strlen(txt->valuestring))) {
        fprintf(stderr, "%s: text \"%.300s\"\n", name, r->text.p ? r->text.p : "");
        ok = false;
    }
    bool given;
    unsigned bits = repairs_of(exp, &given);
    if (given && bits != r->repairs) {
        fprintf(stderr, "%s: repairs", name);
        print_repairs(r->repairs);
        fprintf(stderr, " want");
        print_repairs(bits);
        fprintf(stderr, "\n");
        ok = false;
    }
    return ok;
}

static unsigned long long g_rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)(g_rng % n);
}

/* Stream the reply in pieces (max_piece 0 = one byte at a time). */
static bool stream_agrees(const char *name, const struct tools_spec *s, const char *p, size_t n,
                          const struct tools_result *one, unsigned max_piece)
{
    struct tools_stream st;
    struct tools_result r;
    struct gg_buf out;
    gg_buf_init(&out, TOOLS_MAX_REPLY);
    tools_stream_init(&st, s);
    bool ok = true;
    for (size_t i = 0; i < n && ok;) {
        size_t k = max_piece ? 1 + rnd(max_piece) : 1;
        if (k > n - i)
            k = n - i;
        ok = tools_stream_feed(&st, p + i, k, &out) == 0;
        i += k;
    }
    ok = ok && tools_stream_finish(&st, &out, &r) == 0;
    if (ok) {
        bool same = same_text(one, out.p, out.len) && same_calls(one, &r) && r.n_errors == one->n_errors &&
                    strcmp(r.error, one->error) == 0 && r.repairs == one->repairs && same_text(&r, out.p, out.len);
        if (!same)
            fprintf(stderr, "%s: streamed (pieces <= %u) differs: %zu calls, text \"%.200s\", error \"%s\"\n", name,
                    max_piece, r.n_calls, out.p ? out.p : "", r.error);
        ok = same;
        tools_result_free(&r);
    }
    tools_stream_free(&st);
    gg_buf_free(&out);
    return ok;
}

static void test_corpus(void)
{
    DIR *d = opendir(TOOLS_CORPUS_DIR);
    TT_CHECK(d != NULL);
    if (!d)
        return;
    char *names[512];
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nn < 512) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".txt") == 0)
            names[nn++] = strndup(e->d_name, l - 4);
    }
    closedir(d);
    int cases = 0, passed = 0, attempts = 0, recovered = 0, retry = 0, streamed = 0;
    for (size_t i = 0; i < nn; i++) {
        char path[1024];
        size_t rl, el;
        snprintf(path, sizeof path, "%s/%s.txt", TOOLS_CORPUS_DIR, names[i]);
        char *reply = slurp(path, &rl);
        snprintf(path, sizeof path, "%s/%s.json", TOOLS_CORPUS_DIR, names[i]);
        char *ej = slurp(path, &el);
        cJSON *exp = ej ? cJSON_Parse(ej) : NULL;
        TT_CHECK(reply && exp);
        if (!reply || !exp) {
            free(reply);
            free(ej);
            cJSON_Delete(exp);
            continue;
        }
        struct tools_spec s;
        struct tools_result r;
        spec_for(&s, exp);
        cases++;
        TT_EQ_INT(tools_parse_reply(&s, reply, rl, &r), 0);
        bool ok = matches(names[i], &r, exp);
        const cJSON *th = cJSON_GetObjectItem(exp, "reasoning");
        if (cJSON_IsString(th)) {   /* the thinking really held a call: it is ignored only because it is not fed */
            struct tools_result tr;
            TT_EQ_INT(tools_parse_reply(&s, th->valuestring, strlen(th->valuestring), &tr), 0);
            TT_CHECK(tr.n_calls == 1);
            tools_result_free(&tr);
        }
        TT_CHECK(ok);
        passed += ok;
        /* "attempts": the model meant to call a tool (calls or an error expected) */
        bool attempt = cJSON_GetArraySize(cJSON_GetObjectItem(exp, "calls")) > 0 || cJSON_GetObjectItem(exp, "error");
        attempts += attempt;
        recovered += attempt && r.n_calls > 0 && r.n_errors == 0;
        retry += attempt && r.n_errors > 0;
        bool sok = stream_agrees(names[i], &s, reply, rl, &r, 0x7fffffff) &&
                   stream_agrees(names[i], &s, reply, rl, &r, 7) && stream_agrees(names[i], &s, reply, rl, &r, 300);
        if (rl < 4096)
            sok = sok && stream_agrees(names[i], &s, reply, rl, &r, 0);
        for (int k = 0; k < 4 && sok; k++)
            sok = stream_agrees(names[i], &s, reply, rl, &r, 1 + rnd(64));
        TT_CHECK(sok);
        streamed += sok;
        tools_result_free(&r);
        tools_spec_free(&s);
        cJSON_Delete(exp);
        free(ej);
        free(reply);
        free(names[i]);
    }
    TT_CHECK(cases >= 60);
    printf("tools corpus: %d/%d cases as expected (%.1f%%), streaming agrees on %d/%d; "
           "of %d replies attempting a call: %d parsed into valid calls (%.1f%%), %d need the corrective retry\n",
           passed, cases, cases ? 100.0 * passed / cases : 0.0, streamed, cases, attempts, recovered,
           attempts ? 100.0 * recovered / attempts : 0.0, retry);
}

/* ---- validator --------------------------------------------------------------- */

static int v(const char *schema, const char *value, char *err)
{
    cJSON *s = cJSON_Parse(schema), *x = cJSON_Parse(value);
    int rc = tools_validate(s, x, err, 200);
    cJSON_Delete(s);
    cJSON_Delete(x);
    return rc;
}

static void test_validate(void)
{
    char err[200];
    const char *obj = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
                      "\"n\":{\"type\":[\"integer\",\"null\"],\"minimum\":1,\"maximum\":3},"
                      "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":2},\"maxItems\":2},"
                      "\"deep\":{\"type\":\"object\",\"properties\":{\"a b\":{\"enum\":[1,\"x\"]}}}},"
                      "\"required\":[\"city\"],\"additionalProperties\":false,\"x-unknown\":{\"whatever\":1}}";
    TT_EQ_INT(v(obj, "{\"city\":\"Paris\"}", err), 0);
    TT_EQ_INT(v(obj, "{\"city\":1}", err), -1);
    TT_EQ_STR(err, "$.city: expected string, got number");
    TT_EQ_INT(v(obj, "{}", err), -1);
    TT_EQ_STR(err, "$: missing required property \"city\"");
    TT_EQ_INT(v(obj, "[]", err), -1);
    TT_EQ_STR(err, "$: expected object, got array");
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"zip\":1}", err), -1);
    TT_EQ_STR(err, "$: unexpected property \"zip\"");
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"n\":null}", err), 0);
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"n\":2.0}", err), 0);
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"n\":2.5}", err), -1);
    TT_EQ_STR(err, "$.n: expected integer or null, got number");
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"n\":4}", err), -1);
    TT_EQ_STR(err, "$.n: must be <= 3");
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"n\":0}", err), -1);
    TT_EQ_STR(err, "$.n: must be >= 1");
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"tags\":[\"ab\",\"東京\"]}", err), 0);  /* code points */
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"tags\":[\"ab\",\"abc\"]}", err), -1);
    TT_EQ_STR(err, "$.tags[1]: must be at most 2 characters long");
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"tags\":[\"a\",\"b\",\"c\"]}", err), -1);
    TT_EQ_STR(err, "$.tags: must have at most 2 items");
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"deep\":{\"a b\":\"x\"}}", err), 0);
    TT_EQ_INT(v(obj, "{\"city\":\"a\",\"deep\":{\"a b\":2}}", err), -1);
    TT_EQ_STR(err, "$.deep[\"a b\"]: must be one of 1, \"x\"");
    TT_EQ_INT(v("{\"type\":\"boolean\"}", "true", err), 0);
    TT_EQ_INT(v("{\"type\":\"boolean\"}", "0", err), -1);
    TT_EQ_INT(v("{\"type\":\"string\",\"minLength\":2}", "\"a\"", err), -1);
    TT_EQ_STR(err, "$: must be at least 2 characters long");
    TT_EQ_INT(v("{\"additionalProperties\":{\"type\":\"number\"}}", "{\"a\":1,\"b\":\"x\"}", err), -1);
    TT_EQ_STR(err, "$.b: expected number, got string");
    TT_EQ_INT(v("{\"type\":\"number\",\"exclusiveMinimum\":0}", "0", err), -1);
    TT_EQ_INT(v("{\"const\":\"x\"}", "\"x\"", err), 0);
    TT_EQ_INT(v("{\"anyOf\":[{\"type\":\"string\"}],\"format\":\"email\"}", "5", err), 0);  /* ignored keywords */
    cJSON *one = cJSON_Parse("1");
    TT_EQ_INT(tools_validate(NULL, one, err, sizeof err), 0);     /* no schema: anything */
    cJSON_Delete(one);
    /* nesting deeper than TOOLS_MAX_DEPTH is refused, not recursed into */
    struct gg_buf sch, val;
    gg_buf_init(&sch, 1 << 20);
    gg_buf_init(&val, 1 << 20);
    for (int i = 0; i < 80; i++) {
        gg_buf_adds(&sch, "{\"type\":\"object\",\"additionalProperties\":");
        gg_buf_adds(&val, "{\"a\":");
    }
    gg_buf_adds(&sch, "{}");
    gg_buf_adds(&val, "1");
    for (int i = 0; i < 80; i++) {
        gg_buf_adds(&sch, "}");
        gg_buf_adds(&val, "}");
    }
    TT_EQ_INT(v(sch.p, val.p, err), -1);
    TT_CHECK(strstr(err, "nested too deeply") != NULL);
    gg_buf_free(&sch);
    gg_buf_free(&val);
}

/* ---- prompt contract ------------------------------------------------------ */

static void test_prompt(void)
{
    struct tools_spec s;
    struct gg_buf b;
    gg_buf_init(&b, 1 << 20);
    TT_EQ_INT(tools_spec_init(&s, g_tools, g_ntools, EXCH_TOOLS_AUTO, NULL, true, MARKER), 0);
    TT_EQ_INT(tools_render_prompt(&s, &b), 0);
    TT_CHECK(strstr(b.p, "<tool_call marker=\"7f3a9c1e\">\n{\"name\": \"TOOL_NAME\", \"arguments\": {ARGUMENTS}}\n</tool_call>") != NULL);
    TT_CHECK(strstr(b.p, "### get_weather\nCurrent weather for a city.\nParameters (JSON Schema): {\"type\":\"object\"") != NULL);
    TT_CHECK(strstr(b.p, "### create_event") != NULL);
    TT_CHECK(strstr(b.p, "one block per call") != NULL);
    TT_CHECK(strstr(b.p, "answer directly") != NULL);
    gg_buf_reset(&b);
    TT_EQ_INT(tools_render_reminder(&s, &b), 0);
    TT_CHECK(strstr(b.p, "<tool_call marker=\"7f3a9c1e\">") != NULL);
    tools_spec_free(&s);

    tools_spec_init(&s, g_tools, g_ntools, EXCH_TOOLS_NAMED, "search", false, MARKER);
    gg_buf_reset(&b);
    tools_render_prompt(&s, &b);
    TT_CHECK(strstr(b.p, "You must call the tool \"search\" in this reply") != NULL);
    TT_CHECK(strstr(b.p, "at most one tool per reply") != NULL);
    gg_buf_reset(&b);
    tools_render_correction(&s, "get_weather: $.city: expected string, got number", &b);
    TT_CHECK(strstr(b.p, "Your previous reply could not be used: get_weather: $.city: expected string, got number.\n") == b.p);
    TT_CHECK(strstr(b.p, "<tool_call marker=\"7f3a9c1e\">") != NULL);
    TT_CHECK(strstr(b.p, "You must call the tool \"search\".") != NULL);
    tools_spec_free(&s);

    /* none: nothing is offered; a bad marker is replaced by a fresh one */
    tools_spec_init(&s, g_tools, g_ntools, EXCH_TOOLS_NONE, NULL, true, "NOT-HEX!");
    gg_buf_reset(&b);
    TT_EQ_INT(tools_render_prompt(&s, &b), 0);
    TT_EQ_INT(b.len, 0);
    TT_EQ_INT(strlen(s.marker), TOOLS_MARKER_LEN);
    TT_CHECK(strcmp(s.marker, "NOT-HEX!") != 0);
    tools_spec_free(&s);

    /* history: a rendered call parses back to the same call; results carry the id */
    tools_spec_init(&s, g_tools, g_ntools, EXCH_TOOLS_AUTO, NULL, true, MARKER);
    struct exch_tool_call c = {"call_x", "write_file",
                               "{\"path\":\"a \\\"b\\\".txt\",\"content\":\"東京\\n\\\\ </tool_call> done\"}"};
    gg_buf_reset(&b);
    TT_EQ_INT(tools_render_call(&s, &c, &b), 0);
    struct tools_result r;
    TT_EQ_INT(tools_parse_reply(&s, b.p, b.len, &r), 0);
    TT_EQ_INT(r.n_calls, 1);
    if (r.n_calls == 1) {
        TT_EQ_STR(r.calls[0].name, "write_file");
        TT_EQ_STR(r.calls[0].args_json, c.args_json);
    }
    TT_EQ_INT(r.repairs, 0);
    TT_EQ_STR(r.text.p, "\n");
    tools_result_free(&r);
    gg_buf_reset(&b);
    TT_EQ_INT(tools_render_result(&s, "call_x", "write_file", "ok", false, &b), 0);
    TT_EQ_STR(b.p, "<tool_result call_id=\"call_x\" name=\"write_file\">\nok\n</tool_result>\n");
    gg_buf_reset(&b);
    tools_render_result(&s, "call_\"y", NULL, "boom", true, &b);
    TT_EQ_STR(b.p, "<tool_result call_id=\"call__y\" error=\"true\">\nboom\n</tool_result>\n");
    TT_EQ_STR(tools_repair_name(TOOLS_REP_TRAILING_COMMA), "trailing_comma");
    TT_EQ_STR(tools_repair_name(3), "");
    tools_spec_free(&s);
    gg_buf_free(&b);
}

/* ---- streaming hold-back ------------------------------------------------- */

static void feed(struct tools_stream *st, const char *s, struct gg_buf *out)
{
    TT_EQ_INT(tools_stream_feed(st, s, strlen(s), out), 0);
}

static void test_stream_holdback(void)
{
    struct tools_spec s;
    struct tools_stream st;
    struct tools_result r;
    struct gg_buf out;
    tools_spec_init(&s, g_tools, g_ntools, EXCH_TOOLS_AUTO, NULL, true, MARKER);
    gg_buf_init(&out, 1 << 20);
    tools_stream_init(&st, &s);
    /* plain text goes out at once */
    feed(&st, "Let me check the weather. ", &out);
    TT_EQ_INT(out.len, 26);
    /* a possible tag start is held, the text before it is not */
    feed(&st, "Now <tool", &out);
    TT_EQ_INT(out.len, 30);
    feed(&st, "_call marker=\"7f3a9c1e\">\n{\"name\": \"get_weather\", ", &out);
    TT_EQ_INT(out.len, 30);
    feed(&st, "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", &out);
    TT_EQ_INT(out.len, 30);
    /* text after the call flows again */
    feed(&st, "\nwaiting", &out);
    TT_EQ_INT(out.len, 38);
    TT_EQ_INT(tools_stream_finish(&st, &out, &r), 0);
    TT_EQ_INT(r.n_calls, 1);
    TT_EQ_STR(out.p, "Let me check the weather. Now \nwaiting");
    tools_result_free(&r);
    tools_stream_free(&st);

    /* a look-alike is released as soon as it is decided, not at the end */
    gg_buf_reset(&out);
    tools_stream_init(&st, &s);
    feed(&st, "a <tool", &out);
    TT_EQ_INT(out.len, 2);
    feed(&st, "box> b", &out);
    TT_EQ_INT(out.len, 13);
    /* a line-start brace is held until its object closes */
    feed(&st, "\n{\"temp\": 12", &out);
    TT_EQ_INT(out.len, 14);
    feed(&st, "} ok", &out);
    TT_EQ_INT(out.len, 29);
    tools_stream_finish(&st, &out, &r);
    TT_EQ_INT(r.n_calls, 0);
    TT_EQ_STR(out.p, "a <toolbox> b\n{\"temp\": 12} ok");
    tools_result_free(&r);
    tools_stream_free(&st);
    tools_spec_free(&s);
    gg_buf_free(&out);
}

/* ---- bounds ------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void parse_timed(const struct tools_spec *s, const char *what, const struct gg_buf *b, double max_s)
{
    struct tools_result r;
    double t0 = now_s();
    TT_EQ_INT(tools_parse_reply(s, b->p, b->len, &r), 0);
    double dt = now_s() - t0;
    TT_CHECK(same_text(&r, b->p, b->len));  /* none of these is a call: all text, nothing lost */
    if (dt > max_s)
        fprintf(stderr, "%s: %.3f s\n", what, dt);
    TT_CHECK(dt < max_s);
    /* streamed in 1 KB pieces: the same, in bounded time */
    struct tools_stream st;
    struct gg_buf out;
    gg_buf_init(&out, TOOLS_MAX_REPLY);
    tools_stream_init(&st, s);
    t0 = now_s();
    for (size_t i = 0; i < b->len; i += 1024)
        tools_stream_feed(&st, b->p + i, b->len - i < 1024 ? b->len - i : 1024, &out);
    struct tools_result r2;
    tools_stream_finish(&st, &out, &r2);
    dt = now_s() - t0;
    TT_CHECK(out.len == b->len);
    if (dt > max_s * 3)
        fprintf(stderr, "%s streamed: %.3f s\n", what, dt);
    TT_CHECK(dt < max_s * 3);
    tools_result_free(&r);
    tools_result_free(&r2);
    tools_stream_free(&st);
    gg_buf_free(&out);
}

static void test_bounds(void)
{
    struct tools_spec s;
    struct gg_buf b;
    tools_spec_init(&s, g_tools, g_ntools, EXCH_TOOLS_AUTO, NULL, true, MARKER);
    gg_buf_init(&b, 8u << 20);
    const char *pats[] = {
        "{\n", "<tool_call marker=\"7f3a9c1e\">\n{\"a\":\"", "```\n{\"a\":1}\n", "[\n", "<tool_call>\n{\n",
        "{\"x\": \"", "<tool_call marker=\"7f3a9c1e\">", "```json\n[", "{'a\n",
    };
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        gg_buf_reset(&b);
        while (b.len < (2u << 20))
            gg_buf_adds(&b, pats[i]);
        char what[64];
        snprintf(what, sizeof what, "2 MB of \"%.20s\"", pats[i]);
        parse_timed(&s, what, &b, 2.0);
    }
    tools_spec_free(&s);
    gg_buf_free(&b);
}

int main(void)
{
    load_tools();
    TT_RUN(test_corpus);
    TT_RUN(test_validate);
    TT_RUN(test_prompt);
    TT_RUN(test_stream_holdback);
    TT_RUN(test_bounds);
    free_tools();
    return TT_REPORT();
}
