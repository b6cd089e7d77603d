/* admin_reply.c -- see admin_reply.h */
#include "admin_reply.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "store.h"

enum MHD_Result admin_reply_error(struct http_req *r, int status, const char *code, const char *msg,
                                  cJSON *fields, int retry_after)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    if (!e || !cJSON_AddStringToObject(e, "code", code) || !cJSON_AddStringToObject(e, "message", msg) ||
        (fields && !cJSON_AddItemToObject(e, "fields", fields))) {
        cJSON_Delete(fields);
        cJSON_Delete(root);
        return MHD_NO;
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    return http_queue(r, status, resp);
}

enum MHD_Result admin_reply_fields(struct http_req *r, cJSON *fields)
{
    char msg[400] = "";
    const cJSON *f;
    cJSON_ArrayForEach(f, fields) {
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof(msg) - l, "%s%s: %s", l ? "; " : "", f->string,
                 cJSON_IsString(f) ? f->valuestring : "invalid");
    }
    return admin_reply_error(r, 400, "validation_failed", msg, fields, 0);
}

enum MHD_Result admin_reply_store_down(struct http_req *r)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "the store is unavailable: %s", store_last_error());
    return admin_reply_error(r, 503, "store_unavailable", msg, NULL, 5);
}
