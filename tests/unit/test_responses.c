/* test_responses.c -- the OpenAI Responses dialect: parsing of every field
 * and error, the exact streamed event sequence (reasoning + text, function
 * calls, failure, truncation), the response object and the error envelope. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "exch_harness.h"
#include "responses.h"
#include "tinytest.h"

#define PNG_B64 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

/* ---- SSE frames ------------------------------------------------------------ */

#define MAX_FRAMES 128

struct frames {
    int n;
    char type[MAX_FRAMES][64];
    cJSON *data[MAX_FRAMES];
    int bad;        /* frames whose event name differs from data.type, or unparsable */
};

static void frames_parse(const char *s, struct frames *f)
{
    memset(f, 0, sizeof(*f));
    while (s && *s) {
        const char *end = strstr(s, "\n\n");
        if (!end) {
            f->bad++;   /* a frame must end with a blank line */
            break;
        }
        if (*s != ':' && f->n < MAX_FRAMES) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            if (strncmp(s, "event: ", 7) || !nl || strncmp(nl + 1, "data: ", 6)) {
                f->bad++;
            } else {
                size_t tl = (size_t)(nl - s - 7);
                snprintf(f->type[f->n], sizeof(f->type[0]), "%.*s", (int)tl, s + 7);
                f->data[f->n] = cJSON_ParseWithLength(nl + 7, (size_t)(end - nl - 7));
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(f->data[f->n], "type");
                if (!cJSON_IsString(t) || strcmp(t->valuestring, f->type[f->n]))
                    f->bad++;
                f->n++;
            }
        }
        s = end + 2;
    }
}

static void frames_free(struct frames *f)
{
    for (int i = 0; i < f->n; i++)
        cJSON_Delete(f->data[i]);
}

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

static void check_sequence(const struct frames *f)
{
    TT_EQ_INT(f->bad, 0);
    for (int i = 0; i < f->n; i++)
        TT_EQ_INT(pnum(f->data[i], "sequence_number"), i);
}

static void check_types(const struct frames *f, const char *const *want)
{
    int i = 0;
    for (; want[i]; i++) {
        TT_CHECK(i < f->n);
        if (i >= f->n)
            return;
        TT_EQ_STR(f->type[i], want[i]);
    }
    TT_EQ_INT(f->n, i);
}

/* ---- parsing ---------------------------------------------------------------- */

static void test_parse_string_input(void)
{
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_responses, "{\"model\":\"gemini-2.5-flash\",\"input\":\"Hi there\"}", NULL,
                      false), 0);
    TT_EQ_INT(h.req.n_msgs, 1);
    TT_EQ_INT(h.req.msgs[0].role, EXCH_USER);
    TT_EQ_STR(h.req.msgs[0].text, "Hi there");
    TT_CHECK(!h.req.stream);
    TT_CHECK(!h.req.want_reasoning);
    TT_CHECK(h.req.parallel_tool_calls);
    TT_EQ_INT(h.req.first_new, 0);
    TT_EQ_STR(h.req.model_req, "gemini-2.5-flash");
    TT_CHECK(responses_store(&h.req));
    TT_CHECK(responses_previous_id(&h.req) == NULL);
    hx_close(&h);
}

static void test_parse_items(void)
{
    const char *body =
        "{\"model\":\"gemini-2.5-pro\",\"stream\":true,\"store\":false,\"instructions\":\"Be brief.\","
        "\"previous_response_id\":\"resp_abc\",\"max_output_tokens\":300,\"metadata\":{\"k\":\"v\"},"
        "\"temperature\":0.5,\"top_p\":0.9,\"user\":\"u1\",\"truncation\":\"auto\","
        "\"text\":{\"format\":{\"type\":\"text\"}},\"include\":[\"reasoning.encrypted_content\"],"
        "\"input\":["
        "{\"role\":\"developer\",\"content\":\"Dev rule\"},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"Look\"},"
        "{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64," PNG_B64 "\",\"detail\":\"auto\"}]},"
        "{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]},"
        "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Calling\"}]},"
        "{\"type\":\"function_call\",\"call_id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"},"
        "{\"type\":\"function_call\",\"call_id\":\"call_2\",\"name\":\"get_time\",\"arguments\":\"{}\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"call_1\",\"output\":\"18C\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"call_2\",\"output\":[{\"type\":\"input_text\",\"text\":\"noon\"}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"And this?\"},"
        "{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64," PNG_B64 "\"},"
        "{\"type\":\"input_file\",\"filename\":\"a.txt\",\"file_data\":\"aGVsbG8=\"}]}]}";
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_responses, body, NULL, false), 0);
    TT_EQ_INT(h.req.n_msgs, 7);
    TT_EQ_INT(h.req.msgs[0].role, EXCH_SYSTEM);
    TT_EQ_STR(h.req.msgs[0].text, "Be brief.");
    TT_EQ_INT(h.req.msgs[1].role, EXCH_SYSTEM);
    TT_EQ_STR(h.req.msgs[1].text, "Dev rule");
    TT_EQ_INT(h.req.msgs[2].role, EXCH_USER);
    TT_EQ_STR(h.req.msgs[2].text, "Look");
    TT_EQ_INT(h.req.msgs[2].n_images, 1);
    TT_EQ_INT(h.req.msgs[3].role, EXCH_ASSISTANT);
    TT_EQ_STR(h.req.msgs[3].text, "Calling");
    TT_EQ_INT(h.req.msgs[3].n_tool_calls, 2);
    TT_EQ_STR(h.req.msgs[3].tool_calls[0].id, "call_1");
    TT_EQ_STR(h.req.msgs[3].tool_calls[0].name, "get_weather");
    TT_EQ_STR(h.req.msgs[3].tool_calls[0].args_json, "{\"city\":\"Paris\"}");
    TT_EQ_STR(h.req.msgs[3].tool_calls[1].name, "get_time");
    TT_EQ_INT(h.req.msgs[4].role, EXCH_TOOL);
    TT_EQ_STR(h.req.msgs[4].tool_call_id, "call_1");
    TT_EQ_STR(h.req.msgs[4].name, "get_weather");
    TT_EQ_STR(h.req.msgs[4].text, "18C");
    TT_EQ_STR(h.req.msgs[5].tool_call_id, "call_2");
    TT_EQ_STR(h.req.msgs[5].text, "noon");
    TT_EQ_INT(h.req.msgs[6].role, EXCH_USER);
    TT_EQ_STR(h.req.msgs[6].text, "And this?");
    TT_EQ_INT(h.req.msgs[6].n_images, 2);
    TT_EQ_INT(h.req.first_new, 4);
    TT_EQ_INT(h.req.n_att, 3);
    TT_CHECK(!h.req.att[0].upload);
    TT_EQ_INT(h.req.att[0].msg_index, 2);
    TT_CHECK(h.req.att[1].upload && h.req.att[1].data && h.req.att[1].len == 70);
    TT_EQ_STR(h.req.att[1].mime, "image/png");
    TT_EQ_INT(h.req.att[1].msg_index, 6);
    TT_EQ_INT(h.req.att[1].part_index, 1);
    TT_CHECK(h.req.att[2].upload && h.req.att[2].is_file && h.req.att[2].len == 5);
    TT_EQ_STR(h.req.att[2].mime, "text/plain");
    TT_EQ_STR(h.req.att[2].filename, "a.txt");
    TT_CHECK(h.req.stream);
    TT_CHECK(!responses_store(&h.req));
    TT_EQ_STR(responses_previous_id(&h.req), "resp_abc");
    TT_EQ_INT(h.req.max_tokens, 300);
    TT_EQ_STR(h.req.model.name, "gemini-2.5-pro");
    hx_close(&h);
}

static void test_parse_tools(void)
{
    struct hx h;
    const char *body =
        "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"parallel_tool_calls\":false,"
        "\"tools\":[{\"type\":\"function\",\"name\":\"get_weather\",\"description\":\"Weather\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]},"
        "\"strict\":true},{\"type\":\"web_search_preview\"},{\"type\":\"file_search\",\"vector_store_ids\":[]},"
        "{\"type\":\"function\",\"name\":\"noargs\"}],"
        "\"tool_choice\":{\"type\":\"function\",\"name\":\"get_weather\"}}";
    TT_EQ_INT(hx_open(&h, &dialect_responses, body, NULL, false), 0);
    TT_EQ_INT(h.req.n_tools, 2);
    TT_EQ_STR(h.req.tools[0].name, "get_weather");
    TT_EQ_STR(h.req.tools[0].description, "Weather");
    TT_EQ_STR(h.req.tools[0].params_json,
              "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}");
    TT_CHECK(h.req.tools[1].params_json == NULL && h.req.tools[1].description == NULL);
    TT_CHECK(h.req.grounding);
    TT_CHECK(h.req.model.tools & TOOLS_SEARCH);
    TT_EQ_INT(h.req.tool_choice, EXCH_TOOLS_NAMED);
    TT_EQ_STR(h.req.tool_choice_name, "get_weather");
    TT_CHECK(!h.req.parallel_tool_calls);
    hx_close(&h);
    static const struct { const char *tc; int want; } modes[] = {
        {"\"auto\"", EXCH_TOOLS_AUTO}, {"\"none\"", EXCH_TOOLS_NONE}, {"\"required\"", EXCH_TOOLS_REQUIRED},
        {"{\"type\":\"allowed_tools\",\"mode\":\"required\",\"tools\":[]}", EXCH_TOOLS_REQUIRED},
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char b[512];
        snprintf(b, sizeof(b), "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"tools\":[{\"type\":\"function\","
                 "\"name\":\"f\"}],\"tool_choice\":%s}", modes[i].tc);
        TT_EQ_INT(hx_open(&h, &dialect_responses, b, NULL, false), 0);
        TT_EQ_INT(h.req.tool_choice, modes[i].want);
        hx_close(&h);
    }
}

static void test_reasoning_flag(void)
{
    struct hx h;
    const char *b = "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"reasoning\":{\"effort\":\"high\","
                    "\"summary\":\"auto\"}}";
    TT_EQ_INT(hx_open(&h, &dialect_responses, b, NULL, false), 0);
    TT_CHECK(h.req.want_reasoning);
    hx_close(&h);
    TT_EQ_INT(hx_open(&h, &dialect_responses, "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"reasoning\":"
                      "{\"effort\":\"low\"}}", NULL, false), 0);
    TT_CHECK(!h.req.want_reasoning);
    hx_close(&h);
    cfg.thinking = THINKING_DROP;
    TT_EQ_INT(hx_open(&h, &dialect_responses, b, NULL, false), 0);
    TT_CHECK(!h.req.want_reasoning);
    hx_close(&h);
    cfg.thinking = THINKING_REASONING;
}

static void test_parse_errors(void)
{
    static const struct { const char *body; int status; const char *param; } cases[] = {
        {"{not json", 400, ""},
        {"[1]", 400, ""},
        {"{\"input\":\"x\"}", 400, "model"},
        {"{\"model\":7,\"input\":\"x\"}", 400, "model"},
        {"{\"model\":\"gemini-2.5-flash\"}", 400, "input"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":5}", 400, "input"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[]}", 400, "input"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", 400, "input[0].role"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"role\":\"user\"}]}", 400, "input[0].content"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
         "\"file_id\":\"file-1\"}]}]}", 400, "input[0].content[0].image_url"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
         "\"image_url\":\"http://127.0.0.1/a.png\"}]}]}", 400, "input[0].content[0].image_url"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\","
         "\"image_url\":\"ftp://x/a.png\"}]}]}", 400, "input[0].content[0].image_url"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\","
         "\"file_id\":\"file-1\"}]}]}", 400, "input[0].content[0]"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"}]}]}",
         400, "input[0].content[0].type"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"type\":\"item_reference\",\"id\":\"msg_1\"}]}", 400,
         "input[0].type"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"type\":\"function_call\",\"name\":\"f\",\"arguments\":\"{}\"}]}",
         400, "input[0].call_id"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\"}]}", 400,
         "input[0].output"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"background\":true}", 400, "background"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"conversation\":\"conv_1\"}", 400, "conversation"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"max_output_tokens\":0}", 400, "max_output_tokens"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"max_output_tokens\":1.5}", 400, "max_output_tokens"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"temperature\":3}", 400, "temperature"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"stream\":\"yes\"}", 400, "stream"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"truncation\":\"maybe\"}", 400, "truncation"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"metadata\":[1]}", 400, "metadata"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"reasoning\":{\"summary\":\"loud\"}}", 400,
         "reasoning.summary"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"tools\":{}}", 400, "tools"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"tools\":[{\"type\":\"function\"}]}", 400, "tools[0].name"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"tool_choice\":\"sometimes\"}", 400, "tool_choice"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"tool_choice\":\"required\"}", 400, "tool_choice"},
        {"{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"tool_choice\":{\"type\":\"function\",\"name\":\"nope\"}}",
         400, "tool_choice"},
        {"{\"model\":\"no-such-model\",\"input\":\"x\"}", 404, "model"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hx h;
        int rc = hx_open(&h, &dialect_responses, cases[i].body, NULL, false);
        TT_EQ_INT(rc, -1);
        TT_EQ_INT(h.err.status, cases[i].status);
        TT_EQ_STR(h.err.param, cases[i].param);
        TT_CHECK(h.err.message[0] != '\0');
        if (rc == -1)
            TT_CHECK(h.req.msgs == NULL && h.req.opts == NULL && h.req.model_req == NULL);
        hx_close(&h);
    }
}

/* ---- encoders ----------------------------------------------------------------- */

static const char *const seq_reasoning_text[] = {
    "response.created", "response.in_progress",
    "response.output_item.added", "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
    "response.output_item.added", "response.content_part.added",
    "response.output_text.delta", "response.output_text.delta",
    "response.output_text.done", "response.content_part.done", "response.output_item.done",
    "response.completed", NULL};

static void test_stream_reasoning_text(void)
{
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_responses, "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"stream\":true,"
                      "\"reasoning\":{\"summary\":\"auto\"},\"metadata\":{\"a\":\"b\"}}", NULL, false), 0);
    h.d->begin(&h.x, &h.out);
    hx_text(&h, EXCH_EV_REASONING, "Let me");
    hx_text(&h, EXCH_EV_REASONING, " think");
    hx_text(&h, EXCH_EV_TEXT, "Hel");
    hx_text(&h, EXCH_EV_TEXT, "lo \"you\"");
    struct exch_result res = {.text = "Hello \"you\"", .text_len = 11, .reasoning = "Let me think",
                              .reasoning_len = 12, .finish = EXCH_FIN_STOP,
                              .usage = {.prompt_tokens = 5, .completion_tokens = 9, .reasoning_tokens = 3}};
    h.d->finish(&h.x, &res, &h.out);
    struct frames f;
    frames_parse(h.out.p, &f);
    check_sequence(&f);
    check_types(&f, seq_reasoning_text);
    if (f.n == 17) {
        const cJSON *c = f.data[0];
        TT_EQ_STR(pstr(c, "response.id"), "resp_req-42x");
        TT_EQ_STR(pstr(c, "response.object"), "response");
        TT_EQ_STR(pstr(c, "response.status"), "in_progress");
        TT_EQ_INT(cJSON_GetArraySize(path(c, "response.output")), 0);
        TT_CHECK(cJSON_IsNull(path(c, "response.usage")));
        TT_EQ_STR(pstr(c, "response.metadata.a"), "b");
        TT_EQ_STR(pstr(c, "response.reasoning.summary"), "auto");
        TT_EQ_STR(pstr(f.data[2], "item.type"), "reasoning");
        TT_EQ_STR(pstr(f.data[2], "item.id"), "rs_req-42x");
        TT_EQ_INT(pnum(f.data[2], "output_index"), 0);
        TT_EQ_STR(pstr(f.data[3], "part.type"), "summary_text");
        TT_EQ_STR(pstr(f.data[4], "delta"), "Let me");
        TT_EQ_STR(pstr(f.data[4], "item_id"), "rs_req-42x");
        TT_EQ_INT(pnum(f.data[4], "summary_index"), 0);
        TT_EQ_STR(pstr(f.data[6], "text"), "Let me think");
        TT_EQ_STR(pstr(f.data[7], "part.text"), "Let me think");
        TT_EQ_STR(pstr(f.data[8], "item.summary.0.text"), "Let me think");
        TT_EQ_STR(pstr(f.data[9], "item.type"), "message");
        TT_EQ_STR(pstr(f.data[9], "item.status"), "in_progress");
        TT_EQ_STR(pstr(f.data[9], "item.role"), "assistant");
        TT_EQ_INT(pnum(f.data[9], "output_index"), 1);
        TT_EQ_STR(pstr(f.data[10], "part.type"), "output_text");
        TT_EQ_STR(pstr(f.data[10], "part.text"), "");
        TT_EQ_STR(pstr(f.data[11], "delta"), "Hel");
        TT_EQ_INT(pnum(f.data[11], "content_index"), 0);
        TT_EQ_INT(pnum(f.data[11], "output_index"), 1);
        TT_EQ_STR(pstr(f.data[11], "item_id"), "msg_req-42x");
        TT_EQ_STR(pstr(f.data[13], "text"), "Hello \"you\"");
        TT_EQ_STR(pstr(f.data[14], "part.text"), "Hello \"you\"");
        TT_EQ_STR(pstr(f.data[15], "item.status"), "completed");
        TT_EQ_STR(pstr(f.data[15], "item.content.0.text"), "Hello \"you\"");
        const cJSON *r = path(f.data[16], "response");
        TT_EQ_STR(pstr(r, "status"), "completed");
        TT_EQ_INT(cJSON_GetArraySize(path(r, "output")), 2);
        TT_EQ_STR(pstr(r, "output.0.summary.0.text"), "Let me think");
        TT_EQ_STR(pstr(r, "output.1.content.0.text"), "Hello \"you\"");
        TT_EQ_INT(pnum(r, "usage.input_tokens"), 5);
        TT_EQ_INT(pnum(r, "usage.output_tokens"), 9);
        TT_EQ_INT(pnum(r, "usage.total_tokens"), 14);
        TT_EQ_INT(pnum(r, "usage.output_tokens_details.reasoning_tokens"), 3);
        TT_EQ_INT(pnum(r, "usage.input_tokens_details.cached_tokens"), 0);
        TT_EQ_INT(pnum(r, "created_at"), 1700000000);
        TT_CHECK(cJSON_IsNull(path(r, "error")));
    }
    frames_free(&f);
    hx_close(&h);
}

static const char *const seq_call[] = {
    "response.created", "response.in_progress",
    "response.output_item.added", "response.content_part.added", "response.output_text.delta",
    "response.output_text.done", "response.content_part.done", "response.output_item.done",
    "response.output_item.added", "response.function_call_arguments.delta",
    "response.function_call_arguments.delta", "response.function_call_arguments.done",
    "response.output_item.done",
    "response.output_item.added", "response.function_call_arguments.done", "response.output_item.done",
    "response.completed", NULL};

static void test_stream_function_calls(void)
{
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_responses, "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"stream\":true,"
                      "\"tools\":[{\"type\":\"function\",\"name\":\"get_weather\"}]}", NULL, false), 0);
    struct exch_tool_call c0 = {.id = "call_a", .name = "get_weather", .args_json = "{\"city\":\"Paris\"}"};
    struct exch_tool_call c1 = {.id = "call_b", .name = "get_weather", .args_json = "{\"city\":\"Rome\"}"};
    h.d->begin(&h.x, &h.out);
    hx_text(&h, EXCH_EV_TEXT, "Checking.");
    hx_call(&h, EXCH_EV_TOOL_CALL_BEGIN, &c0, 0);
    struct exch_event a1 = {.kind = EXCH_EV_TOOL_CALL_ARGS, .text = "{\"city\":", .len = 8};
    struct exch_event a2 = {.kind = EXCH_EV_TOOL_CALL_ARGS, .text = "\"Paris\"}", .len = 8};
    h.d->event(&h.x, &a1, &h.out);
    h.d->event(&h.x, &a2, &h.out);
    hx_call(&h, EXCH_EV_TOOL_CALL_END, &c0, 0);
    hx_call(&h, EXCH_EV_TOOL_CALL_END, &c1, 1);    /* END without BEGIN: opened on the spot */
    struct exch_tool_call calls[2] = {c0, c1};
    struct exch_result res = {.text = "Checking.", .text_len = 9, .reasoning = "", .calls = calls, .n_calls = 2,
                              .finish = EXCH_FIN_TOOL_CALLS};
    h.d->finish(&h.x, &res, &h.out);
    struct frames f;
    frames_parse(h.out.p, &f);
    check_sequence(&f);
    check_types(&f, seq_call);
    if (f.n == 17) {
        TT_EQ_STR(pstr(f.data[8], "item.type"), "function_call");
        TT_EQ_STR(pstr(f.data[8], "item.call_id"), "call_a");
        TT_EQ_STR(pstr(f.data[8], "item.name"), "get_weather");
        TT_EQ_STR(pstr(f.data[8], "item.arguments"), "");
        TT_EQ_STR(pstr(f.data[8], "item.status"), "in_progress");
        TT_EQ_INT(pnum(f.data[8], "output_index"), 1);
        TT_EQ_STR(pstr(f.data[9], "delta"), "{\"city\":");
        TT_EQ_STR(pstr(f.data[9], "item_id"), "fc_req-42x");
        TT_EQ_STR(pstr(f.data[11], "arguments"), "{\"city\":\"Paris\"}");
        TT_EQ_STR(pstr(f.data[11], "name"), "get_weather");
        TT_EQ_STR(pstr(f.data[12], "item.arguments"), "{\"city\":\"Paris\"}");
        TT_EQ_STR(pstr(f.data[12], "item.status"), "completed");
        TT_EQ_STR(pstr(f.data[13], "item.call_id"), "call_b");
        TT_EQ_STR(pstr(f.data[13], "item.id"), "fc_req-42x_1");
        TT_EQ_INT(pnum(f.data[13], "output_index"), 2);
        const cJSON *r = path(f.data[16], "response");
        TT_EQ_INT(cJSON_GetArraySize(path(r, "output")), 3);
        TT_EQ_STR(pstr(r, "output.0.type"), "message");
        TT_EQ_STR(pstr(r, "output.1.type"), "function_call");
        TT_EQ_STR(pstr(r, "output.1.id"), "fc_req-42x");
        TT_EQ_STR(pstr(r, "output.2.call_id"), "call_b");
        TT_EQ_STR(pstr(r, "output.2.arguments"), "{\"city\":\"Rome\"}");
        TT_EQ_STR(pstr(r, "tools.0.name"), "get_weather");
    }
    frames_free(&f);
    hx_close(&h);
}

static void test_stream_fail_and_incomplete(void)
{
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_responses, "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"stream\":true}",
                      NULL, false), 0);
    struct exch_error e;
    exch_set_error(&e, 502, EXCH_ERR_UPSTREAM, NULL, NULL, "The upstream closed the stream early.");
    h.d->fail(&h.x, &e, &h.out);        /* committed by pings only: no begin yet */
    h.d->fail(&h.x, &e, &h.out);        /* once only */
    struct frames f;
    frames_parse(h.out.p, &f);
    check_sequence(&f);
    static const char *const want[] = {"response.created", "response.in_progress", "response.failed", NULL};
    check_types(&f, want);
    if (f.n == 3) {
        TT_EQ_STR(pstr(f.data[2], "response.status"), "failed");
        TT_EQ_STR(pstr(f.data[2], "response.error.code"), "server_error");
        TT_EQ_STR(pstr(f.data[2], "response.error.message"), "The upstream closed the stream early.");
    }
    frames_free(&f);
    hx_close(&h);

    /* a rate limit after the start: code and delay where agents look */
    TT_EQ_INT(hx_open(&h, &dialect_responses, "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"stream\":true}",
                      NULL, false), 0);
    h.d->begin(&h.x, &h.out);
    exch_set_error(&e, 429, EXCH_ERR_RATE_LIMIT, NULL, NULL, "Rate limited.");
    e.retry_after = 12;
    h.d->fail(&h.x, &e, &h.out);
    frames_parse(h.out.p, &f);
    check_sequence(&f);
    TT_EQ_STR(pstr(f.data[f.n - 1], "response.error.code"), "rate_limit_exceeded");
    TT_EQ_STR(pstr(f.data[f.n - 1], "response.error.message"), "Rate limited. Please try again in 12s.");
    frames_free(&f);
    hx_close(&h);

    TT_EQ_INT(hx_open(&h, &dialect_responses, "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"stream\":true,"
                      "\"max_output_tokens\":3}", NULL, false), 0);
    h.d->begin(&h.x, &h.out);
    hx_text(&h, EXCH_EV_TEXT, "one two");
    struct exch_result res = {.text = "one two", .text_len = 7, .reasoning = "", .finish = EXCH_FIN_LENGTH};
    h.d->finish(&h.x, &res, &h.out);
    frames_parse(h.out.p, &f);
    check_sequence(&f);
    TT_EQ_STR(f.type[f.n - 1], "response.incomplete");
    TT_EQ_STR(pstr(f.data[f.n - 1], "response.status"), "incomplete");
    TT_EQ_STR(pstr(f.data[f.n - 1], "response.incomplete_details.reason"), "max_output_tokens");
    TT_EQ_STR(pstr(f.data[f.n - 2], "item.status"), "incomplete");
    TT_EQ_INT(pnum(f.data[f.n - 1], "response.max_output_tokens"), 3);
    frames_free(&f);
    hx_close(&h);

    /* an empty answer is still one (empty) message */
    TT_EQ_INT(hx_open(&h, &dialect_responses, "{\"model\":\"gemini-2.5-flash\",\"input\":\"x\",\"stream\":true}",
                      NULL, false), 0);
    h.d->begin(&h.x, &h.out);
    struct exch_result empty = {.text = "", .reasoning = "", .finish = EXCH_FIN_STOP};
    h.d->finish(&h.x, &empty, &h.out);
    frames_parse(h.out.p, &f);
    check_sequence(&f);
    static const char *const want_empty[] = {
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.completed", NULL};
    check_types(&f, want_empty);
    frames_free(&f);
    hx_close(&h);
}

static void test_nonstream_object(void)
{
    struct hx h;
    TT_EQ_INT(hx_open(&h, &dialect_responses, "{\"model\":\"gpt-4o\",\"input\":\"x\",\"instructions\":\"Sys\","
                      "\"temperature\":0.2,\"user\":\"bob\",\"previous_response_id\":\"resp_prev\"}", NULL, false), 0);
    struct exch_citation cites[1] = {{.url = "https://example.com/a", .title = "A"}};
    struct exch_result res = {.text = "Answer", .text_len = 6, .reasoning = "hidden", .reasoning_len = 6,
                              .cites = cites, .n_cites = 1, .finish = EXCH_FIN_STOP,
                              .usage = {.prompt_tokens = 2, .completion_tokens = 3}};
    h.d->finish(&h.x, &res, &h.out);
    cJSON *j = cJSON_Parse(h.out.p);
    TT_CHECK(j != NULL);
    TT_EQ_STR(pstr(j, "id"), "resp_req-42x");
    TT_EQ_STR(pstr(j, "object"), "response");
    TT_EQ_STR(pstr(j, "status"), "completed");
    TT_EQ_STR(pstr(j, "model"), "gemini-2.5-flash");
    TT_EQ_STR(pstr(j, "instructions"), "Sys");
    TT_EQ_STR(pstr(j, "user"), "bob");
    TT_EQ_STR(pstr(j, "previous_response_id"), "resp_prev");
    TT_CHECK(pnum(j, "temperature") > 0.19 && pnum(j, "temperature") < 0.21);
    TT_EQ_INT(pnum(j, "top_p"), 1);
    TT_EQ_STR(pstr(j, "tool_choice"), "auto");
    TT_EQ_STR(pstr(j, "truncation"), "disabled");
    TT_EQ_STR(pstr(j, "text.format.type"), "text");
    TT_CHECK(cJSON_IsTrue(path(j, "store")) && cJSON_IsTrue(path(j, "parallel_tool_calls")));
    TT_CHECK(cJSON_IsNull(path(j, "error")) && cJSON_IsNull(path(j, "incomplete_details")));
    TT_CHECK(cJSON_IsObject(path(j, "metadata")));
    TT_CHECK(pnum(j, "completed_at") > 1700000000);
    /* reasoning was not asked for: no reasoning item */
    TT_EQ_INT(cJSON_GetArraySize(path(j, "output")), 1);
    TT_EQ_STR(pstr(j, "output.0.id"), "msg_req-42x");
    TT_EQ_STR(pstr(j, "output.0.content.0.type"), "output_text");
    TT_EQ_STR(pstr(j, "output.0.content.0.text"), "Answer");
    TT_EQ_STR(pstr(j, "output.0.content.0.annotations.0.type"), "url_citation");
    TT_EQ_STR(pstr(j, "output.0.content.0.annotations.0.url"), "https://example.com/a");
    TT_EQ_INT(pnum(j, "output.0.content.0.annotations.0.end_index"), 6);
    TT_EQ_INT(pnum(j, "usage.total_tokens"), 5);
    TT_CHECK(path(j, "output_text") == NULL);  /* SDK-side convenience only */
    cJSON_Delete(j);
    /* the stored object is the same document */
    struct gg_buf again;
    gg_buf_init(&again, 1 << 20);
    responses_object(&h.x, &res, &again);
    TT_CHECK(again.len > 0);
    gg_buf_free(&again);
    hx_close(&h);
}

static void test_error_bodies(void)
{
    static const struct { int status; enum exch_err_kind kind; const char *type; } cases[] = {
        {400, EXCH_ERR_INVALID, "invalid_request_error"}, {401, EXCH_ERR_AUTH, "authentication_error"},
        {403, EXCH_ERR_PERMISSION, "permission_error"}, {404, EXCH_ERR_NOT_FOUND, "invalid_request_error"},
        {429, EXCH_ERR_RATE_LIMIT, "rate_limit_error"}, {502, EXCH_ERR_UPSTREAM, "api_error"},
        {503, EXCH_ERR_OVERLOADED, "api_error"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct exch_error e;
        exch_set_error(&e, cases[i].status, cases[i].kind, i == 0 ? "input" : NULL, i == 0 ? "invalid_value" : NULL,
                       "bad \"thing\" %zu", i);
        struct gg_buf b;
        gg_buf_init(&b, 1 << 16);
        dialect_responses.error_body(&e, &b);
        cJSON *j = cJSON_Parse(b.p);
        TT_EQ_STR(pstr(j, "error.type"), cases[i].type);
        TT_CHECK(pstr(j, "error.message") && strstr(pstr(j, "error.message"), "bad \"thing\""));
        if (i == 0) {
            TT_EQ_STR(pstr(j, "error.param"), "input");
            TT_EQ_STR(pstr(j, "error.code"), "invalid_value");
        } else {
            TT_CHECK(cJSON_IsNull(path(j, "error.param")) && cJSON_IsNull(path(j, "error.code")));
        }
        cJSON_Delete(j);
        gg_buf_free(&b);
    }
    struct exch_error nf;
    responses_not_found("resp_x", "previous_response_id", &nf);
    TT_EQ_INT(nf.status, 400);
    TT_EQ_STR(nf.param, "previous_response_id");
    TT_EQ_STR(nf.code, "previous_response_not_found");
    TT_EQ_STR(nf.message, "Previous response with id 'resp_x' not found.");
    responses_not_found("resp_y", NULL, &nf);
    TT_EQ_INT(nf.status, 404);
    TT_EQ_STR(nf.message, "Response with id 'resp_y' not found.");
    struct gg_buf b;
    gg_buf_init(&b, 1024);
    responses_deleted_body("resp_x", &b);
    TT_EQ_STR(b.p, "{\"id\":\"resp_x\",\"object\":\"response\",\"deleted\":true}");
    gg_buf_free(&b);
    struct exch_ctx x = {.id = "resp_ab/c"};
    char id[64];
    responses_id(&x, id, sizeof(id));
    TT_EQ_STR(id, "resp_abc");
}

int main(void)
{
    cfg.image_max_bytes = 1 << 20;
    cfg.thinking = THINKING_REASONING;
    TT_RUN(test_parse_string_input);
    TT_RUN(test_parse_items);
    TT_RUN(test_parse_tools);
    TT_RUN(test_reasoning_flag);
    TT_RUN(test_parse_errors);
    TT_RUN(test_stream_reasoning_text);
    TT_RUN(test_stream_function_calls);
    TT_RUN(test_stream_fail_and_incomplete);
    TT_RUN(test_nonstream_object);
    TT_RUN(test_error_bodies);
    return TT_REPORT();
}
