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

/* The two bodies of every request are written straight as JSON text (no
 * cJSON tree, one escaping pass over the conversation): the same members
 * in the same order as a cJSON_PrintUnformatted of the tree would give. */
static int json_member(struct gg_buf *b, const char *name, const char *v)
{
    if (gg_buf_addc(b, '"') != 0 || gg_buf_adds(b, name) != 0 || gg_buf_adds(b, "\":") != 0)
        return -1;
    return gg_buf_add_json_str(b, v ? v : "", v ? strlen(v) : 0);
}

static int envelope_open(struct gg_buf *b, const char *config_id)
{
    if (gg_buf_addc(b, '{') != 0 || json_member(b, "configId", config_id) != 0)
        return -1;
    return gg_buf_adds(b, ",\"additionalParams\":{\"token\":\"-\"},");
}

static char *body_done(struct gg_buf *b, int rc)
{
    if (rc != 0) {
        gg_buf_free(b);
        return NULL;
    }
    return gg_buf_steal(b, NULL);
}

char *google_session_body(const char *config_id)
{
    struct gg_buf b;
    gg_buf_init(&b, 1u << 20);
    int rc = envelope_open(&b, config_id);
    if (rc == 0)
        rc = gg_buf_adds(&b, "\"createSessionRequest\":{\"session\":{\"name\":\"\",\"displayName\":\"\"}}}");
    return body_done(&b, rc);
}

char *google_stream_body(const struct google_query *q)
{
    struct gg_buf b;
    size_t tl = strlen(q->text);
    gg_buf_init(&b, 6 * tl + (1u << 20));   /* escaping grows text at most 6x (the caller caps it at 64 MiB) */
    if (gg_buf_reserve(&b, tl + 1024) != 0)
        return body_done(&b, -1);
    int rc = envelope_open(&b, q->config_id);
    rc = rc ? rc : gg_buf_adds(&b, "\"streamAssistRequest\":{");
    rc = rc ? rc : json_member(&b, "session", q->session);
    rc = rc ? rc : gg_buf_adds(&b, ",\"query\":{\"parts\":[{\"text\":");
    rc = rc ? rc : gg_buf_add_json_str(&b, q->text, tl);
    rc = rc ? rc : gg_buf_adds(&b, "}]},\"filter\":\"\",\"fileIds\":[");
    for (size_t i = 0; rc == 0 && i < q->n_file_ids; i++) {
        if (i)
            rc = gg_buf_addc(&b, ',');
        rc = rc ? rc : gg_buf_add_json_str(&b, q->file_ids[i], strlen(q->file_ids[i]));
    }
    rc = rc ? rc : gg_buf_adds(&b, "],\"answerGenerationMode\":\"NORMAL\",\"toolsSpec\":{");
    if (rc == 0 && (q->tools & TOOLS_SEARCH))
        rc = gg_buf_adds(&b, "\"webGroundingSpec\":{},");
    rc = rc ? rc : gg_buf_adds(&b, "\"toolRegistry\":\"default_tool_registry\"");
    if (rc == 0 && (q->tools & TOOLS_IMAGE))
        rc = gg_buf_adds(&b, ",\"imageGenerationSpec\":{}");
    if (rc == 0 && (q->tools & TOOLS_VIDEO))
        rc = gg_buf_adds(&b, ",\"videoGenerationSpec\":{}");
    rc = rc ? rc : gg_buf_adds(&b, "},");
    rc = rc ? rc : json_member(&b, "languageCode", cfg.language_code);
    rc = rc ? rc : gg_buf_adds(&b, ",\"userMetadata\":{");
    rc = rc ? rc : json_member(&b, "timeZone", cfg.time_zone);
    rc = rc ? rc : gg_buf_adds(&b, "},\"assistSkippingMode\":\"REQUEST_ASSIST\"");
    if (rc == 0 && q->model_id) {
        rc = gg_buf_adds(&b, ",\"assistGenerationConfig\":{");
        rc = rc ? rc : json_member(&b, "modelId", q->model_id);
        rc = rc ? rc : gg_buf_addc(&b, '}');
    }
    rc = rc ? rc : gg_buf_adds(&b, "}}");
    /* a part that did not make it (allocation, cap) would change the
     * question: refuse the whole body instead */
    return body_done(&b, rc);
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

