/* fuzz_dialects.c -- libFuzzer harness for the Responses and Gemini
 * dialects (daemon/dialect: parse, then the encoders on what it produced).
 * The first input byte picks the target: 0 Responses, 1 Gemini (SSE), 2
 * Gemini (JSON array), 3 Gemini countTokens; the rest is the body.
 *
 * Invariants:
 *   - success: at least one message, first_new <= n_msgs, every text
 *     non-NULL, tool calls with id / name / args, attachments pointing at
 *     existing messages with decoded bytes or a URL when uploaded;
 *   - failure: a 4xx/5xx status and a message; the error body is JSON;
 *   - a streamed answer (reasoning, text, a tool call, finish) is valid:
 *     Responses frames are JSON with sequence numbers 0, 1, 2, ...; the
 *     Gemini array form is one JSON array; a whole body is one JSON object.
 * Register with gem_fuzzer(dialects gemcore) once gemcore lists dialect/.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "exch.h"
#include "fuzz_check.h"
#include "gemini.h"
#include "gg_buf.h"
#include "responses.h"

static int64_t est(const char *s, size_t n)
{
    (void)s;
    return (int64_t)(n / 4 + 1);
}

static void check_request(const struct exch_request *req)
{
    FUZZ_CHECK(req->n_msgs > 0 && req->msgs);
    FUZZ_CHECK(req->first_new <= req->n_msgs);
    FUZZ_CHECK(req->model_req && req->model.model);
    for (size_t i = 0; i < req->n_msgs; i++) {
        const struct exch_message *m = &req->msgs[i];
        FUZZ_CHECK(m->text);
        for (size_t k = 0; k < m->n_tool_calls; k++)
            FUZZ_CHECK(m->tool_calls[k].id && m->tool_calls[k].name && m->tool_calls[k].args_json);
        if (m->role == EXCH_TOOL)
            FUZZ_CHECK(m->tool_call_id);
    }
    for (size_t i = 0; i < req->n_att; i++) {
        const struct exch_attachment *a = &req->att[i];
        FUZZ_CHECK(a->msg_index >= 0 && (size_t)a->msg_index < req->n_msgs);
        if (a->upload)
            FUZZ_CHECK((a->data && a->len && a->mime) || a->url);
    }
    for (size_t i = 0; i < req->n_tools; i++)
        FUZZ_CHECK(req->tools[i].name);
    if (req->tool_choice == EXCH_TOOLS_NAMED)
        FUZZ_CHECK(req->tool_choice_name);
}

static void check_frames(const char *s, bool responses)
{
    const char *sep = responses ? "\n\n" : "\r\n\r\n";
    size_t sl = strlen(sep);
    long seq = 0;
    while (*s) {
        const char *e = strstr(s, sep);
        FUZZ_CHECK(e);
        if (*s != ':') {
            const char *d = strstr(s, "data: ");
            FUZZ_CHECK(d && d < e);
            cJSON *j = cJSON_ParseWithLength(d + 6, (size_t)(e - d - 6));
            FUZZ_CHECK(cJSON_IsObject(j));
            if (responses) {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "sequence_number");
                FUZZ_CHECK(cJSON_IsNumber(n) && n->valuedouble == (double)seq);
                seq++;
            }
            cJSON_Delete(j);
        }
        s = e + sl;
    }
}

static void encode(const struct exch_dialect *d, struct exch_request *req, int variant)
{
    struct exch_ctx x = {.req = req, .id = "fz-1", .model = "gemini-2.5-flash", .created_s = 1};
    x.state = calloc(1, d->state_size ? d->state_size : 1);
    FUZZ_CHECK(x.state);
    struct gg_buf out;
    gg_buf_init(&out, 64u << 20);
    struct exch_tool_call call = {.id = "call_1", .name = "f", .args_json = "{\"a\":\"\\u00e9\"}"};
    struct exch_result res = {.text = "Hi \"x\"", .text_len = 6, .reasoning = "r", .reasoning_len = 1,
                              .calls = &call, .n_calls = (size_t)(variant & 1),
                              .finish = (enum exch_finish)(variant % 5)};
    if (req->stream) {
        d->begin(&x, &out);
        struct exch_event r = {.kind = EXCH_EV_REASONING, .text = "r", .len = 1};
        struct exch_event t = {.kind = EXCH_EV_TEXT, .text = "Hi \"x\"", .len = 6};
        struct exch_event b = {.kind = EXCH_EV_TOOL_CALL_BEGIN, .call = &call};
        struct exch_event e = {.kind = EXCH_EV_TOOL_CALL_END, .call = &call};
        if (req->want_reasoning)
            d->event(&x, &r, &out);
        d->event(&x, &t, &out);
        gg_buf_adds(&out, d->ping);
        if (variant & 1) {
            d->event(&x, &b, &out);
            d->event(&x, &e, &out);
        }
        if (variant & 2) {
            struct exch_error err;
            exch_set_error(&err, 502, EXCH_ERR_UPSTREAM, NULL, NULL, "cut");
            d->fail(&x, &err, &out);
        } else {
            d->finish(&x, &res, &out);
        }
        if (d == &dialect_gemini_array) {
            cJSON *j = cJSON_ParseWithLength(out.p, out.len);
            FUZZ_CHECK(cJSON_IsArray(j));
            cJSON_Delete(j);
        } else {
            check_frames(out.p ? out.p : "", d == &dialect_responses);
        }
    } else {
        d->finish(&x, &res, &out);
        cJSON *j = cJSON_ParseWithLength(out.p, out.len);
        FUZZ_CHECK(cJSON_IsObject(j));
        cJSON_Delete(j);
    }
    gg_buf_free(&out);
    free(x.state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    cfg.image_max_bytes = 1 << 20;
    int target = data[0] & 3, variant = data[0] >> 2;
    struct exch_parse_in in = {.body = (const char *)data + 1, .len = size - 1, .path_model = "gemini-2.5-flash",
                               .path_stream = (variant & 4) != 0, .key_id = "k"};
    struct exch_request req;
    struct exch_error err;
    struct gg_buf out;
    gg_buf_init(&out, 1u << 20);
    if (target == 3) {
        if (gem_count_tokens(&in, est, &out, &err) == 0) {
            cJSON *j = cJSON_ParseWithLength(out.p, out.len);
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "totalTokens");
            FUZZ_CHECK(cJSON_IsNumber(n) && n->valuedouble >= 1);
            cJSON_Delete(j);
        } else {
            FUZZ_CHECK(err.status >= 400 && err.message[0]);
        }
        gg_buf_free(&out);
        return 0;
    }
    const struct exch_dialect *d = target == 0 ? &dialect_responses
                                   : target == 1 ? &dialect_gemini : &dialect_gemini_array;
    if (d->parse(&in, &req, &err) == 0) {
        check_request(&req);
        encode(d, &req, variant);
        d->opts_free(req.opts);
        req.opts = NULL;
        exch_request_free(&req);
    } else {
        FUZZ_CHECK(err.status >= 400 && err.status < 600 && err.message[0]);
        FUZZ_CHECK(req.msgs == NULL && req.opts == NULL);
        d->error_body(&err, &out);
        cJSON *j = cJSON_ParseWithLength(out.p, out.len);
        FUZZ_CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "error")));
        cJSON_Delete(j);
    }
    gg_buf_free(&out);
    return 0;
}
