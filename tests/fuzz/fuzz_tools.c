/* fuzz_tools.c -- libFuzzer harness for the tool-call engine
 * (daemon/core/tools*.c): tools_parse_reply, the streaming detector,
 * tools_validate and the render -> parse round trip.
 *
 * Input: byte 0 picks the mode and options, the rest is the payload.
 *   byte0 % 8 in 0-2, 5-7 (reply): the payload is a model answer, parsed
 *     one-shot under tool_choice auto / required / named(get_weather) by
 *     (byte0 & 7) % 3, parallel off when byte0 & 0x80.
 *     Invariants: every call names a declared tool, has a call_ id and
 *     arguments that are a JSON object passing its schema; at most one call
 *     when parallel is off, only get_weather when named; the text is never
 *     longer than the reply and IS the reply when no call was taken and
 *     no error raised; the streaming detector fed input-derived chunks yields the same text
 *     (released piece by piece), calls, errors and repairs.
 *   byte0 % 8 == 3 (validator): payload "schema\0value", both parsed by cJSON and
 *     validated: no crash, an error always names a path starting with '$'.
 *   byte0 % 8 == 4 (round trip): the payload is parsed as JSON; when it is an object
 *     it is rendered as an earlier call of the schema-less tool `any` and
 *     parsed back: exactly one call, same normalised arguments, no repairs.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tools.h"
#include "fuzz_check.h"
#include "gg_buf.h"
#include "gg_util.h"

#define MARKER "7f3a9c1e"

static struct exch_tool TOOLS[] = {
    {"get_weather", "Weather.",
     "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"minLength\":1},"
     "\"unit\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"]}},\"required\":[\"city\"],\"additionalProperties\":false}"},
    {"search", "Search.",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},\"limit\":{\"type\":\"integer\","
     "\"minimum\":1,\"maximum\":50},\"lang\":{\"type\":[\"string\",\"null\"]}},\"required\":[\"query\"]}"},
    {"get_time", NULL, "{\"type\":\"object\",\"properties\":{}}"},
    {"create_event", "Event.",
     "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\"},\"attendees\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\",\"properties\":{\"email\":{\"type\":\"string\"}},\"required\":[\"email\"]}}},"
     "\"required\":[\"title\"]}"},
    {"any", NULL, NULL},
};
#define NTOOLS (sizeof TOOLS / sizeof TOOLS[0])

static void check_result(const struct tools_spec *s, const struct tools_result *r, const char *in, size_t n)
{
    FUZZ_CHECK(r->n_calls <= TOOLS_MAX_CALLS);
    FUZZ_CHECK(r->text.len <= n);
    if (r->n_calls == 0 && r->n_errors == 0)   /* (calls dropped by tool_choice leave an error) */
        FUZZ_CHECK(r->text.len == n && (n == 0 || memcmp(r->text.p, in, n) == 0));
    if (!s->parallel)
        FUZZ_CHECK(r->n_calls <= 1);
    FUZZ_CHECK((r->n_errors == 0) == (r->error[0] == 0));
    for (size_t i = 0; i < r->n_calls; i++) {
        const struct exch_tool_call *c = &r->calls[i];
        bool folded;
        int ti = tools_find(s, c->name, &folded);
        FUZZ_CHECK(ti >= 0 && !folded);     /* the declared spelling */
        FUZZ_CHECK(strncmp(c->id, "call_", 5) == 0 && strlen(c->id) == 29);
        if (s->choice == EXCH_TOOLS_NAMED)
            FUZZ_CHECK(strcmp(c->name, s->choice_name) == 0);
        cJSON *a = cJSON_Parse(c->args_json);
        FUZZ_CHECK(cJSON_IsObject(a));
        char err[300];
        FUZZ_CHECK(tools_validate(s->schemas[ti], a, err, sizeof err) == 0);
        cJSON_Delete(a);
    }
}

static void check_stream(const struct tools_spec *s, const struct tools_result *one, const char *in, size_t n)
{
    struct tools_stream st;
    struct tools_result r;
    struct gg_buf out;
    gg_buf_init(&out, TOOLS_MAX_REPLY);
    FUZZ_CHECK(tools_stream_init(&st, s) == 0);
    /* chunk sizes come from the input itself: 1 + (byte % 17) */
    size_t i = 0, j = 0;
    while (i < n) {
        size_t k = 1 + (unsigned char)in[j++ % n] % 17;
        if (k > n - i)
            k = n - i;
        FUZZ_CHECK(tools_stream_feed(&st, in + i, k, &out) == 0);
        i += k;
    }
    FUZZ_CHECK(tools_stream_finish(&st, &out, &r) == 0);
    FUZZ_CHECK(out.len == one->text.len && (out.len == 0 || memcmp(out.p, one->text.p, out.len) == 0));
    FUZZ_CHECK(r.n_calls == one->n_calls);
    for (size_t c = 0; c < r.n_calls; c++) {
        FUZZ_CHECK(strcmp(r.calls[c].name, one->calls[c].name) == 0);
        FUZZ_CHECK(strcmp(r.calls[c].args_json, one->calls[c].args_json) == 0);
    }
    FUZZ_CHECK(r.n_errors == one->n_errors && strcmp(r.error, one->error) == 0);
    FUZZ_CHECK(r.repairs == one->repairs);
    tools_result_free(&r);
    tools_stream_free(&st);
    gg_buf_free(&out);
}

static void fuzz_reply(unsigned opt, const char *in, size_t n)
{
    static const enum exch_tool_choice CH[] = {EXCH_TOOLS_AUTO, EXCH_TOOLS_REQUIRED, EXCH_TOOLS_NAMED};
    struct tools_spec s;
    struct tools_result r;
    FUZZ_CHECK(tools_spec_init(&s, TOOLS, NTOOLS, CH[(opt & 7) % 3], "get_weather", !(opt & 0x80), MARKER) == 0);
    FUZZ_CHECK(tools_parse_reply(&s, in, n, &r) == 0);
    check_result(&s, &r, in, n);
    check_stream(&s, &r, in, n);
    tools_result_free(&r);
    tools_spec_free(&s);
}

static void fuzz_validate(const char *in, size_t n)
{
    const char *nul = memchr(in, 0, n);
    size_t sl = nul ? (size_t)(nul - in) : n;
    cJSON *schema = cJSON_ParseWithLength(in, sl);
    cJSON *value = nul ? cJSON_ParseWithLength(nul + 1, n - sl - 1) : NULL;
    char err[200];
    if (value && tools_validate(schema, value, err, sizeof err) < 0)
        FUZZ_CHECK(err[0] == '$');
    cJSON_Delete(schema);
    cJSON_Delete(value);
}

static void fuzz_roundtrip(const char *in, size_t n)
{
    cJSON *args = cJSON_ParseWithLength(in, n);
    if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        return;
    }
    char *txt = cJSON_PrintUnformatted(args);
    cJSON_Delete(args);
    /* only what the parser would accept as arguments: bounded nesting,
     * text cJSON reads back the same (no NUL, no non-finite numbers) */
    cJSON *back = txt ? cJSON_Parse(txt) : NULL;
    char *again = back ? cJSON_PrintUnformatted(back) : NULL;
    size_t depth = 0, maxd = 0;
    for (const char *p = txt; p && *p; p++) {   /* rough: brackets outside strings are enough here */
        if (*p == '{' || *p == '[')
            maxd = ++depth > maxd ? depth : maxd;
        else if ((*p == '}' || *p == ']') && depth)
            depth--;
        else if (*p == '"')
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\' && p[1])
                    p++;
        if (!*p)
            break;
    }
    bool usable = again && strcmp(again, txt) == 0 && maxd < TOOLS_MAX_DEPTH && strlen(txt) < 60000 &&
                  gg_utf8_valid(txt, strlen(txt));
    if (usable) {
        struct tools_spec s;
        struct tools_result r;
        struct gg_buf b;
        struct exch_tool_call c = {"call_x", "any", txt};
        gg_buf_init(&b, 1u << 20);
        FUZZ_CHECK(tools_spec_init(&s, TOOLS, NTOOLS, EXCH_TOOLS_AUTO, NULL, true, MARKER) == 0);
        FUZZ_CHECK(tools_render_call(&s, &c, &b) == 0);
        FUZZ_CHECK(tools_parse_reply(&s, b.p, b.len, &r) == 0);
        FUZZ_CHECK(r.n_calls == 1 && r.n_errors == 0);
        FUZZ_CHECK(strcmp(r.calls[0].args_json, txt) == 0);
        FUZZ_CHECK(r.repairs == 0);
        tools_result_free(&r);
        tools_spec_free(&s);
        gg_buf_free(&b);
    }
    cJSON_free(again);
    cJSON_Delete(back);
    cJSON_free(txt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned opt = data[0];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    switch (opt % 8) {
    case 3:
        fuzz_validate(in, n);
        break;
    case 4:
        fuzz_roundtrip(in, n);
        break;
    default:
        fuzz_reply(opt, in, n);
        break;
    }
    return 0;
}
