/* admin_keys.c -- see admin_keys.h */
#include "admin_keys.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "http.h"
#include "keys.h"
#include "keys_store.h"

static enum MHD_Result err_reply(struct http_req *r, int status, const char *code, const char *msg, cJSON *fields)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    if (fields)
        cJSON_AddItemToObject(e, "fields", fields);
    return http_reply_cjson(r, status, root);
}

static enum MHD_Result fields_reply(struct http_req *r, cJSON *fields)
{
    char msg[400] = "";
    const cJSON *f;
    cJSON_ArrayForEach(f, fields) {
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof(msg) - l, "%s%s: %s", l ? "; " : "", f->string, f->valuestring);
    }
    return err_reply(r, 400, "validation_failed", msg, fields);
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
    if (!ms) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    char t[40];
    gg_rfc3339(ms, t, sizeof(t));
    cJSON_AddStringToObject(o, k, t);
}

static cJSON *key_json(const struct key_info *k, const struct key_usage_now *u)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)k->id);
    cJSON_AddStringToObject(o, "name", k->name);
    cJSON_AddStringToObject(o, "note", k->note);
    cJSON_AddStringToObject(o, "prefix", k->prefix);
    add_time(o, "created_at", k->created_at);
    add_time(o, "expires_at", k->expires_at);
    cJSON_AddBoolToObject(o, "enabled", k->enabled);
    cJSON *l = cJSON_AddObjectToObject(o, "limits");
    cJSON_AddStringToObject(l, "models", k->lim.models);
    cJSON_AddNumberToObject(l, "rpm", (double)k->lim.rpm);
    cJSON_AddNumberToObject(l, "tpm", (double)k->lim.tpm);
    cJSON_AddNumberToObject(l, "tokens_day", (double)k->lim.tokens_day);
    cJSON_AddNumberToObject(l, "tokens_month", (double)k->lim.tokens_month);
    cJSON_AddNumberToObject(l, "max_concurrent", (double)k->lim.max_concurrent);
    cJSON_AddStringToObject(l, "group", k->lim.group);
    cJSON *s = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(s, "minute_requests", (double)u->minute_requests);
    cJSON_AddNumberToObject(s, "minute_tokens", (double)u->minute_tokens);
    cJSON_AddNumberToObject(s, "day_tokens", (double)u->day_tokens);
    cJSON_AddNumberToObject(s, "month_tokens", (double)u->month_tokens);
    cJSON_AddNumberToObject(s, "day_requests", (double)u->day_requests);
    cJSON_AddNumberToObject(s, "day_errors", (double)u->day_errors);
    cJSON_AddNumberToObject(s, "inflight", u->inflight);
    cJSON_AddNumberToObject(s, "cluster_minute_requests", (double)u->cluster_minute_requests);
    cJSON_AddNumberToObject(s, "cluster_minute_tokens", (double)u->cluster_minute_tokens);
    cJSON_AddNumberToObject(s, "cluster_inflight", u->cluster_inflight);
    return o;
}

/* ---- body parsing ---------------------------------------------------------- */

struct key_edit {
    const char *name, *note;
    bool has_exp, has_enabled, has_lim;
    int64_t expires_at;
    bool enabled;
    struct key_limits lim;
};

static void set_err(cJSON *fields, const char *k, const char *msg)
{
    if (!cJSON_GetObjectItemCaseSensitive(fields, k))
        cJSON_AddStringToObject(fields, k, msg);
}

static void get_limit(const cJSON *l, const char *k, int64_t *out, cJSON *fields)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, k);
    if (!v || cJSON_IsNull(v))
        return;
    char fk[48];
    snprintf(fk, sizeof(fk), "limits.%s", k);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9e15 || (double)(int64_t)v->valuedouble != v->valuedouble) {
        set_err(fields, fk, "must be a whole number, 0 (unlimited) or more");
        return;
    }
    *out = (int64_t)v->valuedouble;
}

/* Parse body onto e (which holds the current values for an edit). */
static void parse_edit(const cJSON *body, struct key_edit *e, bool create, cJSON *fields)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "name");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > 63)
            set_err(fields, "name", "must be a string of 1-63 bytes");
        else
            e->name = v->valuestring;
    } else if (create) {
        set_err(fields, "name", "is required");
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "note");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsString(v) || strlen(v->valuestring) > 255)
            set_err(fields, "note", "must be a string of at most 255 bytes");
        else
            e->note = v->valuestring;
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "expires_at");
    if (v) {
        e->has_exp = true;
        if (cJSON_IsNull(v) || (cJSON_IsNumber(v) && v->valuedouble == 0)) {
            e->expires_at = 0;
        } else if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 9e15) {
            e->expires_at = (int64_t)v->valuedouble;
        } else if (cJSON_IsString(v) && gg_parse_time(v->valuestring) > 0) {
            e->expires_at = gg_parse_time(v->valuestring);
        } else {
            set_err(fields, "expires_at", "must be an RFC 3339 time, Unix milliseconds, or null");
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(body, "enabled");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsBool(v)) {
            set_err(fields, "enabled", "must be true or false");
        } else {
            e->has_enabled = true;
            e->enabled = cJSON_IsTrue(v);
        }
    }
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(body, "limits");
    if (l && !cJSON_IsNull(l)) {
        if (!cJSON_IsObject(l)) {
            set_err(fields, "limits", "must be an object");
            return;
        }
        e->has_lim = true;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(l, "models");
        if (m && !cJSON_IsNull(m)) {
            char list[sizeof(e->lim.models)] = "";
            size_t o = 0;
            bool bad = false;
            if (cJSON_IsString(m)) {
                o = (size_t)snprintf(list, sizeof(list), "%s", m->valuestring);
                bad = o >= sizeof(list);
            } else if (cJSON_IsArray(m)) {
                const cJSON *it;
                cJSON_ArrayForEach(it, m) {
                    if (!cJSON_IsString(it) || strchr(it->valuestring, ',')) {
                        bad = true;
                        break;
                    }
                    int w = snprintf(list + o, sizeof(list) - o, "%s%s", o ? "," : "", it->valuestring);
                    if (w < 0 || (size_t)w >= sizeof(list) - o) {
                        bad = true;
                        break;
                    }
                    o += (size_t)w;
                }
            } else {
                bad = true;
            }
            for (const unsigned char *p = (const unsigned char *)list; !bad && *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                    bad = true;
            if (bad)
                set_err(fields, "limits.models", "must be a comma list or an array of model ids or '*' patterns "
                                                 "(at most 511 bytes)");
            else
                snprintf(e->lim.models, sizeof(e->lim.models), "%s", list);
        }
        get_limit(l, "rpm", &e->lim.rpm, fields);
        get_limit(l, "tpm", &e->lim.tpm, fields);
        get_limit(l, "tokens_day", &e->lim.tokens_day, fields);
        get_limit(l, "tokens_month", &e->lim.tokens_month, fields);
        get_limit(l, "max_concurrent", &e->lim.max_concurrent, fields);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(l, "group");
        if (g && !cJSON_IsNull(g)) {
            char norm[ACCT_TAGS_MAX], err[160];
            if (!cJSON_IsString(g) || acct_tags_normalise(g->valuestring, norm, err, sizeof(err)) != 0 ||
                strchr(norm, ',') || strlen(norm) >= sizeof(e->lim.group))
                set_err(fields, "limits.group", "must be one tag: letters, digits, '-', '_' and '.' (or \"\")");
            else
                snprintf(e->lim.group, sizeof(e->lim.group), "%s", norm);
        }
    }
}

/* ---- routes ---------------------------------------------------------------- */

static enum MHD_Result reply_key(struct http_req *r, int status, int64_t id)
{
    struct key_info k;
    struct key_usage_now u;
    if (keys_get(id, &k, &u) != 0)
        return err_reply(r, 404, "not_found", "no such key", NULL);
    return http_reply_cjson(r, status, key_json(&k, &u));
}

static enum MHD_Result list(struct http_req *r)
{
    struct key_info *ks;
    struct key_usage_now *us;
    size_t n;
    if (keys_list(&ks, &us, &n) != 0)
        return err_reply(r, 500, "internal", "out of memory", NULL);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "keys");
    /* oldest first (ids grow) */
    for (size_t i = 0; i < n; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < n; j++)
            if (ks[j].id < ks[best].id)
                best = j;
        if (best != i) {
            struct key_info tk = ks[i];
            struct key_usage_now tu = us[i];
            ks[i] = ks[best];
            us[i] = us[best];
            ks[best] = tk;
            us[best] = tu;
        }
        cJSON_AddItemToArray(arr, key_json(&ks[i], &us[i]));
    }
    free(ks);
    free(us);
    return http_reply_cjson(r, 200, root);
}

static cJSON *parse_body(struct http_req *r)
{
    return cJSON_ParseWithLength(r->body.p ? r->body.p : "", r->body.len);
}

static enum MHD_Result create(struct http_req *r)
{
    cJSON *body = parse_body(r);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return err_reply(r, 400, "invalid_json", "the body must be a JSON object", NULL);
    }
    struct key_edit e;
    memset(&e, 0, sizeof(e));
    cJSON *fields = cJSON_CreateObject();
    parse_edit(body, &e, true, fields);
    if (cJSON_GetArraySize(fields)) {
        cJSON_Delete(body);
        return fields_reply(r, fields);
    }
    cJSON_Delete(fields);
    struct key_info k;
    char secret[KEY_SECRET_LEN + 1], err[160];
    keys_store_begin();
    int rc = keys_create(e.name, e.note, e.has_exp ? e.expires_at : 0, &e.lim, &k, secret, err, sizeof(err));
    if (rc == 0 && e.has_enabled && !e.enabled) {
        bool off = false;
        keys_update(k.id, NULL, NULL, NULL, &off, NULL, err, sizeof(err));
    }
    keys_store_end();
    cJSON_Delete(body);
    if (rc != 0)
        return err_reply(r, strstr(err, "store") ? 503 : 400, strstr(err, "store") ? "store_unavailable"
                                                                                   : "validation_failed", err, NULL);
    GG_INFO("admin: client key %lld '%s' (%s...) created", (long long)k.id, k.name, k.prefix);
    struct key_usage_now u;
    keys_get(k.id, &k, &u);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "key", key_json(&k, &u));
    cJSON_AddStringToObject(root, "secret", secret);
    memset(secret, 0, sizeof(secret));
    return http_reply_cjson(r, 201, root);
}

static enum MHD_Result update(struct http_req *r, int64_t id)
{
    struct key_info cur;
    if (keys_get(id, &cur, NULL) != 0)
        return err_reply(r, 404, "not_found", "no such key", NULL);
    cJSON *body = parse_body(r);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return err_reply(r, 400, "invalid_json", "the body must be a JSON object", NULL);
    }
    struct key_edit e;
    memset(&e, 0, sizeof(e));
    e.lim = cur.lim;                 /* limits: the fields given change, the rest stay */
    cJSON *fields = cJSON_CreateObject();
    parse_edit(body, &e, false, fields);
    if (cJSON_GetArraySize(fields)) {
        cJSON_Delete(body);
        return fields_reply(r, fields);
    }
    cJSON_Delete(fields);
    char err[160];
    keys_store_begin();
    int rc = keys_update(id, e.name, e.note, e.has_exp ? &e.expires_at : NULL, e.has_enabled ? &e.enabled : NULL,
                         e.has_lim ? &e.lim : NULL, err, sizeof(err));
    keys_store_end();
    cJSON_Delete(body);
    if (rc != 0) {
        if (strstr(err, "no key"))
            return err_reply(r, 404, "not_found", "no such key", NULL);
        return err_reply(r, strstr(err, "store") ? 503 : 400, strstr(err, "store") ? "store_unavailable"
                                                                                   : "validation_failed", err, NULL);
    }
    GG_INFO("admin: client key %lld updated", (long long)id);
    return reply_key(r, 200, id);
}

static enum MHD_Result del(struct http_req *r, int64_t id)
{
    keys_store_begin();
    int rc = keys_delete(id);
    keys_store_end();
    if (rc != 0)
        return err_reply(r, 404, "not_found", "no such key", NULL);
    GG_INFO("admin: client key %lld deleted", (long long)id);
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"deleted\":true,\"id\":%lld}", (long long)id);
    return http_reply_json(r, 200, body, (size_t)n);
}

static enum MHD_Result usage(struct http_req *r, int64_t id)
{
    if (keys_get(id, NULL, NULL) != 0)
        return err_reply(r, 404, "not_found", "no such key", NULL);
    long long days = 30;
    const char *q = http_query(r, "days");
    if (q && gg_parse_int(q, 1, 400, &days) != 0) {
        cJSON *fields = cJSON_CreateObject();
        cJSON_AddStringToObject(fields, "days", "must be a whole number from 1 to 400");
        return fields_reply(r, fields);
    }
    struct key_day_usage *u;
    size_t n;
    if (keys_store_usage(id, (int)days, &u, &n) != 0)
        return err_reply(r, 503, "store_unavailable", "the store is unavailable", NULL);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "id", (double)id);
    cJSON *arr = cJSON_AddArrayToObject(root, "days");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "day", u[i].day);
        cJSON_AddStringToObject(o, "model", u[i].model);
        cJSON_AddNumberToObject(o, "requests", (double)u[i].requests);
        cJSON_AddNumberToObject(o, "errors", (double)u[i].errors);
        cJSON_AddNumberToObject(o, "tokens_in", (double)u[i].tokens_in);
        cJSON_AddNumberToObject(o, "tokens_out", (double)u[i].tokens_out);
        cJSON_AddItemToArray(arr, o);
    }
    free(u);
    return http_reply_cjson(r, 200, root);
}

enum MHD_Result admin_keys_handle(struct http_req *r, const char *path)
{
    const char *m = r->method;
    bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
    bool put = strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0, dele = strcmp(m, "DELETE") == 0;
    if (strcmp(path, "/keys") == 0) {
        if (get)
            return list(r);
        if (post)
            return create(r);
        return err_reply(r, 405, "method_not_allowed", "use GET or POST", NULL);
    }
    char *end;
    long long id = strtoll(path + 6, &end, 10);
    if (strncmp(path, "/keys/", 6) != 0 || end == path + 6 || id <= 0 || path[6] == '-' || path[6] == '+')
        return err_reply(r, 404, "not_found", "no such key", NULL);
    if (*end == '\0') {
        if (get)
            return reply_key(r, 200, id);
        if (put)
            return update(r, id);
        if (dele)
            return del(r, id);
        return err_reply(r, 405, "method_not_allowed", "use GET, PUT, PATCH or DELETE", NULL);
    }
    if (strcmp(end, "/usage") == 0) {
        if (get)
            return usage(r, id);
        return err_reply(r, 405, "method_not_allowed", "use GET", NULL);
    }
    return err_reply(r, 404, "not_found", "no such route", NULL);
}

int admin_keys_tags_field(const cJSON *body, char out[ACCT_TAGS_MAX], cJSON *fields)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "tags");
    if (!v || cJSON_IsNull(v))
        return 0;
    char list[1024] = "", err[160];
    if (cJSON_IsString(v)) {
        snprintf(list, sizeof(list), "%s", v->valuestring);
    } else if (cJSON_IsArray(v)) {
        size_t o = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            if (!cJSON_IsString(it)) {
                set_err(fields, "tags", "must be a comma list or an array of strings");
                return -1;
            }
            int w = snprintf(list + o, sizeof(list) - o, "%s%s", o ? "," : "", it->valuestring);
            if (w < 0 || (size_t)w >= sizeof(list) - o)
                break;
            o += (size_t)w;
        }
    } else {
        set_err(fields, "tags", "must be a comma list or an array of strings");
        return -1;
    }
    if (acct_tags_normalise(list, out, err, sizeof(err)) != 0) {
        set_err(fields, "tags", err + 6);       /* after "tags: " */
        return -1;
    }
    return 1;
}
