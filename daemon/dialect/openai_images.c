/* openai_images.c -- see openai_chat.h: POST /v1/images/generations. */
#include "openai_chat.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int parse_images(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err)
{
    const char *body = in->body;
    size_t n = in->len;
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    bool *want_url = &req->file_urls;
    *want_url = cfg.image_output == IMAGE_OUT_URL;
    int rc = -1;
    cJSON *root = cJSON_ParseWithLength(body, n);
    if (!cJSON_IsObject(root)) {
        oai_err(err, 400, NULL, "invalid_json",
                      "We could not parse the JSON body of your request; expected a JSON object.");
        goto out;
    }
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    if (!prompt) {
        oai_err(err, 400, "prompt", "missing_required_parameter",
                      "Missing required parameter: 'prompt'.");
        goto out;
    }
    if (!cJSON_IsString(prompt)) {
        oai_type_error(err, "prompt", "a string", prompt);
        goto out;
    }
    if (!*prompt->valuestring) {
        oai_err(err, 400, "prompt", "empty_string",
                      "Invalid 'prompt': empty string.");
        goto out;
    }
    const cJSON *nn = cJSON_GetObjectItemCaseSensitive(root, "n");
    if (nn && !cJSON_IsNull(nn)) {
        if (!cJSON_IsNumber(nn) || !oai_json_int_in(nn, -1e15, 1e15)) {
            oai_type_error(err, "n", "an integer", nn);
            goto out;
        }
        if (nn->valueint < 1) {
            oai_err(err, 400, "n", "integer_below_min_value",
                          "Invalid 'n': integer below minimum value. Expected a value >= 1.");
            goto out;
        }
        if (nn->valueint > 1) {
            oai_err(err, 400, "n", "unsupported_value",
                          "Only n=1 is supported by this gateway; send one request per image.");
            goto out;
        }
    }
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(root, "response_format");
    if (rf && !cJSON_IsNull(rf)) {
        if (!cJSON_IsString(rf)) {
            oai_type_error(err, "response_format", "a string", rf);
            goto out;
        }
        if (strcmp(rf->valuestring, "url") == 0) {
            *want_url = true;
        } else if (strcmp(rf->valuestring, "b64_json") == 0) {
            *want_url = false;
        } else {
            oai_err(err, 400, "response_format", "invalid_value",
                          "Invalid value: '%.40s'. Supported values are: 'url' and 'b64_json'.", rf->valuestring);
            goto out;
        }
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (model && !cJSON_IsNull(model) && !cJSON_IsString(model)) {
        oai_type_error(err, "model", "a string", model);
        goto out;
    }
    const char *mname = cJSON_IsString(model) ? model->valuestring : "gemini-imagen";
    if (strncmp(mname, "dall-e", 6) == 0 || strncmp(mname, "gpt-image", 9) == 0)
        mname = "gemini-imagen";
    if (!(req->model_req = strdup(mname))) {
        oai_err(err, 500, NULL, NULL, "out of memory");
        goto out;
    }
    if (models_resolve(mname, &req->model) != 0) {
        oai_err(err, 404, "model", "model_not_found",
                      "The model '%.100s' does not exist or you do not have access to it.", mname);
        goto out;
    }
    req->model.tools |= TOOLS_IMAGE;
    req->msgs = calloc(1, sizeof(*req->msgs));
    if (!req->msgs || !req->model_req || !(req->msgs[0].text = strdup(prompt->valuestring))) {
        oai_err(err, 500, NULL, NULL, "out of memory");
        goto out;
    }
    req->n_msgs = 1;
    req->msgs[0].role = EXCH_USER;
    req->first_new = 0;
    req->want_reasoning = cfg.thinking != THINKING_DROP;
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc != 0)
        exch_request_free(req);
    return rc;
}


/* {"created","data":[{b64_json|url, revised_prompt}]}: gateway links stay
 * links, data: URLs become bare base64. */
static void images_finish(struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out)
{
    gg_buf_printf(out, "{\"created\":%lld,\"data\":[", (long long)x->created_s);
    const char *rp = res->text_len ? res->text : x->req->n_msgs ? x->req->msgs[0].text : "";
    for (size_t i = 0; i < res->n_files; i++) {
        const struct exch_file *f = &res->files[i];
        gg_buf_adds(out, i == 0 ? "{" : ",{");
        const char *b64 = strncmp(f->url, "data:", 5) == 0 ? strstr(f->url, ";base64,") : NULL;
        if (b64) {
            gg_buf_adds(out, "\"b64_json\":\"");
            gg_buf_adds(out, b64 + 8);
            gg_buf_adds(out, "\"");
        } else {
            gg_buf_adds(out, "\"url\":");
            gg_buf_add_json_str(out, f->url, strlen(f->url));
        }
        gg_buf_adds(out, ",\"revised_prompt\":");
        gg_buf_add_json_str(out, rp, strlen(rp));
        gg_buf_adds(out, "}");
    }
    gg_buf_adds(out, "]}");
}

static void images_begin(struct exch_ctx *x, struct gg_buf *out)
{
    (void)x; (void)out;     /* never streamed */
}

static void images_event(struct exch_ctx *x, const struct exch_event *ev, struct gg_buf *out)
{
    (void)x; (void)ev; (void)out;
}

static void images_fail(struct exch_ctx *x, const struct exch_error *e, struct gg_buf *out)
{
    (void)x;
    oai_error_body(e, out);
}

static void images_opts_free(void *opts)
{
    (void)opts;
}

const struct exch_dialect dialect_openai_images = {
    .name = "images",
    .state_size = 0,
    .stream_ctype = "application/json",
    .ping = "",
    .id_prefix = "img-",
    .images = true,
    .parse = parse_images,
    .opts_free = images_opts_free,
    .begin = images_begin,
    .event = images_event,
    .finish = images_finish,
    .fail = images_fail,
    .error_body = oai_error_body,
};
