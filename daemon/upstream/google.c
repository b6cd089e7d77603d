/* google.c -- see up.h: the Gemini Business request bodies, the error
 * body parser and the one mapping from an HTTP status to a pool outcome. */
#include "up.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gg_b64.h"
#include "gg_time.h"
#include "gg_util.h"
#include "media.h"

enum outcome google_outcome(enum google_op op, long st)
{
    if (st == 429)
        return OUT_RATE_LIMIT;
    if (st == 403)
        return OUT_FORBIDDEN;
    if (st == 401)
        return op == G_OXSRF ? OUT_EXPIRED : OUT_AUTH;
    if (st >= 500)
        return OUT_SERVER;
    switch (op) {
    case G_OXSRF: return OUT_EXPIRED;        /* the cookies were not accepted */
    case G_STREAM: return st == 404 ? OUT_SERVER : OUT_CLIENT;
    default: return OUT_SERVER;
    }
}

/* Parse a Google error body: {"error":{"code","message","status","details"}}. */
void google_error(const struct gg_buf *body, char *status, size_t sn, char *msg, size_t mn,
                  char *reason, size_t rn)
{
    status[0] = msg[0] = '\0';
    if (reason && rn)
        reason[0] = '\0';
    const char *p = body->p ? body->p : "";
    if (strncmp(p, ")]}'", 4) == 0)
        p += 4;
    cJSON *j = cJSON_Parse(p);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *src = e ? e : j;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(src, "status");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(src, "message");
    if (cJSON_IsString(s))
        snprintf(status, sn, "%s", s->valuestring);
    if (cJSON_IsString(m))
        snprintf(msg, mn, "%s", m->valuestring);
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(src, "details")) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(d, "reason");
        if (reason && rn && cJSON_IsString(r) && *r->valuestring) {
            snprintf(reason, rn, "%s", r->valuestring);
            break;
        }
    }
    cJSON_Delete(j);
}

enum outcome google_429_kind(const char *status, const char *msg, const char *reason)
{
    const char *const v[] = {reason, status, msg};
    for (size_t i = 0; i < 3; i++)
        if (v[i] && strstr(v[i], "LLM_OVERLOADED"))
            return OUT_OVERLOADED;
    return OUT_RATE_LIMIT;
}

bool google_model_rejected(long st, const char *msg, const char *model_id)
{
    if ((st != 404 && st != 400) || !model_id || !*model_id || !msg)
        return false;
    if (strcasestr(msg, "session"))
        return false;             /* a lost session names itself */
    if (strstr(msg, model_id))
        return true;
    return strcasestr(msg, "model") &&
           (strcasestr(msg, "not found") || strcasestr(msg, "not supported") || strcasestr(msg, "unsupported"));
}

/* {"configId","additionalParams":{"token":"-"}} plus `key`: the envelope of
 * every widget call. */
static cJSON *envelope(const char *config_id)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "configId", config_id);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(body, "additionalParams"), "token", "-");
    return body;
}

static char *print_free(cJSON *body)
{
    char *s = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    return s;
}

char *google_session_body(const char *config_id)
{
    cJSON *body = envelope(config_id);
    cJSON *sess = cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "createSessionRequest"), "session");
    cJSON_AddStringToObject(sess, "name", "");
    cJSON_AddStringToObject(sess, "displayName", "");
    return print_free(body);
}

char *google_stream_body(const struct google_query *q)
{
    cJSON *body = envelope(q->config_id);
    cJSON *sar = cJSON_AddObjectToObject(body, "streamAssistRequest");
    cJSON_AddStringToObject(sar, "session", q->session ? q->session : "");
    cJSON *parts = cJSON_AddArrayToObject(cJSON_AddObjectToObject(sar, "query"), "parts");
    cJSON *part = cJSON_CreateObject();
    cJSON_AddStringToObject(part, "text", q->text);
    if (!cJSON_AddItemToArray(parts, part))
        cJSON_Delete(part);
    cJSON_AddStringToObject(sar, "filter", "");
    cJSON *fids = cJSON_AddArrayToObject(sar, "fileIds");
    for (size_t i = 0; i < q->n_file_ids; i++)
        cJSON_AddItemToArray(fids, cJSON_CreateString(q->file_ids[i]));
    cJSON_AddStringToObject(sar, "answerGenerationMode", "NORMAL");
    cJSON *tools = cJSON_AddObjectToObject(sar, "toolsSpec");
    if (q->tools & TOOLS_SEARCH)
        cJSON_AddObjectToObject(tools, "webGroundingSpec");
    cJSON_AddStringToObject(tools, "toolRegistry", "default_tool_registry");
    if (q->tools & TOOLS_IMAGE)
        cJSON_AddObjectToObject(tools, "imageGenerationSpec");
    if (q->tools & TOOLS_VIDEO)
        cJSON_AddObjectToObject(tools, "videoGenerationSpec");
    cJSON_AddStringToObject(sar, "languageCode", cfg.language_code);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(sar, "userMetadata"), "timeZone", cfg.time_zone);
    cJSON_AddStringToObject(sar, "assistSkippingMode", "REQUEST_ASSIST");
    if (q->model_id)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(sar, "assistGenerationConfig"), "modelId", q->model_id);
    /* a part that did not make it (allocation) would change the question:
     * refuse the whole body instead */
    if (!cJSON_GetObjectItemCaseSensitive(part, "text") || cJSON_GetArraySize(fids) != (int)q->n_file_ids) {
        cJSON_Delete(body);
        return NULL;
    }
    return print_free(body);
}

char *google_list_body(const char *config_id, const char *session)
{
    cJSON *body = envelope(config_id);
    cJSON *lr = cJSON_AddObjectToObject(body, "listSessionFileMetadataRequest");
    cJSON_AddStringToObject(lr, "name", session);
    cJSON_AddStringToObject(lr, "filter", "file_origin_type = AI_GENERATED");
    return print_free(body);
}

/* The addContextFileRequest body, base64 written straight into it. */
char *google_upload_body(const char *config_id, const char *session, const struct exch_attachment *a)
{
    struct gg_buf h;
    gg_buf_init(&h, 64 * 1024);
    char fname[160];
    if (a->filename && *a->filename) {
        snprintf(fname, sizeof(fname), "%s", a->filename);
    } else {
        char hex[7];
        gg_random_hex(hex, 3);
        snprintf(fname, sizeof(fname), "upload_%lld_%s.%s", (long long)(gg_now_ms() / 1000), hex,
                 media_ext(a->mime));
    }
    gg_buf_adds(&h, "{\"configId\":");
    gg_buf_add_json_str(&h, config_id, strlen(config_id));
    gg_buf_adds(&h, ",\"additionalParams\":{\"token\":\"-\"},\"addContextFileRequest\":{\"name\":");
    gg_buf_add_json_str(&h, session, strlen(session));
    gg_buf_adds(&h, ",\"fileName\":");
    gg_buf_add_json_str(&h, fname, strlen(fname));
    gg_buf_adds(&h, ",\"mimeType\":");
    gg_buf_add_json_str(&h, a->mime, strlen(a->mime));
    int rc = gg_buf_adds(&h, ",\"fileContents\":\"");
    char *out = rc == 0 ? malloc(h.len + gg_b64_enc_len(a->len) + 4) : NULL;
    if (out) {
        memcpy(out, h.p, h.len);
        size_t o = h.len + gg_b64_encode(a->data, a->len, out + h.len);
        memcpy(out + o, "\"}}", 4);
    }
    gg_buf_free(&h);
    return out;
}

