/* fuzz_chat.c -- libFuzzer harness for the OpenAI request parser
 * (daemon/dialect/openai_chat.c: oai_parse_chat, then exch_flatten, exch_conv_key,
 * exch_estimate_tokens and oai_error_json on whatever it produced).
 *
 * Invariants:
 *   - success: at least one message, first_new <= n_msgs, every text is
 *     non-NULL, attachments point at existing messages; an upload (current
 *     turn) has either an http(s) URL or decoded bytes with a type, an
 *     earlier turn's attachment has no bytes and at most an http(s) URL;
 *     flattening and keys work on every prefix; conversation keys are 64
 *     lowercase hex digits;
 *   - failure: a 4xx status, a type and a message; the error envelope is
 *     valid JSON with error.message a string;
 *   - when the body was valid UTF-8, flattened text and the envelope are too.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "gg_buf.h"
#include "gg_util.h"
#include "flatten.h"
#include "openai_chat.h"
#include "tokens.h"

static void check_key(const char k[65])
{
    FUZZ_CHECK(strlen(k) == 64);
    for (int i = 0; i < 64; i++)
        FUZZ_CHECK((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    bool utf8 = gg_utf8_valid(in, size);
    struct exch_request req;
    struct oai_error err;
    struct gg_buf out;
    gg_buf_init(&out, 64u << 20);

    if (oai_parse_chat(in, size, &req, &err) == 0) {
        FUZZ_CHECK(req.n_msgs > 0 && req.msgs);
        FUZZ_CHECK(req.first_new <= req.n_msgs);
        FUZZ_CHECK(req.model_req && req.model.model);
        for (size_t i = 0; i < req.n_msgs; i++) {
            FUZZ_CHECK(req.msgs[i].text);
            FUZZ_CHECK(req.msgs[i].n_images >= 0);
        }
        for (size_t i = 0; i < req.n_att; i++) {
            const __typeof__(req.att[0]) *a = &req.att[i];   /* oai_attachment / exch_attachment */
            FUZZ_CHECK(a->msg_index >= 0 && (size_t)a->msg_index < req.n_msgs);
            FUZZ_CHECK(a->upload == ((size_t)a->msg_index >= req.first_new));
            /* regressions/chat/earlier-turn-data-url-no-url.json: an earlier
             * turn's data: URL is not decoded and keeps no URL (openai.h:
             * "url ... or NULL"); only uploads must carry something to send */
            if (a->upload)
                FUZZ_CHECK(a->url ? !a->data && strncmp(a->url, "http", 4) == 0
                                  : a->data && a->len > 0 && a->mime && a->mime[0]);
            else
                FUZZ_CHECK(!a->data && (!a->url || strncmp(a->url, "http", 4) == 0));
        }
        FUZZ_CHECK(exch_flatten(&req, 0, true, &out) == 0);
        if (utf8)
            FUZZ_CHECK(gg_utf8_valid(out.p, out.len));
        gg_buf_reset(&out);
        FUZZ_CHECK(exch_flatten(&req, req.first_new, false, &out) == 0);
        gg_buf_reset(&out);
        char k1[65], k2[65];
        exch_conv_key("key-1", &req, req.n_msgs, NULL, 0, k1);
        check_key(k1);
        exch_conv_key(NULL, &req, req.first_new, in, size, k2);
        check_key(k2);
        for (size_t i = 0; i < req.n_msgs; i++) {
            size_t n = strlen(req.msgs[i].text);
            int64_t t = exch_estimate_tokens(req.msgs[i].text, n);
            FUZZ_CHECK(t >= 0 && (n == 0 || t > 0));
        }
        exch_request_free(&req);
    } else {
        FUZZ_CHECK(err.status >= 400 && err.status < 500);
        FUZZ_CHECK(err.type && err.message[0]);
        FUZZ_CHECK(oai_error_json(&err, &out) == 0);
        cJSON *j = cJSON_ParseWithLength(out.p, out.len);
        FUZZ_CHECK(j);
        FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "error"), "message")));
        cJSON_Delete(j);
        /* regressions/chat/model-name-utf8-cut.json: the envelope is always valid UTF-8 */
        FUZZ_CHECK(gg_utf8_valid(out.p, out.len));
    }
    gg_buf_free(&out);
    return 0;
}
