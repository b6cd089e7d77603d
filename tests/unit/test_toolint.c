/* test_toolint.c -- emulated tools wired into the exchange (issue 13): the
 * OpenAI chat dialect's tool fields, the flattened query with the tool
 * contract, the per-session marker and the conversation key of a turn that
 * ended in calls. */
#include <stdio.h>
#include <string.h>

#include "flatten.h"
#include "toolcall.h"
#include "tools.h"
#include "openai_chat.h"
#include "gg_buf.h"
#include "tinytest.h"

static const char *const TOOLS =
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]";

static int parse(const char *msgs, const char *extra, struct exch_request *req)
{
    char body[4096];
    snprintf(body, sizeof(body), "{\"model\":\"gemini-2.5-flash\",\"messages\":%s,%s%s}", msgs, TOOLS, extra);
    struct oai_error err;
    int rc = oai_parse_chat(body, strlen(body), req, &err);
    if (rc != 0)
        fprintf(stderr, "parse: %s\n", err.message);
    return rc;
}

static void test_dialect_fields(void)
{
    struct exch_request req;
    TT_EQ_INT(parse("[{\"role\":\"user\",\"content\":\"hi\"}]",
                    ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}},"
                    "\"parallel_tool_calls\":false", &req), 0);
    TT_EQ_INT(req.n_tools, 1);
    TT_EQ_STR(req.tools[0].name, "get_weather");
    TT_EQ_STR(req.tools[0].description, "Weather.");
    TT_CHECK(strstr(req.tools[0].params_json, "\"required\":[\"city\"]") != NULL);
    TT_EQ_INT(req.tool_choice, EXCH_TOOLS_NAMED);
    TT_EQ_STR(req.tool_choice_name, "get_weather");
    TT_CHECK(!req.parallel_tool_calls);
    exch_request_free(&req);
    /* defaults; assistant tool_calls (content null) and role tool in */
    TT_EQ_INT(parse("[{\"role\":\"user\",\"content\":\"w?\"},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
                    "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                    "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
                    "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"sunny\"}]", "", &req), 0);
    TT_EQ_INT(req.tool_choice, EXCH_TOOLS_AUTO);
    TT_CHECK(req.parallel_tool_calls);
    TT_EQ_INT(req.n_msgs, 3);
    TT_EQ_INT(req.first_new, 2);
    TT_EQ_INT(req.msgs[1].n_tool_calls, 1);
    TT_EQ_STR(req.msgs[1].tool_calls[0].id, "call_1");
    TT_EQ_STR(req.msgs[1].tool_calls[0].args_json, "{\"city\":\"Paris\"}");
    TT_EQ_STR(req.msgs[1].text, "");
    TT_EQ_STR(req.msgs[2].tool_call_id, "call_1");
    /* the continuing turn's query: results named by their call, the tools, the reminder */
    struct tools_spec spec;
    TT_EQ_INT(tools_spec_init(&spec, req.tools, req.n_tools, req.tool_choice, NULL, true, "0123abcd"), 0);
    struct gg_buf b;
    gg_buf_init(&b, 1 << 16);
    TT_EQ_INT(exch_flatten_tools(&req, req.first_new, false, &spec, &b), 0);
    TT_CHECK(strncmp(b.p, "# Tools\n", 8) == 0);
    const char *res = strstr(b.p, "<tool_result call_id=\"call_1\" name=\"get_weather\">\nsunny\n</tool_result>\n");
    TT_CHECK(res != NULL);
    TT_CHECK(res && strcmp(res + strlen("<tool_result call_id=\"call_1\" name=\"get_weather\">\nsunny\n</tool_result>\n"),
                           "\n\n(To call a tool, write a <tool_call marker=\"0123abcd\"> block as described above.)\n") == 0);
    /* the whole history: the call in the contract's format, after the text */
    gg_buf_reset(&b);
    TT_EQ_INT(exch_flatten_tools(&req, 0, true, &spec, &b), 0);
    TT_CHECK(strstr(b.p, "\n\nUser: w?\n\nAssistant: \n<tool_call marker=\"0123abcd\">\n"
                         "{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}\n</tool_call>\n\n\n<tool_result") != NULL);
    /* without a spec (tool_choice none) calls stay readable text, no tool block */
    gg_buf_reset(&b);
    TT_EQ_INT(exch_flatten_tools(&req, 0, true, NULL, &b), 0);
    TT_EQ_STR(b.p, "User: w?\n\nAssistant: [called tool get_weather({\"city\":\"Paris\"})]\n\nTool result: sunny");
    /* the key stored after turn 1 (answer text + its calls) is turn 2's prefix key */
    char k1[65], k2[65], k3[65];
    exch_conv_key("k", &req, req.first_new, NULL, 0, k2);
    struct exch_request t1;
    TT_EQ_INT(parse("[{\"role\":\"user\",\"content\":\"w?\"}]", "", &t1), 0);
    struct exch_tool_call answer_call = {.id = "call_other", .name = "get_weather", .args_json = "{}"};
    exch_conv_key_calls("k", &t1, t1.n_msgs, "\n\n", 2, &answer_call, 1, k1);
    TT_EQ_STR(k1, k2);
    exch_conv_key_calls("k", &t1, t1.n_msgs, "\n\n", 2, NULL, 0, k3);
    TT_CHECK(strcmp(k3, k2) != 0);      /* the calls are part of the turn */
    exch_request_free(&t1);
    tools_spec_free(&spec);
    gg_buf_free(&b);
    exch_request_free(&req);
}

static void test_client_errors(void)
{
    struct exch_request req;
    struct oai_error err;
    const char *b1 = "{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                     "\"tool_choice\":\"required\"}";
    TT_EQ_INT(oai_parse_chat(b1, strlen(b1), &req, &err), -1);
    TT_EQ_STR(err.param, "tool_choice");
    TT_EQ_INT(parse("[{\"role\":\"user\",\"content\":\"x\"}]", ",\"tool_choice\":\"sometimes\"", &req), -1);
    TT_EQ_INT(parse("[{\"role\":\"user\",\"content\":\"x\"}]", ",\"parallel_tool_calls\":1", &req), -1);
    TT_EQ_INT(parse("[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"tool\",\"content\":\"r\"}]", "", &req), -1);
}

static void test_marker(void)
{
    char a[9], b[9], c[9];
    toolcall_marker("collections/default_collection/engines/e/sessions/1", a);
    toolcall_marker("collections/default_collection/engines/e/sessions/1", b);
    toolcall_marker("collections/default_collection/engines/e/sessions/2", c);
    TT_EQ_STR(a, b);
    TT_CHECK(strcmp(a, c) != 0);
    TT_EQ_INT(strlen(a), 8);
    TT_CHECK(strspn(a, "0123456789abcdef") == 8);
}

int main(void)
{
    TT_RUN(test_dialect_fields);
    TT_RUN(test_client_errors);
    TT_RUN(test_marker);
    return TT_REPORT();
}
