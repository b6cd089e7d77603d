/* test_anthropic.c -- unit tests of the Anthropic Messages dialect
 * (daemon/dialect/anthropic*.c): parsing of every field and its errors,
 * the exact bytes of streamed sequences, the non-streaming body, error
 * envelopes and statuses, count_tokens, Claude model aliases. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dialect/anthropic.h"
#include "models.h"
#include "tinytest.h"


static const char PNG_B64[] =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
static const char PDF_B64[] = "JVBERi0xLjQKMSAwIG9iajw8Pj5lbmRvYmoKJSVFT0YK";

static int parse_s(const char *body, struct exch_request *req, struct exch_error *err)
{
    struct exch_parse_in in = {.body = body, .len = strlen(body), .key_id = "k1"};
    return dialect_anthropic.parse(&in, req, err);
}

static void release(struct exch_request *req)
{
    dialect_anthropic.opts_free(req->opts);
    req->opts = NULL;
    exch_request_free(req);
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse_minimal(void)
{
    struct exch_request r;
    struct exch_error e;
    TT_EQ_INT(parse_s("{\"model\":\"gemini-2.5-flash\",\"max_tokens\":1024,"
                      "\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}", &r, &e), 0);
    TT_EQ_STR(r.model_req, "gemini-2.5-flash");
    TT_EQ_STR(r.model.model->id, "gemini-2.5-flash");
    TT_EQ_INT(r.max_tokens, 1024);
    TT_EQ_INT(r.stream, 0);
    TT_EQ_INT(r.want_reasoning, 0);
    TT_EQ_INT(r.grounding, 0);
    TT_EQ_INT(r.n_msgs, 1);
    TT_EQ_INT(r.msgs[0].role, EXCH_USER);
    TT_EQ_STR(r.msgs[0].text, "Hello");
    TT_EQ_INT(r.first_new, 0);
    TT_EQ_INT(r.n_att, 0);
    TT_EQ_INT(r.n_tools, 0);
    TT_EQ_INT(r.tool_choice, EXCH_TOOLS_AUTO);
    TT_EQ_INT(r.parallel_tool_calls, 1);
    TT_CHECK(r.stop[0] == NULL);
    TT_CHECK(r.opts != NULL);
    TT_CHECK(((struct anth_opts *)r.opts)->input_tokens > 0);
    release(&r);
}

static void test_parse_full(void)
{
    static const char body[] =
        "{\"model\":\"gemini-2.5-pro\",\"max_tokens\":4096,\"stream\":true,"
        "\"system\":[{\"type\":\"text\",\"text\":\"You are terse.\",\"cache_control\":{\"type\":\"ephemeral\"}},"
        "{\"type\":\"text\",\"text\":\"Answer in English.\"}],"
        "\"metadata\":{\"user_id\":\"u-1\"},\"temperature\":0.5,\"top_p\":0.9,\"top_k\":40,"
        "\"stop_sequences\":[\"END\",\"\",\"STOP\"],"
        "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2048},"
        "\"tools\":[{\"name\":\"get_weather\",\"description\":\"Weather by city\","
        "\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]},"
        "\"cache_control\":{\"type\":\"ephemeral\"}},"
        "{\"type\":\"web_search_20250305\",\"name\":\"web_search\",\"max_uses\":5}],"
        "\"tool_choice\":{\"type\":\"tool\",\"name\":\"get_weather\",\"disable_parallel_tool_use\":true},"
        "\"messages\":["
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
        "{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"https://example.com/old.png\"}}]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"hm\",\"signature\":\"x\"},"
        "{\"type\":\"text\",\"text\":\"Let me check.\"},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_02\",\"name\":\"get_weather\",\"input\":{\"city\":\"Oslo\"}}]},"
        "{\"role\":\"user\",\"content\":["
        "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_01\",\"content\":\"18 C\"},"
        "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_02\",\"is_error\":true,"
        "\"content\":[{\"type\":\"text\",\"text\":\"timeout\"},{\"type\":\"text\",\"text\":\"retry later\"}]},"
        "{\"type\":\"text\",\"text\":\"And these?\"},"
        "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"%s\"}},"
        "{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"https://example.com/cat.png\"}},"
        "{\"type\":\"document\",\"title\":\"spec.pdf\",\"source\":{\"type\":\"base64\",\"media_type\":\"application/pdf\",\"data\":\"%s\"}},"
        "{\"type\":\"document\",\"source\":{\"type\":\"text\",\"media_type\":\"text/plain\",\"data\":\"plain doc\"}}"
        "]}]}";
    char buf[4096];
    snprintf(buf, sizeof(buf), body, PNG_B64, PDF_B64);
    struct exch_request r;
    struct exch_error e;
    int rc = parse_s(buf, &r, &e);
    TT_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "  error: %d %s\n", e.status, e.message);
        return;
    }
    TT_EQ_INT(r.stream, 1);
    TT_EQ_INT(r.max_tokens, 4096);
    TT_EQ_INT(r.want_reasoning, 1);
    TT_EQ_INT(((struct anth_opts *)r.opts)->thinking_budget, 2048);
    TT_EQ_INT(r.grounding, 1);
    TT_CHECK(r.model.tools & TOOLS_SEARCH);
    TT_EQ_STR(r.stop[0], "END");
    TT_EQ_STR(r.stop[1], "STOP");
    TT_CHECK(r.stop[2] == NULL);
    /* system, user, assistant, tool, tool, user */
    TT_EQ_INT(r.n_msgs, 6);
    TT_EQ_INT(r.msgs[0].role, EXCH_SYSTEM);
    TT_EQ_STR(r.msgs[0].text, "You are terse.\n\nAnswer in English.");
    TT_EQ_INT(r.msgs[1].role, EXCH_USER);
    TT_EQ_STR(r.msgs[1].text, "What is this?");
    TT_EQ_INT(r.msgs[1].n_images, 1);
    TT_EQ_INT(r.msgs[2].role, EXCH_ASSISTANT);
    TT_EQ_STR(r.msgs[2].text, "Let me check.");
    TT_EQ_INT(r.msgs[2].n_tool_calls, 2);
    TT_EQ_STR(r.msgs[2].tool_calls[0].id, "toolu_01");
    TT_EQ_STR(r.msgs[2].tool_calls[0].name, "get_weather");
    TT_EQ_STR(r.msgs[2].tool_calls[0].args_json, "{\"city\":\"Paris\"}");
    TT_EQ_STR(r.msgs[2].tool_calls[1].args_json, "{\"city\":\"Oslo\"}");
    TT_EQ_INT(r.msgs[3].role, EXCH_TOOL);
    TT_EQ_STR(r.msgs[3].tool_call_id, "toolu_01");
    TT_EQ_STR(r.msgs[3].name, "get_weather");
    TT_EQ_STR(r.msgs[3].text, "18 C");
    TT_EQ_INT(r.msgs[3].tool_error, 0);
    TT_EQ_INT(r.msgs[4].role, EXCH_TOOL);
    TT_EQ_STR(r.msgs[4].tool_call_id, "toolu_02");
    TT_EQ_STR(r.msgs[4].text, "timeout\nretry later");
    TT_EQ_INT(r.msgs[4].tool_error, 1);
    TT_EQ_INT(r.msgs[5].role, EXCH_USER);
    TT_EQ_STR(r.msgs[5].text, "And these?\nplain doc");
    TT_EQ_INT(r.msgs[5].n_images, 3);
    TT_EQ_INT(r.first_new, 3);
    /* attachments: the earlier turn's url (counted), then png, url, pdf */
    TT_EQ_INT(r.n_att, 4);
    TT_EQ_INT(r.att[0].upload, 0);
    TT_EQ_INT(r.att[0].msg_index, 1);
    TT_CHECK(r.att[0].data == NULL);
    TT_EQ_INT(r.att[1].upload, 1);
    TT_EQ_INT(r.att[1].msg_index, 5);
    TT_EQ_INT(r.att[1].part_index, 3);
    TT_EQ_INT(r.att[1].is_file, 0);
    TT_EQ_STR(r.att[1].mime, "image/png");
    TT_CHECK(r.att[1].data && r.att[1].len == 70 && memcmp(r.att[1].data, "\x89PNG", 4) == 0);
    TT_EQ_STR(r.att[1].param, "messages.2.content.3.source");
    TT_EQ_INT(r.att[2].upload, 1);
    TT_EQ_STR(r.att[2].url, "https://example.com/cat.png");
    TT_CHECK(r.att[2].data == NULL);
    TT_EQ_INT(r.att[3].is_file, 1);
    TT_EQ_STR(r.att[3].mime, "application/pdf");
    TT_EQ_STR(r.att[3].filename, "spec.pdf");
    TT_CHECK(r.att[3].data && memcmp(r.att[3].data, "%PDF-", 5) == 0);
    /* tools */
    TT_EQ_INT(r.n_tools, 1);
    TT_EQ_STR(r.tools[0].name, "get_weather");
    TT_EQ_STR(r.tools[0].description, "Weather by city");
    TT_EQ_STR(r.tools[0].params_json,
              "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}");
    TT_EQ_INT(r.tool_choice, EXCH_TOOLS_NAMED);
    TT_EQ_STR(r.tool_choice_name, "get_weather");
    TT_EQ_INT(r.parallel_tool_calls, 0);
    release(&r);
}

static void test_parse_variants(void)
{
    struct exch_request r;
    struct exch_error e;
    /* system string; thinking disabled; tool_choice any / none; consecutive user messages */
    TT_EQ_INT(parse_s("{\"model\":\"gemini-auto\",\"max_tokens\":10,\"system\":\"Be kind.\",\"stream\":false,"
                      "\"thinking\":{\"type\":\"disabled\"},"
                      "\"tools\":[{\"type\":\"custom\",\"name\":\"a-b_1\",\"input_schema\":{\"type\":\"object\"}}],"
                      "\"tool_choice\":{\"type\":\"any\"},"
                      "\"messages\":[{\"role\":\"user\",\"content\":\"one\"},{\"role\":\"user\",\"content\":\"two\"}]}",
                      &r, &e), 0);
    TT_EQ_INT(r.n_msgs, 3);
    TT_EQ_INT(r.msgs[0].role, EXCH_SYSTEM);
    TT_EQ_STR(r.msgs[0].text, "Be kind.");
    TT_EQ_INT(r.first_new, 0);
    TT_EQ_INT(r.want_reasoning, 0);
    TT_EQ_INT(r.tool_choice, EXCH_TOOLS_REQUIRED);
    TT_CHECK(r.tools[0].description == NULL);
    release(&r);
    TT_EQ_INT(parse_s("{\"model\":\"gemini-auto\",\"max_tokens\":10,\"thinking\":{\"type\":\"adaptive\"},"
                      "\"tool_choice\":{\"type\":\"none\"},"
                      "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r, &e), 0);
    TT_EQ_INT(r.want_reasoning, 1);
    TT_EQ_INT(r.tool_choice, EXCH_TOOLS_NONE);
    release(&r);
    /* display: omitted hides the thinking */
    TT_EQ_INT(parse_s("{\"model\":\"gemini-auto\",\"max_tokens\":4000,"
                      "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":1024,\"display\":\"omitted\"},"
                      "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r, &e), 0);
    TT_EQ_INT(r.want_reasoning, 0);
    release(&r);
    /* THINKING=drop wins over the request */
    cfg.thinking = THINKING_DROP;
    TT_EQ_INT(parse_s("{\"model\":\"gemini-auto\",\"max_tokens\":4000,\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":1024},"
                      "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r, &e), 0);
    TT_EQ_INT(r.want_reasoning, 0);
    release(&r);
    cfg.thinking = THINKING_REASONING;
    /* tool_use with no input; tool_result with no content; the result names the tool */
    TT_EQ_INT(parse_s("{\"model\":\"gemini-auto\",\"max_tokens\":10,\"messages\":["
                      "{\"role\":\"user\",\"content\":\"go\"},"
                      "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"now\"}]},"
                      "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\"}]}]}", &r, &e), 0);
    TT_EQ_INT(r.n_msgs, 3);
    TT_EQ_STR(r.msgs[1].text, "");
    TT_EQ_STR(r.msgs[1].tool_calls[0].args_json, "{}");
    TT_EQ_INT(r.msgs[2].role, EXCH_TOOL);
    TT_EQ_STR(r.msgs[2].text, "");
    TT_EQ_STR(r.msgs[2].name, "now");
    TT_EQ_INT(r.first_new, 2);
    release(&r);
    /* an assistant turn of thinking only stays a (empty) turn; search_result
     * blocks become text; tool_reference blocks in a result are skipped */
    TT_EQ_INT(parse_s("{\"model\":\"gemini-auto\",\"max_tokens\":10,\"messages\":["
                      "{\"role\":\"user\",\"content\":\"q\"},"
                      "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"t\",\"signature\":\"s\"},"
                      "{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"find\",\"input\":{}}]},"
                      "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":["
                      "{\"type\":\"tool_reference\",\"tool_name\":\"x\"},{\"type\":\"text\",\"text\":\"found\"}]},"
                      "{\"type\":\"search_result\",\"source\":\"https://s\",\"title\":\"T\","
                      "\"content\":[{\"type\":\"text\",\"text\":\"snippet\"}]}]},"
                      "{\"role\":\"assistant\",\"content\":[{\"type\":\"redacted_thinking\",\"data\":\"x\"}]},"
                      "{\"role\":\"user\",\"content\":\"next\"}]}", &r, &e), 0);
    TT_EQ_INT(r.n_msgs, 6);
    TT_EQ_INT(r.msgs[1].role, EXCH_ASSISTANT);
    TT_EQ_INT(r.msgs[1].n_tool_calls, 1);
    TT_EQ_STR(r.msgs[2].text, "found");
    TT_EQ_INT(r.msgs[3].role, EXCH_USER);
    TT_EQ_STR(r.msgs[3].text, "snippet");
    TT_EQ_INT(r.msgs[4].role, EXCH_ASSISTANT);
    TT_EQ_STR(r.msgs[4].text, "");
    TT_EQ_INT(r.first_new, 5);
    release(&r);
    /* an assistant message given as a string, then a user turn with only a
     * url image: the earlier-turn image is not uploaded */
    TT_EQ_INT(parse_s("{\"model\":\"gemini-auto\",\"max_tokens\":10,\"messages\":["
                      "{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"!!notbase64\"}}]},"
                      "{\"role\":\"assistant\",\"content\":\"a cat\"},"
                      "{\"role\":\"user\",\"content\":\"thanks\"}]}", &r, &e), 0);
    TT_EQ_INT(r.n_att, 1);
    TT_EQ_INT(r.att[0].upload, 0);
    TT_EQ_STR(r.att[0].mime, "image/png");
    TT_EQ_STR(r.msgs[1].text, "a cat");
    release(&r);
}

struct bad_case {
    const char *body;
    int status;
    enum exch_err_kind kind;
    const char *param;
    const char *msg_part;
};

#define M "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]"
#define MOD "\"model\":\"gemini-auto\",\"max_tokens\":100"

static void test_parse_errors(void)
{
    static const struct bad_case cases[] = {
        {"{not json", 400, EXCH_ERR_INVALID, "", "not valid JSON"},
        {"[1]", 400, EXCH_ERR_INVALID, "", "JSON object"},
        {"{\"max_tokens\":10," M "}", 400, EXCH_ERR_INVALID, "model", "model: Field required"},
        {"{\"model\":7,\"max_tokens\":10," M "}", 400, EXCH_ERR_INVALID, "model", "model: Input should be a valid string"},
        {"{\"model\":\"gemini-auto\"," M "}", 400, EXCH_ERR_INVALID, "max_tokens", "max_tokens: Field required"},
        {"{\"model\":\"gemini-auto\",\"max_tokens\":\"9\"," M "}", 400, EXCH_ERR_INVALID, "max_tokens", "valid integer"},
        {"{\"model\":\"gemini-auto\",\"max_tokens\":1.5," M "}", 400, EXCH_ERR_INVALID, "max_tokens", "valid integer"},
        {"{\"model\":\"gemini-auto\",\"max_tokens\":0," M "}", 400, EXCH_ERR_INVALID, "max_tokens", "greater than or equal to 1"},
        {"{" MOD "}", 400, EXCH_ERR_INVALID, "messages", "messages: Field required"},
        {"{" MOD ",\"messages\":{}}", 400, EXCH_ERR_INVALID, "messages", "valid list"},
        {"{" MOD ",\"messages\":[]}", 400, EXCH_ERR_INVALID, "messages", "at least one message"},
        {"{" MOD ",\"messages\":[3]}", 400, EXCH_ERR_INVALID, "messages.0", "valid dictionary"},
        {"{" MOD ",\"messages\":[{\"content\":\"x\"}]}", 400, EXCH_ERR_INVALID, "messages.0.role", "Field required"},
        {"{" MOD ",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", 400, EXCH_ERR_INVALID, "messages.0.role", "'user' or 'assistant'"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\"}]}", 400, EXCH_ERR_INVALID, "messages.0.content", "Field required"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":5}]}", 400, EXCH_ERR_INVALID, "messages.0.content", "list of content blocks"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}", 400, EXCH_ERR_INVALID, "messages.0", "non-empty content"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[]}]}", 400, EXCH_ERR_INVALID, "messages.0", "non-empty content"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"pre\"}]}",
         400, EXCH_ERR_INVALID, "messages.1", "prefill"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[\"x\"]}]}", 400, EXCH_ERR_INVALID, "messages.0.content.0", "content block"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]}", 400, EXCH_ERR_INVALID, "messages.0.content.0.type", "Field required"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"video\"}]}]}", 400, EXCH_ERR_INVALID, "messages.0.content.0.type", "'video'"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}", 400, EXCH_ERR_INVALID, "messages.0.content.0.text", "Field required"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":1}]}]}", 400, EXCH_ERR_INVALID, "messages.0.content.0.text", "valid string"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\"}]}]}", 400, EXCH_ERR_INVALID, "messages.0.content.0.source", "Field required"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/bmp\",\"data\":\"AAAA\"}}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.source.media_type", "image/jpeg"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\"}}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.source.data", "Field required"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"@@@@\"}}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.source.data", "base64"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"ftp://x/y.png\"}}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.source.url", ""},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"http://127.0.0.1/a.png\"}}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.source.url", ""},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"file\",\"file_id\":\"f1\"}}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.source.type", "Files API"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"document\",\"source\":{\"type\":\"base64\",\"media_type\":\"text/html\",\"data\":\"AAAA\"}}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.source.media_type", "application/pdf"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"nope\",\"content\":\"x\"}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.tool_use_id", "unexpected `tool_use_id`"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"content\":\"x\"}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.tool_use_id", "Field required"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\",\"input\":[1]}]},{\"role\":\"user\",\"content\":\"x\"}]}",
         400, EXCH_ERR_INVALID, "messages.1.content.0.input", "valid dictionary"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"name\":\"n\"}]},{\"role\":\"user\",\"content\":\"x\"}]}",
         400, EXCH_ERR_INVALID, "messages.1.content.0.id", "Field required"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"image\"}]},{\"role\":\"user\",\"content\":\"x\"}]}",
         400, EXCH_ERR_INVALID, "messages.1.content.0.type", "'image'"},
        {"{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\"}]}]}",
         400, EXCH_ERR_INVALID, "messages.0.content.0.type", "'tool_use'"},
        {"{" MOD ",\"system\":5," M "}", 400, EXCH_ERR_INVALID, "system", "list of text blocks"},
        {"{" MOD ",\"system\":[{\"type\":\"image\"}]," M "}", 400, EXCH_ERR_INVALID, "system.0.type", "'image'"},
        {"{" MOD ",\"system\":[{\"type\":\"text\"}]," M "}", 400, EXCH_ERR_INVALID, "system.0.text", "Field required"},
        {"{" MOD ",\"stream\":\"yes\"," M "}", 400, EXCH_ERR_INVALID, "stream", "valid boolean"},
        {"{" MOD ",\"metadata\":\"m\"," M "}", 400, EXCH_ERR_INVALID, "metadata", "valid dictionary"},
        {"{" MOD ",\"temperature\":\"hot\"," M "}", 400, EXCH_ERR_INVALID, "temperature", "valid number"},
        {"{" MOD ",\"temperature\":1.5," M "}", 400, EXCH_ERR_INVALID, "temperature", "between 0 and 1"},
        {"{" MOD ",\"top_p\":-0.1," M "}", 400, EXCH_ERR_INVALID, "top_p", "between 0 and 1"},
        {"{" MOD ",\"top_k\":2.5," M "}", 400, EXCH_ERR_INVALID, "top_k", "valid integer"},
        {"{" MOD ",\"top_k\":-1," M "}", 400, EXCH_ERR_INVALID, "top_k", "greater than or equal to 0"},
        {"{" MOD ",\"stop_sequences\":\"END\"," M "}", 400, EXCH_ERR_INVALID, "stop_sequences", "valid list"},
        {"{" MOD ",\"stop_sequences\":[\"a\",2]," M "}", 400, EXCH_ERR_INVALID, "stop_sequences.1", "valid string"},
        {"{" MOD ",\"stop_sequences\":[\"a\",\"b\",\"c\",\"d\",\"e\"]," M "}", 400, EXCH_ERR_INVALID, "stop_sequences", "at most 4"},
        {"{" MOD ",\"thinking\":true," M "}", 400, EXCH_ERR_INVALID, "thinking", "valid dictionary"},
        {"{" MOD ",\"thinking\":{\"type\":\"on\"}," M "}", 400, EXCH_ERR_INVALID, "thinking.type", "'enabled'"},
        {"{" MOD ",\"thinking\":{\"type\":\"enabled\"}," M "}", 400, EXCH_ERR_INVALID, "thinking.enabled.budget_tokens", "Field required"},
        {"{" MOD ",\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":100}," M "}", 400, EXCH_ERR_INVALID, "thinking.enabled.budget_tokens", "1024"},
        {"{" MOD ",\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000}," M "}", 400, EXCH_ERR_INVALID, "max_tokens", "greater than `thinking.budget_tokens`"},
        {"{" MOD ",\"tools\":{}," M "}", 400, EXCH_ERR_INVALID, "tools", "valid list"},
        {"{" MOD ",\"tools\":[{\"input_schema\":{}}]," M "}", 400, EXCH_ERR_INVALID, "tools.0.name", "Field required"},
        {"{" MOD ",\"tools\":[{\"name\":\"bad name\",\"input_schema\":{}}]," M "}", 400, EXCH_ERR_INVALID, "tools.0.name", "pattern"},
        {"{" MOD ",\"tools\":[{\"name\":\"f\"}]," M "}", 400, EXCH_ERR_INVALID, "tools.0.input_schema", "Field required"},
        {"{" MOD ",\"tools\":[{\"name\":\"f\",\"input_schema\":{}},{\"name\":\"f\",\"input_schema\":{}}]," M "}", 400, EXCH_ERR_INVALID, "tools", "unique"},
        {"{" MOD ",\"tools\":[{\"type\":\"bash_20250124\",\"name\":\"bash\"}]," M "}", 400, EXCH_ERR_INVALID, "tools.0.type", "bash_20250124"},
        {"{" MOD ",\"tool_choice\":\"auto\"," M "}", 400, EXCH_ERR_INVALID, "tool_choice", "valid dictionary"},
        {"{" MOD ",\"tool_choice\":{\"type\":\"maybe\"}," M "}", 400, EXCH_ERR_INVALID, "tool_choice.type", "'maybe'"},
        {"{" MOD ",\"tool_choice\":{\"type\":\"any\"}," M "}", 400, EXCH_ERR_INVALID, "tool_choice", "requires 'tools'"},
        {"{" MOD ",\"tools\":[{\"name\":\"f\",\"input_schema\":{}}],\"tool_choice\":{\"type\":\"tool\"}," M "}", 400, EXCH_ERR_INVALID, "tool_choice.name", "Field required"},
        {"{" MOD ",\"tools\":[{\"name\":\"f\",\"input_schema\":{}}],\"tool_choice\":{\"type\":\"tool\",\"name\":\"g\"}," M "}", 400, EXCH_ERR_INVALID, "tool_choice.name", "not declared"},
        {"{" MOD ",\"tools\":[{\"name\":\"f\",\"input_schema\":{}}],\"tool_choice\":{\"type\":\"auto\",\"disable_parallel_tool_use\":1}," M "}",
         400, EXCH_ERR_INVALID, "tool_choice.disable_parallel_tool_use", "valid boolean"},
        {"{\"model\":\"claude-nonsense-9\",\"max_tokens\":10," M "}", 404, EXCH_ERR_NOT_FOUND, "model", "model: claude-nonsense-9"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        struct exch_request r;
        struct exch_error e;
        int rc = parse_s(c->body, &r, &e);
        TT_EQ_INT(rc, -1);
        if (rc == 0) {
            fprintf(stderr, "  accepted: %s\n", c->body);
            release(&r);
            continue;
        }
        if (e.status != c->status || e.kind != c->kind || strcmp(e.param, c->param) != 0 ||
            !strstr(e.message, c->msg_part))
            fprintf(stderr, "  case %zu: %d %d '%s' '%s'\n", i, e.status, e.kind, e.param, e.message);
        TT_EQ_INT(e.status, c->status);
        TT_EQ_INT(e.kind, c->kind);
        TT_EQ_STR(e.param, c->param);
        TT_CHECK(strstr(e.message, c->msg_part) != NULL);
        TT_CHECK(r.msgs == NULL && r.att == NULL && r.opts == NULL && r.model_req == NULL);
    }
}

static void test_attachment_limits(void)
{
    /* too many images: 33 */
    struct gg_buf b;
    gg_buf_init(&b, 1u << 20);
    gg_buf_adds(&b, "{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[");
    for (int i = 0; i < 33; i++)
        gg_buf_printf(&b, "%s{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"https://example.com/%d.png\"}}",
                      i ? "," : "", i);
    gg_buf_adds(&b, "]}]}");
    struct exch_request r;
    struct exch_error e;
    TT_EQ_INT(parse_s(b.p, &r, &e), -1);
    TT_EQ_INT(e.status, 400);
    TT_EQ_STR(e.param, "messages.0.content.32");
    TT_CHECK(strstr(e.message, "At most 32") != NULL);
    gg_buf_free(&b);
    /* larger than IMAGE_MAX_BYTES */
    int64_t saved = cfg.image_max_bytes;
    cfg.image_max_bytes = 16;
    char body[1024];
    snprintf(body, sizeof(body), "{" MOD ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\","
             "\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"%s\"}}]}]}", PNG_B64);
    TT_EQ_INT(parse_s(body, &r, &e), -1);
    TT_EQ_INT(e.status, 400);
    TT_EQ_STR(e.param, "messages.0.content.0.source.data");
    TT_CHECK(strstr(e.message, "limit") != NULL);
    cfg.image_max_bytes = saved;
}

/* Every prefix of a valid request parses or fails cleanly (no crash, no leak under ASan). */
static void test_parse_truncations(void)
{
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"model\":\"gemini-auto\",\"max_tokens\":50,\"system\":[{\"type\":\"text\",\"text\":\"s\"}],"
             "\"tools\":[{\"name\":\"f\",\"input_schema\":{\"type\":\"object\"}}],\"tool_choice\":{\"type\":\"auto\"},"
             "\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":"
             "[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}]},{\"role\":\"user\",\"content\":"
             "[{\"type\":\"tool_result\",\"tool_use_id\":\"t\",\"content\":\"r\"},{\"type\":\"image\",\"source\":"
             "{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"%s\"}}]}]}", PNG_B64);
    size_t n = strlen(body);
    int ok = 0;
    for (size_t k = 0; k <= n; k++) {
        struct exch_parse_in in = {.body = body, .len = k};
        struct exch_request r;
        struct exch_error e;
        if (dialect_anthropic.parse(&in, &r, &e) == 0) {
            ok++;
            release(&r);
        } else {
            TT_CHECK(e.status == 400 && e.message[0]);
        }
    }
    TT_EQ_INT(ok, 1);
}

/* ---- count_tokens ------------------------------------------------------- */

static void test_count_tokens(void)
{
    int64_t t1 = 0, t2 = 0, t3 = 0;
    struct exch_error e;
    const char *b1 = "{\"model\":\"claude-sonnet-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello there\"}]}";
    struct exch_parse_in in = {.body = b1, .len = strlen(b1)};
    TT_EQ_INT(anth_count_tokens(&in, &t1, &e), 0);
    TT_CHECK(t1 > 0);
    const char *b2 = "{\"model\":\"claude-sonnet-4-5\",\"system\":\"You are a helpful assistant with a long prompt.\","
                     "\"tools\":[{\"name\":\"get_weather\",\"input_schema\":{\"type\":\"object\"}}],"
                     "\"messages\":[{\"role\":\"user\",\"content\":\"Hello there\"}]}";
    in.body = b2;
    in.len = strlen(b2);
    TT_EQ_INT(anth_count_tokens(&in, &t2, &e), 0);
    TT_CHECK(t2 > t1 + 300);
    /* an image costs more than its text */
    char b3[1024];
    snprintf(b3, sizeof(b3), "{\"model\":\"claude-sonnet-4-5\",\"messages\":[{\"role\":\"user\",\"content\":["
             "{\"type\":\"text\",\"text\":\"Hello there\"},{\"type\":\"image\",\"source\":{\"type\":\"base64\","
             "\"media_type\":\"image/png\",\"data\":\"%s\"}}]}]}", PNG_B64);
    in.body = b3;
    in.len = strlen(b3);
    TT_EQ_INT(anth_count_tokens(&in, &t3, &e), 0);
    TT_EQ_INT(t3, t1 + 1000);
    /* the same number message_start reports */
    struct exch_request r;
    TT_EQ_INT(parse_s("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"Hello there\"}]}",
                      &r, &e), 0);
    TT_EQ_INT(((struct anth_opts *)r.opts)->input_tokens, t1);
    release(&r);
    /* errors as for messages */
    in.body = "{\"messages\":[]}";
    in.len = strlen(in.body);
    TT_EQ_INT(anth_count_tokens(&in, &t1, &e), -1);
    TT_EQ_INT(e.status, 400);
    TT_EQ_STR(e.param, "model");
    TT_EQ_INT(t1, 0);
}

/* ---- models ------------------------------------------------------------- */

static void test_claude_models(void)
{
    static const struct { const char *from, *to; } map[] = {
        {"claude-opus-4-1-20250805", "gemini-3.1-pro-preview"},
        {"claude-sonnet-4-5-20250929", "gemini-3.1-pro-preview"},
        {"claude-sonnet-4-5", "gemini-3.1-pro-preview"},
        {"claude-3-7-sonnet-latest", "gemini-3.1-pro-preview"},
        {"claude-haiku-4-5-20251001", "gemini-3-flash-preview"},
        {"claude-3-5-haiku-20241022", "gemini-3-flash-preview"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        struct model_choice mc;
        TT_EQ_INT(models_resolve(map[i].from, &mc), 0);
        TT_EQ_STR(mc.model ? mc.model->id : "", map[i].to);
        TT_EQ_INT(mc.upgraded, 1);
        TT_EQ_STR(mc.name, map[i].from);
    }
    struct model_choice mc;
    TT_EQ_INT(models_resolve("claude-2.1", &mc), -1);
    TT_EQ_INT(models_resolve("claude-sonnet-4-5-search", &mc), 0);
    TT_CHECK(mc.tools & TOOLS_SEARCH);
    /* MODEL_MAP wins over the built-in rule */
    char err[128];
    TT_EQ_INT(models_set_map("claude-sonnet-4-5=gemini-2.5-flash", err, sizeof(err)), 0);
    TT_EQ_INT(models_resolve("claude-sonnet-4-5", &mc), 0);
    TT_EQ_STR(mc.model->id, "gemini-2.5-flash");
    TT_EQ_INT(models_set_map("", err, sizeof(err)), 0);
}

/* ---- encoding ----------------------------------------------------------- */

struct enc {
    struct exch_request req;
    struct anth_opts opts;
    struct exch_ctx x;
    unsigned char state[256];
    struct gg_buf out;
};

static void enc_init(struct enc *s, bool stream, int64_t input_tokens)
{
    memset(s, 0, sizeof(*s));
    s->req.stream = stream;
    s->opts.input_tokens = input_tokens;
    s->req.opts = &s->opts;
    s->x.req = &s->req;
    s->x.id = "req_0a1b2c";
    s->x.model = "claude-sonnet-4-5";
    s->x.created_s = 1760000000;
    TT_CHECK(dialect_anthropic.state_size <= sizeof(s->state));
    s->x.state = s->state;
    gg_buf_init(&s->out, 1u << 20);
}

static void ev(struct enc *s, enum exch_ev_kind kind, const char *text)
{
    struct exch_event e = {.kind = kind, .text = text, .len = text ? strlen(text) : 0};
    dialect_anthropic.event(&s->x, &e, &s->out);
}

static void ev_call(struct enc *s, enum exch_ev_kind kind, const struct exch_tool_call *c, int index)
{
    struct exch_event e = {.kind = kind, .call = c, .call_index = index};
    dialect_anthropic.event(&s->x, &e, &s->out);
}

#define MSG_START(tok)                                                                                          \
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_0a1b2c\",\"type\":"     \
    "\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,"   \
    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":" tok ",\"cache_creation_input_tokens\":0,"             \
    "\"cache_read_input_tokens\":0,\"output_tokens\":0}}}\n\n"

static void test_stream_thinking_text(void)
{
    struct enc s;
    enc_init(&s, true, 25);
    s.req.want_reasoning = true;
    dialect_anthropic.begin(&s.x, &s.out);
    ev(&s, EXCH_EV_REASONING, "Let me think");
    ev(&s, EXCH_EV_REASONING, " \"hard\".");
    ev(&s, EXCH_EV_TEXT, "Hello");
    ev(&s, EXCH_EV_TEXT, "");
    ev(&s, EXCH_EV_TEXT, ", 世界\n");
    struct exch_result res = {.text = "Hello, 世界\n", .text_len = strlen("Hello, 世界\n"),
                              .reasoning = "Let me think \"hard\".", .reasoning_len = 20,
                              .finish = EXCH_FIN_STOP, .usage = {.prompt_tokens = 9, .completion_tokens = 15}};
    dialect_anthropic.finish(&s.x, &res, &s.out);
    static const char want[] =
        MSG_START("25")
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
        "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        "{\"type\":\"thinking_delta\",\"thinking\":\"Let me think\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        "{\"type\":\"thinking_delta\",\"thinking\":\" \\\"hard\\\".\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        "{\"type\":\"signature_delta\",\"signature\":\"gemgate.msg_0a1b2c\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
        "{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
        "{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
        "{\"type\":\"text_delta\",\"text\":\", 世界\\n\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
        "\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    TT_EQ_STR(s.out.p, want);
    /* every data line is JSON whose type matches its event line */
    int frames = 0;
    for (char *p = s.out.p; (p = strstr(p, "event: ")) != NULL; frames++) {
        char name[64] = "";
        char *nl = strchr(p, '\n');
        memcpy(name, p + 7, (size_t)(nl - p - 7) < sizeof(name) - 1 ? (size_t)(nl - p - 7) : sizeof(name) - 1);
        char *data = nl + 7, *end = strstr(data, "\n\n");
        cJSON *j = cJSON_ParseWithLength(data, (size_t)(end - data));
        TT_CHECK(j != NULL);
        cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
        TT_EQ_STR(cJSON_IsString(t) ? t->valuestring : "", name);
        cJSON_Delete(j);
        p = end;
    }
    TT_EQ_INT(frames, 12);
    gg_buf_free(&s.out);
}

static void test_stream_text_tool(void)
{
    struct enc s;
    enc_init(&s, true, 7);
    dialect_anthropic.begin(&s.x, &s.out);
    ev(&s, EXCH_EV_TEXT, "Checking.");
    struct exch_tool_call c1 = {.id = "toolu_1", .name = "get_weather", .args_json = "{\"city\":\"Paris\"}"};
    struct exch_tool_call c2 = {.id = "toolu_2", .name = "now", .args_json = "{\"tz\":\"UTC\"}"};
    ev_call(&s, EXCH_EV_TOOL_CALL_BEGIN, &c1, 0);
    ev(&s, EXCH_EV_TOOL_CALL_ARGS, "{\"city\":");
    ev(&s, EXCH_EV_TOOL_CALL_ARGS, "\"Paris\"}");
    ev_call(&s, EXCH_EV_TOOL_CALL_END, &c1, 0);
    /* a call whose arguments come whole with the end */
    ev_call(&s, EXCH_EV_TOOL_CALL_BEGIN, &c2, 1);
    ev_call(&s, EXCH_EV_TOOL_CALL_END, &c2, 1);
    struct exch_tool_call calls[2] = {c1, c2};
    struct exch_result res = {.text = "Checking.", .text_len = 9, .reasoning = "", .calls = calls, .n_calls = 2,
                              .finish = EXCH_FIN_TOOL_CALLS, .usage = {.prompt_tokens = 7, .completion_tokens = 20}};
    dialect_anthropic.finish(&s.x, &res, &s.out);
    static const char want[] =
        MSG_START("7")
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
        "{\"type\":\"text\",\"text\":\"\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
        "{\"type\":\"text_delta\",\"text\":\"Checking.\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
        "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
        "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
        "{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":"
        "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"now\",\"input\":{}}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":"
        "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"tz\\\":\\\"UTC\\\"}\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
        "\"stop_sequence\":null},\"usage\":{\"output_tokens\":20}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    TT_EQ_STR(s.out.p, want);
    gg_buf_free(&s.out);
}

static void test_stream_edges(void)
{
    struct enc s;
    /* empty answer: one empty text block; stop sequence reported */
    enc_init(&s, true, 3);
    dialect_anthropic.begin(&s.x, &s.out);
    struct exch_result res = {.text = "", .reasoning = "", .finish = EXCH_FIN_STOP_SEQUENCE, .stop_sequence = "END"};
    dialect_anthropic.finish(&s.x, &res, &s.out);
    TT_CHECK(strstr(s.out.p, "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}") != NULL);
    TT_CHECK(strstr(s.out.p, "{\"type\":\"content_block_stop\",\"index\":0}") != NULL);
    TT_CHECK(strstr(s.out.p, "\"delta\":{\"stop_reason\":\"stop_sequence\",\"stop_sequence\":\"END\"}") != NULL);
    gg_buf_free(&s.out);
    /* max_tokens; file events are not re-sent (the core adds the links to
     * the text), citations are not emitted */
    enc_init(&s, true, 3);
    dialect_anthropic.begin(&s.x, &s.out);
    ev(&s, EXCH_EV_TEXT, "Here:");
    size_t before = s.out.len;
    struct exch_file f = {.mime = "image/png", .url = "http://gw/images/ab.png"};
    struct exch_event fe = {.kind = EXCH_EV_FILE, .file = &f};
    dialect_anthropic.event(&s.x, &fe, &s.out);
    struct exch_citation cite = {.url = "https://a.example", .title = "A"};
    struct exch_event ce = {.kind = EXCH_EV_CITATION, .cite = &cite};
    dialect_anthropic.event(&s.x, &ce, &s.out);
    TT_EQ_INT(s.out.len, before);
    ev(&s, EXCH_EV_TEXT, "\n\n![image](http://gw/images/ab.png)");
    res.finish = EXCH_FIN_LENGTH;
    dialect_anthropic.finish(&s.x, &res, &s.out);
    TT_CHECK(strstr(s.out.p, "{\"type\":\"text_delta\",\"text\":\"\\n\\n![image](http://gw/images/ab.png)\"}") != NULL);
    TT_CHECK(strstr(s.out.p, "\"stop_reason\":\"max_tokens\",\"stop_sequence\":null") != NULL);
    TT_CHECK(strstr(s.out.p, "\"index\":1") == NULL);   /* one block only */
    gg_buf_free(&s.out);
    /* content filter; a failure after the start is an error event */
    enc_init(&s, true, 3);
    dialect_anthropic.begin(&s.x, &s.out);
    ev(&s, EXCH_EV_TEXT, "partial");
    gg_buf_reset(&s.out);
    struct exch_error e = {.status = 502, .kind = EXCH_ERR_UPSTREAM};
    snprintf(e.message, sizeof(e.message), "upstream stream cut short");
    dialect_anthropic.fail(&s.x, &e, &s.out);
    TT_EQ_STR(s.out.p, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\","
                       "\"message\":\"upstream stream cut short\"}}\n\n");
    gg_buf_free(&s.out);
    TT_EQ_STR(dialect_anthropic.ping, "event: ping\ndata: {\"type\": \"ping\"}\n\n");
    TT_EQ_STR(dialect_anthropic.stream_ctype, "text/event-stream");
    TT_EQ_STR(dialect_anthropic.name, "anthropic");
}

static void test_body(void)
{
    struct enc s;
    enc_init(&s, false, 42);
    struct exch_tool_call calls[] = {{.id = "toolu_9", .name = "get_weather", .args_json = "{\"city\":\"Paris\"}"},
                                     {.id = "toolu_10", .name = "broken", .args_json = "not json"}};
    struct exch_file files[] = {{.mime = "image/png", .url = "https://gw/images/1.png"}};
    static const char text[] = "Sure \"x\"\n\n![image](https://gw/images/1.png)";
    struct exch_result res = {.text = text, .text_len = sizeof(text) - 1, .reasoning = "thought", .reasoning_len = 7,
                              .files = files, .n_files = 1, .calls = calls, .n_calls = 2,
                              .finish = EXCH_FIN_TOOL_CALLS, .usage = {.prompt_tokens = 5, .completion_tokens = 11}};
    dialect_anthropic.finish(&s.x, &res, &s.out);
    cJSON *j = cJSON_Parse(s.out.p);
    TT_CHECK(j != NULL);
    if (!j)
        return;
    TT_EQ_STR(cJSON_GetObjectItem(j, "id")->valuestring, "msg_0a1b2c");
    TT_EQ_STR(cJSON_GetObjectItem(j, "type")->valuestring, "message");
    TT_EQ_STR(cJSON_GetObjectItem(j, "role")->valuestring, "assistant");
    TT_EQ_STR(cJSON_GetObjectItem(j, "model")->valuestring, "claude-sonnet-4-5");
    TT_EQ_STR(cJSON_GetObjectItem(j, "stop_reason")->valuestring, "tool_use");
    TT_CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "stop_sequence")));
    cJSON *content = cJSON_GetObjectItem(j, "content");
    TT_EQ_INT(cJSON_GetArraySize(content), 4);
    cJSON *b0 = cJSON_GetArrayItem(content, 0), *b1 = cJSON_GetArrayItem(content, 1);
    cJSON *b2 = cJSON_GetArrayItem(content, 2), *b3 = cJSON_GetArrayItem(content, 3);
    TT_EQ_STR(cJSON_GetObjectItem(b0, "type")->valuestring, "thinking");
    TT_EQ_STR(cJSON_GetObjectItem(b0, "thinking")->valuestring, "thought");
    TT_EQ_STR(cJSON_GetObjectItem(b0, "signature")->valuestring, "gemgate.msg_0a1b2c");
    TT_EQ_STR(cJSON_GetObjectItem(b1, "type")->valuestring, "text");
    TT_EQ_STR(cJSON_GetObjectItem(b1, "text")->valuestring, text);   /* files are in the text once */
    TT_EQ_STR(cJSON_GetObjectItem(b2, "type")->valuestring, "tool_use");
    TT_EQ_STR(cJSON_GetObjectItem(b2, "id")->valuestring, "toolu_9");
    TT_EQ_STR(cJSON_GetObjectItem(b2, "name")->valuestring, "get_weather");
    TT_EQ_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(b2, "input"), "city")->valuestring, "Paris");
    TT_CHECK(cJSON_IsObject(cJSON_GetObjectItem(b3, "input")) && cJSON_GetArraySize(cJSON_GetObjectItem(b3, "input")) == 0);
    cJSON *u = cJSON_GetObjectItem(j, "usage");
    TT_EQ_INT(cJSON_GetObjectItem(u, "input_tokens")->valuedouble, 42);
    TT_EQ_INT(cJSON_GetObjectItem(u, "output_tokens")->valuedouble, 11);
    TT_EQ_INT(cJSON_GetObjectItem(u, "cache_read_input_tokens")->valuedouble, 0);
    cJSON_Delete(j);
    gg_buf_free(&s.out);
    /* plain answer: exactly one text block; no thinking when none */
    enc_init(&s, false, 3);
    struct exch_result r2 = {.text = "ok", .text_len = 2, .reasoning = "", .finish = EXCH_FIN_CONTENT_FILTER};
    dialect_anthropic.finish(&s.x, &r2, &s.out);
    TT_EQ_STR(s.out.p, "{\"id\":\"msg_0a1b2c\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\","
                       "\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"stop_reason\":\"refusal\",\"stop_sequence\":null,"
                       "\"usage\":{\"input_tokens\":3,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
                       "\"output_tokens\":0}}");
    gg_buf_free(&s.out);
}

static void test_errors(void)
{
    static const struct { enum exch_err_kind kind; int status, http; const char *type; } map[] = {
        {EXCH_ERR_INVALID, 400, 400, "invalid_request_error"},
        {EXCH_ERR_AUTH, 401, 401, "authentication_error"},
        {EXCH_ERR_PERMISSION, 403, 403, "permission_error"},
        {EXCH_ERR_NOT_FOUND, 404, 404, "not_found_error"},
        {EXCH_ERR_TOO_LARGE, 413, 413, "request_too_large"},
        {EXCH_ERR_RATE_LIMIT, 429, 429, "rate_limit_error"},
        {EXCH_ERR_SERVER, 500, 500, "api_error"},
        {EXCH_ERR_UPSTREAM, 502, 502, "api_error"},
        {EXCH_ERR_OVERLOADED, 503, 529, "overloaded_error"},
        {EXCH_ERR_TIMEOUT, 504, 504, "timeout_error"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        struct exch_error e = {.status = map[i].status, .kind = map[i].kind};
        snprintf(e.message, sizeof(e.message), "m%zu \"q\"", i);
        struct gg_buf b;
        gg_buf_init(&b, 4096);
        dialect_anthropic.error_body(&e, &b);
        char want[256];
        snprintf(want, sizeof(want), "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"m%zu \\\"q\\\"\"}}",
                 map[i].type, i);
        TT_EQ_STR(b.p, want);
        TT_EQ_INT(anth_http_status(&e), map[i].http);
        gg_buf_free(&b);
    }
    /* early refusals by status (route table envelope) */
    static const struct { int status; const char *type; } early[] = {
        {400, "invalid_request_error"}, {401, "authentication_error"}, {403, "permission_error"},
        {404, "not_found_error"}, {405, "invalid_request_error"}, {413, "request_too_large"},
        {415, "invalid_request_error"}, {429, "rate_limit_error"}, {500, "api_error"},
        {503, "overloaded_error"}, {504, "timeout_error"},
    };
    for (size_t i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
        struct gg_buf b;
        gg_buf_init(&b, 4096);
        anth_route_error(early[i].status, "some_code", "Request too big", &b);
        char want[160];
        snprintf(want, sizeof(want), "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"Request too big\"}}",
                 early[i].type);
        TT_EQ_STR(b.p, want);
        gg_buf_free(&b);
    }
    /* a status left unset comes from the kind */
    struct exch_error e0 = {.kind = EXCH_ERR_NOT_FOUND};
    TT_EQ_INT(anth_http_status(&e0), 404);
    /* a message cut inside a UTF-8 sequence stays valid */
    struct exch_error e = {.status = 400, .kind = EXCH_ERR_INVALID};
    memset(e.message, 'a', sizeof(e.message));
    memcpy(e.message + sizeof(e.message) - 3, "\xe4\xb8", 2);
    e.message[sizeof(e.message) - 1] = '\0';
    struct gg_buf b;
    gg_buf_init(&b, 4096);
    dialect_anthropic.error_body(&e, &b);
    cJSON *j = cJSON_Parse(b.p);
    TT_CHECK(j != NULL);
    cJSON_Delete(j);
    gg_buf_free(&b);
}

static void test_models_json(void)
{
    static const char *const ids[] = {"gemini-auto", "gemini-2.5-pro"};
    struct gg_buf b;
    gg_buf_init(&b, 4096);
    anth_models_json(ids, 2, &b);
    TT_EQ_STR(b.p, "{\"data\":[{\"type\":\"model\",\"id\":\"gemini-auto\",\"display_name\":\"gemini-auto\","
                   "\"created_at\":\"2025-01-01T00:00:00Z\"},{\"type\":\"model\",\"id\":\"gemini-2.5-pro\","
                   "\"display_name\":\"gemini-2.5-pro\",\"created_at\":\"2025-01-01T00:00:00Z\"}],"
                   "\"has_more\":false,\"first_id\":\"gemini-auto\",\"last_id\":\"gemini-2.5-pro\"}");
    gg_buf_reset(&b);
    anth_models_json(ids, 0, &b);
    TT_EQ_STR(b.p, "{\"data\":[],\"has_more\":false,\"first_id\":null,\"last_id\":null}");
    gg_buf_free(&b);
}

int main(void)
{
    cfg.image_max_bytes = 20 << 20;
    cfg.thinking = THINKING_REASONING;
    TT_RUN(test_parse_minimal);
    TT_RUN(test_parse_full);
    TT_RUN(test_parse_variants);
    TT_RUN(test_parse_errors);
    TT_RUN(test_attachment_limits);
    TT_RUN(test_parse_truncations);
    TT_RUN(test_count_tokens);
    TT_RUN(test_claude_models);
    TT_RUN(test_stream_thinking_text);
    TT_RUN(test_stream_text_tool);
    TT_RUN(test_stream_edges);
    TT_RUN(test_body);
    TT_RUN(test_errors);
    TT_RUN(test_models_json);
    return TT_REPORT();
}
