/* test_gemini.c -- the Gemini generateContent dialect: parsing (camelCase and
 * snake_case, tool calls and their ids, tools and tool config, every
 * error), the SSE and JSON-array stream framings, whole bodies, error
 * bodies, countTokens and the models list. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "exch_harness.h"
#include "gemini.h"
#include "gemini_int.h"
#include "tinytest.h"

#define PNG_B64 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

static const cJSON *path(const cJSON *j, const char *p)
{
    char key[64];
    while (j && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(key, sizeof(key), "%.*s", (int)n, p);
        if (key[0] >= '0' && key[0] <= '9')
            j = cJSON_GetArrayItem(j, (int)strtol(key, NULL, 10));
        else
            j = cJSON_GetObjectItemCaseSensitive(j, key);
        p += n + (dot ? 1 : 0);
    }
    return j;
}

static const char *pstr(const cJSON *j, const char *p)
{
    const cJSON *v = path(j, p);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double pnum(const cJSON *j, const char *p)
{
    const cJSON *v = path(j, p);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* ---- parsing ---------------------------------------------------------------- */

static void test_parse_basic(void)
{
    const char *body =
        "{\"system_instruction\":{\"parts\":[{\"text\":\"Be a cat.\"},{\"text\":\"Meow.\"}]},"
        "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hi\"},"
        "{\"inline_data\":{\"mime_type\":\"image/png\",\"data\":\"" PNG_B64 "\"}}]},"
        "{\"role\":\"model\",\"parts\":[{\"text\":\"thinking...\",\"thought\":true},{\"text\":\"Hello\"}]},"
        "{\"parts\":{\"text\":\"Again\"}},"
        "{\"role\":\"user\",\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"" PNG_B64 "\"}},"
        "{\"inlineData\":{\"mimeType\":\"text/plain\",\"data\":\"aGVsbG8=\"}},"
        "{\"fileData\":{\"mimeType\":\"image/jpeg\",\"fileUri\":\"https://example.com/cat.jpg\"}}]}],"
        "\"generationConfig\":{\"stopSequences\":[\"END\",\"\"],\"maxOutputTokens\":100,\"temperature\":0.3,"
        "\"topP\":0.9,\"topK\":40,\"candidateCount\":1,\"thinkingConfig\":{\"includeThoughts\":true,"
        "\"thinkingBudget\":1024},\"responseMimeType\":\"text/plain\"},"
        "\"safetySettings\":[{\"category\":\"HARM_CATEGORY_HARASSMENT\",\"threshold\":\"BLOCK_NONE\"}]}";
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_gemini, body, "models/gemini-2.5-flash", true), 0);
    TT_EQ_STR(h.req.model_req, "gemini-2.5-flash");
    TT_EQ_STR(h.req.model.name, "gemini-2.5-flash");
    TT_CHECK(h.req.stream);
    TT_CHECK(h.req.want_reasoning);
    TT_EQ_INT(h.req.max_tokens, 100);
    TT_EQ_STR(h.req.stop[0], "END");
    TT_CHECK(h.req.stop[1] == NULL);
    TT_EQ_INT(h.req.n_msgs, 5);
    TT_EQ_INT(h.req.msgs[0].role, EXCH_SYSTEM);
    TT_EQ_STR(h.req.msgs[0].text, "Be a cat.\nMeow.");
    TT_EQ_INT(h.req.msgs[1].role, EXCH_USER);
    TT_EQ_STR(h.req.msgs[1].text, "Hi");
    TT_EQ_INT(h.req.msgs[1].n_images, 1);
    TT_EQ_INT(h.req.msgs[2].role, EXCH_ASSISTANT);
    TT_EQ_STR(h.req.msgs[2].text, "Hello");      /* thoughts of earlier turns dropped */
    TT_EQ_INT(h.req.msgs[3].role, EXCH_USER);     /* role omitted = user; parts as one object */
    TT_EQ_STR(h.req.msgs[3].text, "Again");
    TT_EQ_INT(h.req.msgs[4].n_images, 3);
    TT_EQ_INT(h.req.first_new, 3);
    TT_EQ_INT(h.req.n_att, 4);
    TT_CHECK(!h.req.att[0].upload);
    TT_EQ_STR(h.req.att[0].mime, "image/png");
    TT_CHECK(h.req.att[1].upload && h.req.att[1].len == 70 && !h.req.att[1].is_file);
    TT_EQ_STR(h.req.att[1].mime, "image/png");
    TT_CHECK(h.req.att[2].upload && h.req.att[2].len == 5 && h.req.att[2].is_file);
    TT_EQ_STR(h.req.att[2].mime, "text/plain");
    TT_CHECK(h.req.att[3].upload && h.req.att[3].data == NULL);
    TT_EQ_STR(h.req.att[3].url, "https://example.com/cat.jpg");
    TT_EQ_STR(h.req.att[3].mime, "image/jpeg");
    TT_EQ_STR(h.req.att[3].param, "contents[3].parts[2].file_data");
    hx_close(&h);
    /* model from the body when the path has none; no thoughts unless asked */
    TT_EQ_INT(hx_open(&h, &dialect_gemini, "{\"model\":\"gemini-2.5-pro\",\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],"
                      "\"generationConfig\":{\"responseModalities\":[\"TEXT\",\"IMAGE\"]}}", NULL, false), 0);
    TT_EQ_STR(h.req.model.name, "gemini-2.5-pro");
    TT_CHECK(!h.req.stream && !h.req.want_reasoning);
    TT_CHECK(h.req.model.tools & TOOLS_IMAGE);
    hx_close(&h);
    /* a model turn of thoughts and signatures only is still a model turn */
    TT_EQ_INT(hx_open(&h, &dialect_gemini, "{\"contents\":[{\"parts\":[{\"text\":\"a\"}]},{\"role\":\"model\",\"parts\":"
                      "[{\"thought\":true,\"thoughtSignature\":\"c2ln\"},{\"text\":\"t\",\"thought\":true}]},"
                      "{\"parts\":[{\"text\":\"b\"}]}]}", "gemini-2.5-flash", false), 0);
    TT_EQ_INT(h.req.n_msgs, 3);
    TT_EQ_INT(h.req.msgs[1].role, EXCH_ASSISTANT);
    TT_EQ_STR(h.req.msgs[1].text, "");
    TT_EQ_INT(h.req.first_new, 2);
    hx_close(&h);
}

static void test_parse_function_calls(void)
{
    const char *body =
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Weather in Paris and Rome?\"}]},"
        "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\"}}},"
        "{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Rome\"}}},"
        "{\"functionCall\":{\"id\":\"abc\",\"name\":\"get_time\"}}]},"
        "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"get_weather\",\"response\":{\"output\":\"18C\"}}},"
        "{\"functionResponse\":{\"name\":\"get_weather\",\"response\":{\"output\":\"21C\"}}},"
        "{\"functionResponse\":{\"id\":\"abc\",\"name\":\"get_time\",\"response\":{\"error\":\"no clock\"}}},"
        "{\"text\":\"Thanks\"}]}]}";
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_gemini, body, "gemini-2.5-flash", false), 0);
    TT_EQ_INT(h.req.n_msgs, 6);
    const struct exch_message *m = &h.req.msgs[1];
    TT_EQ_INT(m->role, EXCH_ASSISTANT);
    TT_EQ_INT(m->n_tool_calls, 3);
    TT_EQ_STR(m->tool_calls[0].id, "gcall_1_0");
    TT_EQ_STR(m->tool_calls[0].args_json, "{\"city\":\"Paris\"}");
    TT_EQ_STR(m->tool_calls[1].id, "gcall_1_1");
    TT_EQ_STR(m->tool_calls[2].id, "abc");
    TT_EQ_STR(m->tool_calls[2].args_json, "{}");
    TT_EQ_INT(h.req.msgs[2].role, EXCH_TOOL);
    TT_EQ_STR(h.req.msgs[2].tool_call_id, "gcall_1_0");     /* name + order */
    TT_EQ_STR(h.req.msgs[2].name, "get_weather");
    TT_EQ_STR(h.req.msgs[2].text, "{\"output\":\"18C\"}");
    TT_CHECK(!h.req.msgs[2].tool_error);
    TT_EQ_STR(h.req.msgs[3].tool_call_id, "gcall_1_1");
    TT_EQ_STR(h.req.msgs[4].tool_call_id, "abc");
    TT_CHECK(h.req.msgs[4].tool_error);
    TT_EQ_INT(h.req.msgs[5].role, EXCH_USER);
    TT_EQ_STR(h.req.msgs[5].text, "Thanks");
    TT_EQ_INT(h.req.first_new, 2);
    hx_close(&h);
}

static void test_parse_tools(void)
{
    const char *body =
        "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],"
        "\"tools\":[{\"functionDeclarations\":[{\"name\":\"get_weather\",\"description\":\"Weather\","
        "\"parameters\":{\"type\":\"OBJECT\",\"properties\":{\"city\":{\"type\":\"STRING\"},"
        "\"days\":{\"type\":\"ARRAY\",\"items\":{\"type\":\"INTEGER\"}}},\"required\":[\"city\"]}},"
        "{\"name\":\"js\",\"parametersJsonSchema\":{\"type\":\"object\",\"properties\":{}}},{\"name\":\"bare\"}]},"
        "{\"googleSearch\":{}},{\"codeExecution\":{}}],"
        "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"AUTO\"}}}";
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_gemini, body, "gemini-2.5-flash", false), 0);
    TT_EQ_INT(h.req.n_tools, 3);
    TT_EQ_STR(h.req.tools[0].name, "get_weather");
    TT_EQ_STR(h.req.tools[0].description, "Weather");
    TT_EQ_STR(h.req.tools[0].params_json,
              "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"days\":{\"type\":\"array\","
              "\"items\":{\"type\":\"integer\"}}},\"required\":[\"city\"]}");
    TT_EQ_STR(h.req.tools[1].params_json, "{\"type\":\"object\",\"properties\":{}}");
    TT_CHECK(h.req.tools[2].params_json == NULL);
    TT_CHECK(h.req.grounding && (h.req.model.tools & TOOLS_SEARCH));
    TT_EQ_INT(h.req.tool_choice, EXCH_TOOLS_AUTO);
    hx_close(&h);
    static const struct { const char *cfgj; int want; size_t n_tools; } modes[] = {
        {"{\"mode\":\"NONE\"}", EXCH_TOOLS_NONE, 2},
        {"{\"mode\":\"ANY\"}", EXCH_TOOLS_REQUIRED, 2},
        {"{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"b\"]}", EXCH_TOOLS_NAMED, 1},
        {"{\"mode\":\"ANY\",\"allowed_function_names\":[\"a\",\"b\"]}", EXCH_TOOLS_REQUIRED, 2},
        {"{\"mode\":\"VALIDATED\"}", EXCH_TOOLS_AUTO, 2},
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char b[512];
        snprintf(b, sizeof(b), "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"function_declarations\":"
                 "[{\"name\":\"a\"},{\"name\":\"b\"}]}],\"tool_config\":{\"function_calling_config\":%s}}",
                 modes[i].cfgj);
        TT_EQ_INT(hx_open(&h, &dialect_gemini, b, "gemini-2.5-flash", false), 0);
        TT_EQ_INT(h.req.tool_choice, modes[i].want);
        TT_EQ_INT(h.req.n_tools, modes[i].n_tools);
        if (modes[i].want == EXCH_TOOLS_NAMED)
            TT_EQ_STR(h.req.tool_choice_name, "b");
        hx_close(&h);
    }
}

static void test_parse_errors(void)
{
    static const struct { const char *body; const char *model; int status; } cases[] = {
        {"{oops", "gemini-2.5-flash", 400},
        {"{\"contents\":[]}", "gemini-2.5-flash", 400},
        {"{}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}", NULL, 400},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}", "models/no-such-model", 404},
        {"{\"contents\":[{\"role\":\"wizard\",\"parts\":[{\"text\":\"x\"}]}]}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"role\":\"user\",\"parts\":[]}]}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"text\":7}]}]}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"videoMetadata\":{}}]}]}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"functionCall\":{\"name\":\"f\"}}]}]}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"role\":\"model\",\"parts\":[{\"functionCall\":{}}]}]}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"fileData\":{\"fileUri\":\"gs://bucket/a.png\"}}]}]}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"fileData\":{\"fileUri\":\"https://generativelanguage.googleapis.com/v1beta/"
         "files/abc\"}}]}]}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"fileData\":{\"fileUri\":\"http://10.0.0.1/a.png\"}}]}]}", "gemini-2.5-flash",
         400},
        {"{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"!!!\"}}]}]}",
         "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"candidateCount\":2}}",
         "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"stopSequences\":[\"a\",\"b\",\"c\","
         "\"d\",\"e\"]}}", "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"maxOutputTokens\":0}}",
         "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"temperature\":\"hot\"}}",
         "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\"}}}",
         "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"SOME\"}}}",
         "gemini-2.5-flash", 400},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"cachedContent\":\"cachedContents/1\"}", "gemini-2.5-flash",
         400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hx h;
        int rc = hx_open(&h, &dialect_gemini, cases[i].body, cases[i].model, false);
        TT_EQ_INT(rc, -1);
        TT_EQ_INT(h.err.status, cases[i].status);
        TT_CHECK(h.err.message[0] != '\0');
        if (rc != 0)
            TT_CHECK(h.req.msgs == NULL && h.req.att == NULL && h.req.tools == NULL);
        hx_close(&h);
    }
}

/* ---- encoders --------------------------------------------------------------- */

static void run_stream(struct hx *h)
{
    struct exch_tool_call c = {.id = "call_1", .name = "get_weather", .args_json = "{\"city\":\"Paris\"}"};
    h->d->begin(&h->x, &h->out);
    struct exch_event r = {.kind = EXCH_EV_REASONING, .text = "Hmm", .len = 3};
    h->d->event(&h->x, &r, &h->out);
    gg_buf_adds(&h->out, h->d->ping);
    hx_text(h, EXCH_EV_TEXT, "Hel");
    hx_text(h, EXCH_EV_TEXT, "lo\n");
    hx_call(h, EXCH_EV_TOOL_CALL_BEGIN, &c, 0);
    hx_call(h, EXCH_EV_TOOL_CALL_END, &c, 0);
    struct exch_result res = {.text = "Hello\n", .text_len = 6, .reasoning = "Hmm", .reasoning_len = 3,
                              .calls = &c, .n_calls = 1, .finish = EXCH_FIN_TOOL_CALLS,
                              .usage = {.prompt_tokens = 4, .completion_tokens = 7, .reasoning_tokens = 2}};
    h->d->finish(&h->x, &res, &h->out);
}

static void check_chunks(cJSON *const *ch, int n)
{
    TT_EQ_INT(n, 5);
    if (n != 5)
        return;
    TT_EQ_STR(pstr(ch[0], "candidates.0.content.parts.0.text"), "Hmm");
    TT_CHECK(cJSON_IsTrue(path(ch[0], "candidates.0.content.parts.0.thought")));
    TT_EQ_STR(pstr(ch[0], "candidates.0.content.role"), "model");
    TT_EQ_STR(pstr(ch[0], "modelVersion"), "gemini-2.5-flash");
    TT_EQ_STR(pstr(ch[0], "responseId"), "req-42.x");
    TT_CHECK(path(ch[0], "candidates.0.finishReason") == NULL);
    TT_EQ_STR(pstr(ch[1], "candidates.0.content.parts.0.text"), "Hel");
    TT_CHECK(path(ch[1], "candidates.0.content.parts.0.thought") == NULL);
    TT_EQ_STR(pstr(ch[2], "candidates.0.content.parts.0.text"), "lo\n");
    TT_EQ_STR(pstr(ch[3], "candidates.0.content.parts.0.functionCall.name"), "get_weather");
    TT_EQ_STR(pstr(ch[3], "candidates.0.content.parts.0.functionCall.id"), "call_1");
    TT_EQ_STR(pstr(ch[3], "candidates.0.content.parts.0.functionCall.args.city"), "Paris");
    TT_EQ_STR(pstr(ch[4], "candidates.0.finishReason"), "STOP");
    TT_EQ_INT(pnum(ch[4], "candidates.0.index"), 0);
    TT_EQ_INT(pnum(ch[4], "usageMetadata.promptTokenCount"), 4);
    TT_EQ_INT(pnum(ch[4], "usageMetadata.candidatesTokenCount"), 5);
    TT_EQ_INT(pnum(ch[4], "usageMetadata.thoughtsTokenCount"), 2);
    TT_EQ_INT(pnum(ch[4], "usageMetadata.totalTokenCount"), 11);
}

static void test_stream_sse(void)
{
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_gemini, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":"
                      "{\"thinkingConfig\":{\"includeThoughts\":true}}}", "gemini-2.5-flash", true), 0);
    TT_EQ_STR(dialect_gemini.stream_ctype, "text/event-stream");
    run_stream(&h);
    cJSON *ch[16] = {0};
    int n = 0, bad = 0;
    const char *s = h.out.p;
    while (s && *s && n < 16) {
        const char *end = strstr(s, "\r\n\r\n");
        if (!end) {
            bad++;
            break;
        }
        if (*s != ':') {
            if (strncmp(s, "data: ", 6))
                bad++;
            else
                ch[n++] = cJSON_ParseWithLength(s + 6, (size_t)(end - s - 6));
        }
        s = end + 4;
    }
    TT_EQ_INT(bad, 0);
    check_chunks(ch, n);
    for (int i = 0; i < n; i++)
        cJSON_Delete(ch[i]);
    hx_close(&h);
}

static void test_stream_array(void)
{
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_gemini_array, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],"
                      "\"generationConfig\":{\"thinkingConfig\":{\"includeThoughts\":true}}}", "gemini-2.5-flash",
                      true), 0);
    run_stream(&h);
    TT_CHECK(h.out.len > 2 && h.out.p[0] == '[' && h.out.p[h.out.len - 1] == ']');
    cJSON *arr = cJSON_Parse(h.out.p);     /* the whole body is one JSON array (pings are whitespace) */
    TT_CHECK(cJSON_IsArray(arr));
    cJSON *ch[16] = {0};
    int n = 0;
    for (cJSON *c = arr ? arr->child : NULL; c && n < 16; c = c->next)
        ch[n++] = c;
    check_chunks(ch, n);
    cJSON_Delete(arr);
    hx_close(&h);
}

static void test_stream_fail(void)
{
    struct exch_error e;
    exch_set_error(&e, 503, EXCH_ERR_OVERLOADED, NULL, NULL, "No account is available.");
    e.retry_after = 30;
    struct hx h;
    /* array form, failing after pings only */
    TT_EQ_INT(hx_open(&h, &dialect_gemini_array, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}", "gemini-2.5-flash",
                      true), 0);
    h.d->fail(&h.x, &e, &h.out);
    h.d->fail(&h.x, &e, &h.out);
    cJSON *arr = cJSON_Parse(h.out.p);
    TT_CHECK(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 1);
    TT_EQ_INT(pnum(arr, "0.error.code"), 503);
    TT_EQ_STR(pstr(arr, "0.error.status"), "UNAVAILABLE");
    TT_EQ_STR(pstr(arr, "0.error.details.0.retryDelay"), "30s");
    cJSON_Delete(arr);
    hx_close(&h);
    /* array form, failing mid-stream */
    TT_EQ_INT(hx_open(&h, &dialect_gemini_array, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}", "gemini-2.5-flash",
                      true), 0);
    h.d->begin(&h.x, &h.out);
    hx_text(&h, EXCH_EV_TEXT, "partial");
    h.d->fail(&h.x, &e, &h.out);
    arr = cJSON_Parse(h.out.p);
    TT_CHECK(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 2);
    TT_EQ_STR(pstr(arr, "0.candidates.0.content.parts.0.text"), "partial");
    TT_EQ_STR(pstr(arr, "1.error.message"), "No account is available.");
    cJSON_Delete(arr);
    hx_close(&h);
    /* SSE form */
    TT_EQ_INT(hx_open(&h, &dialect_gemini, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}", "gemini-2.5-flash",
                      true), 0);
    h.d->begin(&h.x, &h.out);
    h.d->fail(&h.x, &e, &h.out);
    TT_CHECK(h.out.len > 10 && !strncmp(h.out.p, "data: {\"error\":", 15));
    TT_CHECK(h.out.len > 4 && !strcmp(h.out.p + h.out.len - 4, "\r\n\r\n"));
    hx_close(&h);
}

static void test_whole_body(void)
{
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_gemini, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":"
                      "{\"thinkingConfig\":{\"includeThoughts\":true}}}", "gemini-2.5-flash", false), 0);
    struct exch_tool_call c = {.id = "call_9", .name = "f", .args_json = "not json"};
    struct exch_citation cite = {.url = "https://example.com", .title = "Ex"};
    struct exch_result res = {.text = "Cut", .text_len = 3, .reasoning = "Why", .reasoning_len = 3, .calls = &c,
                              .n_calls = 1, .cites = &cite, .n_cites = 1, .finish = EXCH_FIN_LENGTH,
                              .usage = {.prompt_tokens = 1, .completion_tokens = 2}};
    h.d->finish(&h.x, &res, &h.out);
    cJSON *j = cJSON_Parse(h.out.p);
    TT_CHECK(cJSON_IsObject(j));
    TT_EQ_INT(cJSON_GetArraySize(path(j, "candidates.0.content.parts")), 3);
    TT_EQ_STR(pstr(j, "candidates.0.content.parts.0.text"), "Why");
    TT_CHECK(cJSON_IsTrue(path(j, "candidates.0.content.parts.0.thought")));
    TT_EQ_STR(pstr(j, "candidates.0.content.parts.1.text"), "Cut");
    TT_CHECK(cJSON_IsObject(path(j, "candidates.0.content.parts.2.functionCall.args")));
    TT_EQ_STR(pstr(j, "candidates.0.finishReason"), "MAX_TOKENS");
    TT_EQ_STR(pstr(j, "candidates.0.groundingMetadata.groundingChunks.0.web.uri"), "https://example.com");
    TT_EQ_INT(pnum(j, "usageMetadata.totalTokenCount"), 3);
    TT_CHECK(path(j, "usageMetadata.thoughtsTokenCount") == NULL);
    TT_EQ_STR(pstr(j, "responseId"), "req-42.x");
    cJSON_Delete(j);
    hx_close(&h);
    /* thoughts not asked for: not in the answer; a refusal is SAFETY */
    TT_EQ_INT(hx_open(&h, &dialect_gemini, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}]}", "gemini-2.5-flash",
                      false), 0);
    struct exch_result res2 = {.text = "", .reasoning = "Why", .reasoning_len = 3,
                               .finish = EXCH_FIN_CONTENT_FILTER};
    h.d->finish(&h.x, &res2, &h.out);
    j = cJSON_Parse(h.out.p);
    TT_EQ_INT(cJSON_GetArraySize(path(j, "candidates.0.content.parts")), 1);
    TT_EQ_STR(pstr(j, "candidates.0.content.parts.0.text"), "");
    TT_EQ_STR(pstr(j, "candidates.0.finishReason"), "SAFETY");
    cJSON_Delete(j);
    hx_close(&h);
}

static void test_error_bodies(void)
{
    static const struct { int status; enum exch_err_kind kind; const char *name; } cases[] = {
        {400, EXCH_ERR_INVALID, "INVALID_ARGUMENT"}, {401, EXCH_ERR_AUTH, "UNAUTHENTICATED"},
        {403, EXCH_ERR_PERMISSION, "PERMISSION_DENIED"}, {404, EXCH_ERR_NOT_FOUND, "NOT_FOUND"},
        {413, EXCH_ERR_TOO_LARGE, "INVALID_ARGUMENT"}, {429, EXCH_ERR_RATE_LIMIT, "RESOURCE_EXHAUSTED"},
        {500, EXCH_ERR_SERVER, "INTERNAL"}, {502, EXCH_ERR_UPSTREAM, "UNAVAILABLE"},
        {503, EXCH_ERR_OVERLOADED, "UNAVAILABLE"}, {504, EXCH_ERR_TIMEOUT, "DEADLINE_EXCEEDED"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct exch_error e;
        exch_set_error(&e, cases[i].status, cases[i].kind, NULL, NULL, "msg \"%zu\"", i);
        e.retry_after = cases[i].status == 429 ? 7 : 0;
        struct gg_buf b;
        gg_buf_init(&b, 1 << 16);
        dialect_gemini.error_body(&e, &b);
        cJSON *j = cJSON_Parse(b.p);
        TT_EQ_INT(pnum(j, "error.code"), cases[i].status);
        TT_EQ_STR(pstr(j, "error.status"), cases[i].name);
        TT_CHECK(pstr(j, "error.message") && !strncmp(pstr(j, "error.message"), "msg \"", 5));
        if (cases[i].status == 429) {
            TT_EQ_STR(pstr(j, "error.details.0.@type"), "type.googleapis.com/google.rpc.RetryInfo");
            TT_EQ_STR(pstr(j, "error.details.0.retryDelay"), "7s");
        } else {
            TT_CHECK(path(j, "error.details") == NULL);
        }
        cJSON_Delete(j);
        gg_buf_free(&b);
    }
}

static int64_t est_chars(const char *s, size_t n)
{
    (void)s;
    return (int64_t)n;
}

static void test_count_tokens(void)
{
    struct gg_buf b;
    gg_buf_init(&b, 1 << 16);
    struct exch_error err;
    const char *body = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"abcd\"}]},{\"role\":\"model\","
                       "\"parts\":[{\"text\":\"ef\"}]}]}";
    struct exch_parse_in in = {.body = body, .len = strlen(body), .path_model = "models/gemini-2.5-flash"};
    TT_EQ_INT(gem_count_tokens(&in, est_chars, &b, &err), 0);
    TT_EQ_STR(b.p, "{\"totalTokens\":6}");
    gg_buf_reset(&b);
    const char *wrapped = "{\"generateContentRequest\":{\"model\":\"models/gemini-2.5-flash\",\"contents\":"
                          "[{\"parts\":[{\"text\":\"abc\"}]}],\"systemInstruction\":{\"parts\":[{\"text\":\"zz\"}]},"
                          "\"tools\":[{\"functionDeclarations\":[{\"name\":\"fn\"}]}]}}";
    struct exch_parse_in in2 = {.body = wrapped, .len = strlen(wrapped), .path_model = NULL};
    TT_EQ_INT(gem_count_tokens(&in2, est_chars, &b, &err), 0);
    TT_EQ_STR(b.p, "{\"totalTokens\":7}");
    struct exch_parse_in bad = {.body = "{\"contents\":[]}", .len = 15, .path_model = "gemini-2.5-flash"};
    TT_EQ_INT(gem_count_tokens(&bad, est_chars, &b, &err), -1);
    TT_EQ_INT(err.status, 400);
    gg_buf_free(&b);
}

static void test_models(void)
{
    struct gg_buf b;
    gg_buf_init(&b, 1 << 20);
    struct exch_error err;
    TT_EQ_INT(gem_models_body(NULL, &b, &err), 0);
    cJSON *j = cJSON_Parse(b.p);
    TT_CHECK(cJSON_IsArray(path(j, "models")) && cJSON_GetArraySize(path(j, "models")) > 3);
    bool found = false;
    const cJSON *m;
    cJSON_ArrayForEach(m, path(j, "models")) {
        if (pstr(m, "name") && !strcmp(pstr(m, "name"), "models/gemini-2.5-flash")) {
            found = true;
            TT_EQ_STR(pstr(m, "displayName"), "Gemini 2.5 Flash");
            TT_EQ_STR(pstr(m, "supportedGenerationMethods.0"), "generateContent");
            TT_CHECK(pnum(m, "inputTokenLimit") > 0 && pnum(m, "outputTokenLimit") > 0);
        }
    }
    TT_CHECK(found);
    cJSON_Delete(j);
    gg_buf_reset(&b);
    TT_EQ_INT(gem_models_body("models/gemini-2.5-pro", &b, &err), 0);
    j = cJSON_Parse(b.p);
    TT_EQ_STR(pstr(j, "name"), "models/gemini-2.5-pro");
    cJSON_Delete(j);
    gg_buf_reset(&b);
    TT_EQ_INT(gem_models_body("no-such", &b, &err), -1);
    TT_EQ_INT(err.status, 404);
    TT_EQ_INT(gem_models_body("x\"y", &b, &err), -1);
    gg_buf_free(&b);
}

static void test_routing(void)
{
    char m[128];
    TT_EQ_INT(gem_route("/v1beta/models", m, sizeof(m)), GEM_LIST);
    TT_EQ_INT(gem_route("/v1beta/models/", m, sizeof(m)), GEM_LIST);
    TT_EQ_INT(gem_route("/v1beta/models/gemini-2.5-pro", m, sizeof(m)), GEM_GET);
    TT_EQ_STR(m, "gemini-2.5-pro");
    TT_EQ_INT(gem_route("/v1beta/models/gemini-2.5-flash:generateContent", m, sizeof(m)), GEM_GENERATE);
    TT_EQ_STR(m, "gemini-2.5-flash");
    TT_EQ_INT(gem_route("/v1beta/models/models/gemini-2.5-flash:streamGenerateContent", m, sizeof(m)), GEM_STREAM);
    TT_EQ_STR(m, "gemini-2.5-flash");
    TT_EQ_INT(gem_route("/v1beta/models/gemini-3-pro-preview:countTokens", m, sizeof(m)), GEM_COUNT);
    TT_EQ_INT(gem_route("/v1beta/models/x:embedContent", m, sizeof(m)), GEM_NONE);
    TT_EQ_STR(m, "");
    TT_EQ_INT(gem_route("/v1beta/models/:generateContent", m, sizeof(m)), GEM_NONE);
    TT_EQ_INT(gem_route("/v1beta/models/a/b:generateContent", m, sizeof(m)), GEM_NONE);
    TT_EQ_INT(gem_route("/v1beta/modelsX", m, sizeof(m)), GEM_NONE);
    TT_EQ_INT(gem_route("/v1/models/gemini-2.5-flash:generateContent", m, sizeof(m)), GEM_NONE);
    TT_EQ_INT(gem_route("/v1beta/models/abcdefghij:generateContent", m, 8), GEM_NONE);
    TT_CHECK(gem_dialect_for(GEM_STREAM, "sse") == &dialect_gemini);
    TT_CHECK(gem_dialect_for(GEM_STREAM, NULL) == &dialect_gemini_array);
    TT_CHECK(gem_dialect_for(GEM_STREAM, "json") == &dialect_gemini_array);
    TT_CHECK(gem_dialect_for(GEM_GENERATE, NULL) == &dialect_gemini);
    TT_EQ_STR(gem_api_key("h", "q", "Bearer b"), "h");
    TT_EQ_STR(gem_api_key("", "q", "Bearer b"), "q");
    TT_EQ_STR(gem_api_key(NULL, NULL, "bearer  b"), "b");
    TT_CHECK(gem_api_key(NULL, NULL, "Basic xyz") == NULL);
    TT_CHECK(gem_api_key(NULL, NULL, NULL) == NULL);
}

/* JSON mode: fences come off whatever the chunking; other text is intact. */
static void json_stream(const char *answer, size_t step, const char *want)
{
    struct gem_json_filter f;
    memset(&f, 0, sizeof(f));
    struct gg_buf out;
    gg_buf_init(&out, 1 << 16);
    for (size_t i = 0, n = strlen(answer); i < n; i += step)
        gem_json_feed(&f, answer + i, n - i < step ? n - i : step, &out);
    gem_json_end(&f, &out);
    gg_buf_addc(&out, '\0');
    TT_EQ_STR(out.p, want);
    gg_buf_free(&out);
}

static void test_json_mode(void)
{
    static const char *const cases[][2] = {
        {"```json\n{\"a\": 1}\n```\n", "{\"a\": 1}"},
        {"```\n[1, 2]\n```", "[1, 2]"},
        {"  {\"a\": \"x`y\"}  \n", "{\"a\": \"x`y\"}"},
        {"{\"code\": \"``` inside\"}", "{\"code\": \"``` inside\"}"},
        {"42", "42"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        for (size_t step = 1; step <= 8; step++)
            json_stream(cases[c][0], step, cases[c][1]);
    const char *o;
    size_t n;
    const char *whole = "Here it is:\n```json\n{\"a\": 1}\n```\nDone.";
    gem_json_whole(whole, strlen(whole), &o, &n);
    TT_EQ_INT((int)n, 8);
    TT_CHECK(!strncmp(o, "{\"a\": 1}", n));
    gem_json_whole(" {} ", 4, &o, &n);
    TT_EQ_INT((int)n, 2);

    /* the parse side: the instruction (with the schema) on the current turn */
    struct exch_request req;
    struct exch_error err;
    const char *body = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"rate it\"}]}],"
                       "\"generationConfig\":{\"responseMimeType\":\"application/json\","
                       "\"responseJsonSchema\":{\"type\":\"OBJECT\",\"properties\":{\"score\":{\"type\":\"INTEGER\"}}}}}";
    struct exch_parse_in in = {.body = body, .len = strlen(body), .path_model = "gemini-2.5-flash"};
    TT_EQ_INT(dialect_gemini.parse(&in, &req, &err), 0);
    TT_CHECK(req.opts != NULL);
    TT_CHECK(strstr(req.msgs[req.n_msgs - 1].text, "rate it\n\n(Answer with a single JSON value only") != NULL);
    TT_CHECK(strstr(req.msgs[req.n_msgs - 1].text, "\"score\"") != NULL);
    dialect_gemini.opts_free(req.opts);
    exch_request_free(&req);
    const char *bad = "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"responseMimeType\":\"image/png\"}}";
    struct exch_parse_in in2 = {.body = bad, .len = strlen(bad), .path_model = "gemini-2.5-flash"};
    TT_EQ_INT(dialect_gemini.parse(&in2, &req, &err), -1);
    TT_EQ_INT(err.status, 400);
}

int main(void)
{
    cfg.image_max_bytes = 1 << 20;
    cfg.thinking = THINKING_REASONING;
    TT_RUN(test_parse_basic);
    TT_RUN(test_parse_function_calls);
    TT_RUN(test_parse_tools);
    TT_RUN(test_parse_errors);
    TT_RUN(test_stream_sse);
    TT_RUN(test_stream_array);
    TT_RUN(test_stream_fail);
    TT_RUN(test_whole_body);
    TT_RUN(test_error_bodies);
    TT_RUN(test_count_tokens);
    TT_RUN(test_models);
    TT_RUN(test_routing);
    TT_RUN(test_json_mode);
    return TT_REPORT();
}
