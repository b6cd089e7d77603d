/* fuzz_anthropic.c -- libFuzzer harness for the Anthropic Messages request
 * parser (daemon/dialect/anthropic_req.c, anthropic_opts.c: anth_parse and
 * anth_count_tokens), then the encoders on whatever it produced.
 *
 * Invariants:
 *   - success: at least one message, first_new <= n_msgs, every text is
 *     non-NULL, tool results name a call id, attachments point at existing
 *     messages and have data or a URL when uploaded; the input-token estimate
 *     is positive and equals count_tokens' answer; a body encoded for the
 *     request is valid JSON;
 *   - failure: a 4xx (or 500 allocation) status, a message, and the request
 *     left empty; the error envelope is valid JSON of type "error".
 * Register with `gem_fuzzer(anthropic gemcore)` once gemcore lists the
 * dialect sources.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "dialect/anthropic.h"
#include "fuzz_check.h"
#include "gg_buf.h"

/* attachments are decoded (and size-checked) only under a non-zero cap */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cfg.image_max_bytes = 1 << 20;
    return 0;
}

static void check_json(const struct gg_buf *b, const char *type)
{
    cJSON *j = cJSON_ParseWithLength(b->p, b->len);
    FUZZ_CHECK(j != NULL);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    FUZZ_CHECK(cJSON_IsString(t) && strcmp(t->valuestring, type) == 0);
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct exch_parse_in in = {.body = (const char *)data, .len = size, .key_id = "k"};
    struct exch_request req;
    struct exch_error err;
    struct gg_buf out;
    gg_buf_init(&out, 64u << 20);
    int64_t counted = 0;
    struct exch_error cerr;
    int crc = anth_count_tokens(&in, &counted, &cerr);

    if (dialect_anthropic.parse(&in, &req, &err) == 0) {
        FUZZ_CHECK(req.n_msgs > 0 && req.msgs && req.first_new <= req.n_msgs);
        FUZZ_CHECK(req.model_req && req.model.model && req.max_tokens >= 1);
        for (size_t i = 0; i < req.n_msgs; i++) {
            FUZZ_CHECK(req.msgs[i].text);
            FUZZ_CHECK(req.msgs[i].role != EXCH_TOOL || req.msgs[i].tool_call_id);
            for (size_t k = 0; k < req.msgs[i].n_tool_calls; k++)
                FUZZ_CHECK(req.msgs[i].tool_calls[k].id && req.msgs[i].tool_calls[k].args_json);
        }
        for (size_t i = 0; i < req.n_att; i++) {
            FUZZ_CHECK(req.att[i].msg_index >= 0 && (size_t)req.att[i].msg_index < req.n_msgs);
            FUZZ_CHECK(!req.att[i].upload || req.att[i].data || req.att[i].url);
        }
        const struct anth_opts *o = req.opts;
        FUZZ_CHECK(o && o->input_tokens > 0);
        FUZZ_CHECK(crc == 0 && counted == o->input_tokens);
        /* a non-streamed answer for this request */
        unsigned char state[256] = {0};
        FUZZ_CHECK(dialect_anthropic.state_size <= sizeof(state));
        struct exch_ctx x = {.req = &req, .id = "msg_f", .model = req.model.model->id, .state = state};
        struct exch_result res = {.text = req.msgs[req.n_msgs - 1].text,
                                  .text_len = strlen(req.msgs[req.n_msgs - 1].text), .reasoning = ""};
        req.stream = false;
        dialect_anthropic.finish(&x, &res, &out);
        check_json(&out, "message");
        dialect_anthropic.opts_free(req.opts);
        req.opts = NULL;
        exch_request_free(&req);
    } else {
        FUZZ_CHECK((err.status >= 400 && err.status < 500) || err.status == 500);
        FUZZ_CHECK(err.message[0]);
        FUZZ_CHECK(!req.msgs && !req.att && !req.opts && !req.model_req);
        dialect_anthropic.error_body(&err, &out);
        check_json(&out, "error");
    }
    gg_buf_free(&out);
    return 0;
}
