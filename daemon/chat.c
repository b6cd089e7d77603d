/* chat.c -- see chat.h: the OpenAI routes over the generic exchange. */
#include "chat.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "exch_http.h"
#include "http.h"
#include "models.h"
#include "openai_chat.h"

int chat_auth(struct http_req *r, char key_id[24])
{
    return exch_http_auth(r, &dialect_openai_chat, key_id);
}

static enum MHD_Result handle(struct http_req *r, const struct exch_dialect *d)
{
    struct exch_parse_in in = {.body = r->body.p ? r->body.p : "", .len = r->body.len};
    return exch_http_handle(r, d, &in);
}

enum MHD_Result chat_handle(struct http_req *r)
{
    return handle(r, &dialect_openai_chat);
}

enum MHD_Result chat_images(struct http_req *r)
{
    return handle(r, &dialect_openai_images);
}

void chat_completed(struct http_req *r, enum MHD_RequestTerminationCode toe)
{
    exch_http_completed(r, toe);
}

static cJSON *model_json(const char *id)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", "model");
    cJSON_AddNumberToObject(o, "created", 1735689600);
    cJSON_AddStringToObject(o, "owned_by", "google");
    models_annotate(id, o);      /* available / unavailable_until (issue 18) */
    return o;
}

enum MHD_Result chat_models(struct http_req *r)
{
    if (strcmp(r->method, "GET") != 0) {
        struct exch_error e;
        exch_set_error(&e, 405, EXCH_ERR_INVALID, NULL, "method_not_allowed", "Use GET.");
        return exch_http_reply_error(r, &dialect_openai_chat, &e);
    }
    char key_id[24];
    if (!chat_auth(r, key_id))
        return MHD_YES;
    size_t n;
    const char *const *list = models_listed(&n);
    if (strncmp(r->url, "/v1/models/", 11) == 0) {
        const char *id = r->url + 11;
        struct model_choice mc;
        if (models_resolve(id, &mc) == 0)
            return http_reply_cjson(r, 200, model_json(id));
        struct exch_error e;
        exch_set_error(&e, 404, EXCH_ERR_NOT_FOUND, "model", "model_not_found",
                       "The model '%.100s' does not exist or you do not have access to it.", id);
        return exch_http_reply_error(r, &dialect_openai_chat, &e);
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(root, "data");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(data, model_json(list[i]));
    return http_reply_cjson(r, 200, root);
}
