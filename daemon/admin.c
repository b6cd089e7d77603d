/* admin.c -- see admin.h */
#include "admin.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_keys.h"
#include "admin_logs.h"
#include "admin_reply.h"
#include "auth.h"
#include "cluster.h"
#include "call.h"
#include "config.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "http.h"
#include "models.h"
#include "import.h"
#include "keys_store.h"
#include "pool.h"
#include "reqlog.h"
#include "sessions.h"
#include "store.h"
#include "storeq.h"
#include "upstream.h"

static struct store *st;
static struct storeq *sq;
static int64_t started_ms;

void admin_init(struct store *s, struct storeq *q)
{
    st = s;
    sq = q;
    started_ms = gg_now_ms();
}

/* ---- validation ------------------------------------------------------------ */

static bool valid_cookie(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 8192)
        return false;
    for (const char *p = s; *p; p++)
        if (*p <= 32 || *p >= 127 || *p == ';' || *p == ',')
            return false;
    return true;
}

static const char *check_field(const char *k, const char *v)
{
    if (!v)
        return NULL;
    if (strcmp(k, "csesidx") == 0) {
        size_t n = strlen(v);
        if (n == 0 || n > 20)
            return "must be 1-20 decimal digits";
        for (const char *p = v; *p; p++)
            if (!isdigit((unsigned char)*p))
                return "must be decimal digits";
    } else if (strcmp(k, "config_id") == 0) {
        size_t n = strlen(v);
        if (n == 0 || n > 128)
            return "must be 1-128 characters";
        for (const char *p = v; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
                return "may contain only letters, digits, '-', '_' and '.'";
    } else if (strcmp(k, "secure_c_ses") == 0) {
        if (!valid_cookie(v))
            return "must be 1-8192 printable characters without spaces, ';' or ','";
    } else if (strcmp(k, "host_c_oses") == 0) {
        if (*v && !valid_cookie(v))
            return "must be printable characters without spaces, ';' or ','";
    } else if (strcmp(k, "name") == 0) {
        if (strlen(v) > 255)
            return "must be at most 255 characters";
    } else if (strcmp(k, "proxy") == 0) {
        if (*v && strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0 &&
            strncmp(v, "socks5://", 9) != 0 && strncmp(v, "socks5h://", 10) != 0)
            return "must be an http://, https://, socks5:// or socks5h:// URL";
        if (strlen(v) > 1000)
            return "is too long";
    } else if (strcmp(k, "note") == 0) {
        if (strlen(v) > 1000)
            return "must be at most 1000 characters";
    }
    return NULL;
}

static const char *const FIELDS[] = {"name", "secure_c_ses", "host_c_oses", "csesidx", "config_id", "proxy", "note", NULL};

static char **row_field(struct store_account *a, const char *k)
{
    if (strcmp(k, "name") == 0) return &a->name;
    if (strcmp(k, "secure_c_ses") == 0) return &a->secure_c_ses;
    if (strcmp(k, "host_c_oses") == 0) return &a->host_c_oses;
    if (strcmp(k, "csesidx") == 0) return &a->csesidx;
    if (strcmp(k, "config_id") == 0) return &a->config_id;
    if (strcmp(k, "proxy") == 0) return &a->proxy;
    return &a->note;
}

/* Apply JSON fields onto row; collects messages in *fields (NULL only
 * when out of memory).  0 ok, -1 invalid fields, -2 out of memory. */
static int apply_json(struct store_account *a, const cJSON *body, bool create, cJSON **fields)
{
    *fields = cJSON_CreateObject();
    if (!*fields)
        return -2;
    for (int i = 0; FIELDS[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, FIELDS[i]);
        if (!v || cJSON_IsNull(v))
            continue;
        char num[32];
        const char *s;
        if (cJSON_IsString(v)) {
            s = v->valuestring;
        } else if (cJSON_IsNumber(v) && strcmp(FIELDS[i], "csesidx") == 0) {
            snprintf(num, sizeof(num), "%.0f", v->valuedouble);
            s = num;
        } else {
            cJSON_AddStringToObject(*fields, FIELDS[i], "must be a string");
            continue;
        }
        bool secret = strcmp(FIELDS[i], "secure_c_ses") == 0 || strcmp(FIELDS[i], "host_c_oses") == 0;
        if (!create && secret && !*s)
            continue; /* empty secret on update = keep */
        if (!create && strcmp(FIELDS[i], "proxy") == 0 && a->proxy && strstr(s, "***@")) {
            char pm[1100];
            gg_mask_url(a->proxy, pm, sizeof(pm));
            if (strcmp(s, pm) == 0)
                continue; /* the masked value sent back = keep */
        }
        const char *m = check_field(FIELDS[i], s);
        if (m) {
            cJSON_AddStringToObject(*fields, FIELDS[i], m);
            continue;
        }
        char *copy = strdup(s);
        if (!copy)
            return -2;
        char **dst = row_field(a, FIELDS[i]);
        free(*dst);
        *dst = copy;
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(body, "is_active");
    if (act && !cJSON_IsNull(act)) {
        if (cJSON_IsBool(act))
            a->is_active = cJSON_IsTrue(act);
        else
            cJSON_AddStringToObject(*fields, "is_active", "must be true or false");
    }
    static const char *const required[] = {"secure_c_ses", "csesidx", "config_id", NULL};
    for (int i = 0; required[i]; i++) {
        char **f = row_field(a, required[i]);
        if ((!*f || !**f) && !cJSON_GetObjectItemCaseSensitive(*fields, required[i]))
            cJSON_AddStringToObject(*fields, required[i], "is required");
    }
    if (!a->name || !*a->name) {
        free(a->name);
        char nm[64];
        snprintf(nm, sizeof(nm), "acct-%s", a->csesidx ? a->csesidx : "new");
        a->name = strdup(nm);
        if (!a->name)
            return -2;
    }
    return cJSON_GetArraySize(*fields) ? -1 : 0;
}

static cJSON *parse_body(struct http_req *r, bool allow_empty)
{
    if (allow_empty && r->body.len == 0)
        return cJSON_CreateObject();
    return cJSON_ParseWithLength(r->body.p ? r->body.p : "", r->body.len);
}

static void account_event(int64_t id)
{
    struct account *a = pool_get(id);
    if (a) {
        reqlog_account_event(pool_account_json(a));
        pool_put(a);
    }
}

static enum MHD_Result reply_account(struct http_req *r, int status, int64_t id)
{
    struct account *a = pool_get(id);
    if (!a)
        return admin_reply_error(r, 404, "not_found", "no such account", NULL, 0);
    cJSON *j = pool_account_json(a);
    pool_put(a);
    return http_reply_cjson(r, status, j);
}

/* ---- account routes ---------------------------------------------------------- */

static enum MHD_Result accounts_create(struct http_req *r)
{
    cJSON *body = parse_body(r, false);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return admin_reply_error(r, 400, "invalid_json", "the body must be a JSON object", NULL, 0);
    }
    struct store_account a;
    memset(&a, 0, sizeof(a));
    a.is_active = true;
    cJSON *fields = NULL;
    int vr = apply_json(&a, body, true, &fields);
    if (vr == -2) {
        cJSON_Delete(body);
        cJSON_Delete(fields);
        store_account_clear(&a);
        return MHD_NO;
    }
    char tags[ACCT_TAGS_MAX];
    int has_tags = admin_keys_tags_field(body, tags, fields);
    if (has_tags < 0)
        vr = -1;
    cJSON_Delete(body);
    if (vr != 0) {
        store_account_clear(&a);
        return admin_reply_fields(r, fields);
    }
    cJSON_Delete(fields);
    a.status = strdup(a.is_active ? "active" : "disabled");
    a.reason = a.is_active ? NULL : strdup("disabled by admin");
    if (!a.status || (!a.is_active && !a.reason)) {
        store_account_clear(&a);
        return MHD_NO;
    }
    int rc = store_account_insert(st, &a);
    if (rc == STORE_CONFLICT) {
        store_account_clear(&a);
        return admin_reply_error(r, 409, "conflict", "an account with this csesidx and config_id already exists",
                                 NULL, 0);
    }
    if (rc != STORE_OK) {
        store_account_clear(&a);
        return admin_reply_store_down(r);
    }
    pool_add(&a, false);
    int64_t id = a.id;
    store_account_clear(&a);
    if (has_tags > 0)
        keys_store_set_account_tags(id, tags);
    account_event(id);
    GG_INFO("admin: account %lld created", (long long)id);
    return reply_account(r, 201, id);
}

/* The environment account (id 0): only its admin switch can change; its
 * credentials come from the environment and stay read-only (409). */
static enum MHD_Result env_account_update(struct http_req *r, cJSON *body)
{
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(body, "is_active");
    bool only_active = cJSON_GetArraySize(body) == 1 && act;
    if (!only_active) {
        cJSON_Delete(body);
        return admin_reply_error(r, 409, "read_only", "the environment account is configured by environment "
                         "variables; only is_active can change", NULL, 0);
    }
    if (!cJSON_IsBool(act)) {
        cJSON_Delete(body);
        cJSON *fields = cJSON_CreateObject();
        cJSON_AddStringToObject(fields, "is_active", "must be true or false");
        return admin_reply_fields(r, fields);
    }
    bool on = cJSON_IsTrue(act);
    cJSON_Delete(body);
    int rc = on ? pool_enable(0) : pool_disable(0, NULL);
    if (rc != 0)
        return admin_reply_error(r, 404, "not_found", "no such account", NULL, 0);
    GG_INFO("admin: environment account %s", on ? "enabled" : "disabled");
    account_event(0);
    return reply_account(r, 200, 0);
}

static enum MHD_Result accounts_update(struct http_req *r, int64_t id)
{
    cJSON *body = parse_body(r, false);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return admin_reply_error(r, 400, "invalid_json", "the body must be a JSON object", NULL, 0);
    }
    if (id == 0)
        return env_account_update(r, body);
    struct store_account a;
    memset(&a, 0, sizeof(a));
    int rc = store_account_get(st, id, &a);
    if (rc == STORE_NOTFOUND) {
        cJSON_Delete(body);
        return admin_reply_error(r, 404, "not_found", "no such account", NULL, 0);
    }
    if (rc != STORE_OK) {
        cJSON_Delete(body);
        return admin_reply_store_down(r);
    }
    bool was_active = a.is_active;
    cJSON *fields = NULL;
    int vr = apply_json(&a, body, false, &fields);
    if (vr == -2) {
        cJSON_Delete(body);
        cJSON_Delete(fields);
        store_account_clear(&a);
        return MHD_NO;
    }
    char tags[ACCT_TAGS_MAX];
    int has_tags = admin_keys_tags_field(body, tags, fields);
    if (has_tags < 0)
        vr = -1;
    cJSON_Delete(body);
    if (vr != 0) {
        store_account_clear(&a);
        return admin_reply_fields(r, fields);
    }
    cJSON_Delete(fields);
    bool now_active = a.is_active;
    pool_update(&a);
    if (now_active != was_active || !now_active) {
        if (now_active)
            pool_enable(id);
        else
            pool_disable(id, NULL);
    }
    pool_fill_row(id, &a);
    rc = store_account_update(st, &a);
    store_account_clear(&a);
    if (rc == STORE_CONFLICT)
        return admin_reply_error(r, 409, "conflict", "an account with this csesidx and config_id already exists",
                                 NULL, 0);
    if (rc != STORE_OK)
        return admin_reply_store_down(r);
    if (has_tags > 0)
        keys_store_set_account_tags(id, tags);
    account_event(id);
    return reply_account(r, 200, id);
}

static enum MHD_Result accounts_delete(struct http_req *r, int64_t id)
{
    if (id == 0)
        return admin_reply_error(r, 409, "read_only",
                                 "the environment account cannot be deleted; unset SECURE_C_SES", NULL, 0);
    int rc = store_account_delete(st, id);
    if (rc == STORE_NOTFOUND) {
        struct account *held = pool_get(id);   /* only a presence check: drop the ref */
        if (!held)
            return admin_reply_error(r, 404, "not_found", "no such account", NULL, 0);
        pool_put(held);
    }
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return admin_reply_store_down(r);
    pool_remove(id);
    acct_tags_set(id, "");
    sessions_drop_account(id);
    GG_INFO("admin: account %lld deleted", (long long)id);
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"deleted\":true,\"id\":%lld}", (long long)id);
    return http_reply_json(r, 200, body, (size_t)n);
}

static enum MHD_Result accounts_action(struct http_req *r, int64_t id, const char *action)
{
    int rc;
    if (strcmp(action, "enable") == 0) {
        rc = pool_enable(id);
    } else if (strcmp(action, "disable") == 0) {
        cJSON *body = parse_body(r, true);
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(body, "reason");
        rc = pool_disable(id, cJSON_IsString(reason) ? reason->valuestring : NULL);
        cJSON_Delete(body);
    } else if (strcmp(action, "reset") == 0) {
        rc = pool_reset(id);
    } else {
        return admin_reply_error(r, 404, "not_found", "unknown account action", NULL, 0);
    }
    if (rc != 0)
        return admin_reply_error(r, 404, "not_found", "no such account", NULL, 0);
    if (id > 0) {
        /* is_active is a column of its own: write it synchronously so an
         * acknowledged disable survives a crash */
        struct store_account a;
        memset(&a, 0, sizeof(a));
        if (store_account_get(st, id, &a) == STORE_OK) {
            pool_fill_row(id, &a);
            if (store_account_update(st, &a) != STORE_OK) {
                store_account_clear(&a);
                return admin_reply_store_down(r);
            }
        }
        store_account_clear(&a);
    }
    GG_INFO("admin: account %lld %s", (long long)id, action);
    return reply_account(r, 200, id);
}

static enum MHD_Result accounts_test(struct http_req *r, int64_t id)
{
    struct account *a = pool_get(id);
    if (!a)
        return admin_reply_error(r, 404, "not_found", "no such account", NULL, 0);
    pool_put(a);
    struct call *c = call_new(CALL_TEST);
    if (!c)
        return MHD_NO;
    c->forced_account = id;
    snprintf(c->request_id, sizeof(c->request_id), "%s", r->request_id);
    snprintf(c->chat_id, sizeof(c->chat_id), "test");
    snprintf(c->key_id, sizeof(c->key_id), "admin-test");
    c->created_s = gg_now_ms() / 1000;
    c->t_start_us = gg_mono_us();
    c->req.model.model = NULL;
    c->conn = r->conn;
    r->call = c;
    pthread_mutex_lock(&c->mu);
    http_park(r->conn, &c->suspended);
    pthread_mutex_unlock(&c->mu);
    upstream_submit(c);
    return MHD_YES;
}

static enum MHD_Result test_resumed(struct http_req *r)
{
    struct call *c = r->call;
    pthread_mutex_lock(&c->mu);
    if (!c->out_done) {
        http_park(c->conn, &c->suspended);
        pthread_mutex_unlock(&c->mu);
        return MHD_YES;
    }
    cJSON *o = cJSON_CreateObject();
    bool ok = c->phase == PH_DONE && c->test_answer;
    cJSON_AddBoolToObject(o, "ok", ok);
    cJSON_AddNumberToObject(o, "latency_ms", (double)((gg_mono_us() - c->t_start_us) / 1000));
    if (c->t_first_us)
        cJSON_AddNumberToObject(o, "ttft_ms", (double)((c->t_first_us - c->t_start_us) / 1000));
    if (ok)
        cJSON_AddStringToObject(o, "answer", c->test_answer);
    else
        cJSON_AddNullToObject(o, "answer");
    if (ok)
        cJSON_AddNullToObject(o, "error");
    else
        cJSON_AddStringToObject(o, "error", c->test_error[0] ? c->test_error : c->err.message);
    pthread_mutex_unlock(&c->mu);
    return http_reply_cjson(r, 200, o);
}

/* ---- import ------------------------------------------------------------------ */

static enum MHD_Result accounts_import(struct http_req *r)
{
    struct import_entry *ents = NULL;
    size_t n = 0;
    if (import_parse(r->body.p ? r->body.p : "", r->body.len, &ents, &n) != 0)
        return admin_reply_error(r, 413, "too_large", "too many entries (at most 100000)", NULL, 0);
    struct store_account *rows = calloc(n ? n : 1, sizeof(*rows));
    int *res = calloc(n ? n : 1, sizeof(int));
    bool *created = calloc(n ? n : 1, sizeof(bool));
    size_t *map = calloc(n ? n : 1, sizeof(size_t));
    char (*why)[200] = calloc(n ? n : 1, sizeof(*why));
    if (!rows || !res || !created || !map || !why) {
        free(rows); free(res); free(created); free(map); free(why);
        import_free(ents, n);
        return MHD_NO;
    }
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        struct import_entry *e = &ents[i];
        if (e->error[0]) {
            snprintf(why[i], sizeof(why[i]), "%s", e->error);
            continue;
        }
        const char *vals[] = {e->name, e->secure_c_ses, e->host_c_oses, e->csesidx, e->config_id, e->proxy, e->note};
        const char *bad = NULL, *badf = NULL;
        for (int k = 0; FIELDS[k] && !bad; k++) {
            bad = check_field(FIELDS[k], vals[k]);
            badf = FIELDS[k];
        }
        if (!bad && (!e->secure_c_ses || !*e->secure_c_ses)) { bad = "is required"; badf = "secure_c_ses"; }
        if (!bad && (!e->csesidx || !*e->csesidx)) { bad = "is required"; badf = "csesidx"; }
        if (!bad && (!e->config_id || !*e->config_id)) { bad = "is required"; badf = "config_id"; }
        if (bad) {
            snprintf(why[i], sizeof(why[i]), "%s: %s", badf, bad);
            continue;
        }
        struct store_account *a = &rows[nv];
        char nm[64];
        snprintf(nm, sizeof(nm), "acct-%s", e->csesidx);
        a->is_active = e->is_active != 0;
        a->name = strdup(e->name && *e->name ? e->name : nm);
        a->status = strdup(a->is_active ? "active" : "disabled");
        if (!a->name || !a->status) {
            store_account_clear(a);
            memset(a, 0, sizeof(*a));
            snprintf(why[i], sizeof(why[i]), "out of memory");
            continue;
        }
        a->secure_c_ses = e->secure_c_ses; e->secure_c_ses = NULL;
        a->host_c_oses = e->host_c_oses && *e->host_c_oses ? e->host_c_oses : NULL;
        if (a->host_c_oses) e->host_c_oses = NULL;
        a->csesidx = e->csesidx; e->csesidx = NULL;
        a->config_id = e->config_id; e->config_id = NULL;
        a->proxy = e->proxy; e->proxy = NULL;
        a->note = e->note; e->note = NULL;
        map[nv] = i;
        nv++;
    }
    int rc = nv ? store_account_upsert_many(st, rows, nv, res, created) : STORE_OK;
    if (rc == STORE_ERR && nv) {
        for (size_t k = 0; k < nv; k++)
            store_account_clear(&rows[k]);
        free(rows); free(res); free(created); free(map); free(why);
        import_free(ents, n);
        return admin_reply_store_down(r);
    }
    int nc = 0, nu = 0, nr = 0;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", (double)i);
        cJSON_AddNumberToObject(o, "line", ents[i].line);
        if (k < nv && map[k] == i) {
            struct store_account *a = &rows[k];
            if (res[k] == STORE_OK) {
                bool cr = created[k];
                cJSON_AddStringToObject(o, "result", cr ? "created" : "updated");
                cJSON_AddNumberToObject(o, "id", (double)a->id);
                cJSON_AddStringToObject(o, "name", a->name);
                if (cr) {
                    nc++;
                    pool_add(a, false);
                } else {
                    nu++;
                    if (pool_update(a) != 0)
                        pool_add(a, false);
                }
            } else {
                nr++;
                cJSON_AddStringToObject(o, "result", "rejected");
                cJSON_AddStringToObject(o, "reason", res[k] == STORE_CONFLICT ? "conflicts with another account" : "store error");
            }
            k++;
        } else {
            nr++;
            cJSON_AddStringToObject(o, "result", "rejected");
            cJSON_AddStringToObject(o, "reason", why[i][0] ? why[i] : "unreadable entry");
        }
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_AddNumberToObject(root, "created", nc);
    cJSON_AddNumberToObject(root, "updated", nu);
    cJSON_AddNumberToObject(root, "rejected", nr);
    cJSON_AddItemToObject(root, "entries", arr);
    for (size_t j = 0; j < nv; j++)
        store_account_clear(&rows[j]);
    free(rows); free(res); free(created); free(map); free(why);
    import_free(ents, n);
    GG_INFO("admin: import: %d created, %d updated, %d rejected", nc, nu, nr);
    return http_reply_cjson(r, 200, root);
}

static enum MHD_Result overview(struct http_req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", GEMGATE_VERSION);
    cJSON_AddNumberToObject(o, "uptime_s", (double)((gg_now_ms() - started_ms) / 1000));
    double rpm, er;
    reqlog_rates(&rpm, &er);
    cJSON_AddNumberToObject(o, "rpm", rpm);
    cJSON_AddNumberToObject(o, "error_rate", er);
    cJSON_AddNumberToObject(o, "active_streams", upstream_active());
    cJSON *s = cJSON_AddObjectToObject(o, "store");
    cJSON_AddStringToObject(s, "backend", store_backend_name(st));
    cJSON_AddBoolToObject(s, "ok", storeq_store_ok(sq));
    cJSON_AddNumberToObject(s, "dropped", (double)storeq_dropped(sq));
    cJSON_AddNumberToObject(s, "queued", (double)storeq_depth(sq));
    int total, act, cool, exp, dis;
    pool_counts(&total, &act, &cool, &exp, &dis);
    cJSON *p = cJSON_AddObjectToObject(o, "pool");
    cJSON_AddNumberToObject(p, "total", total);
    cJSON_AddNumberToObject(p, "active", act);
    cJSON_AddNumberToObject(p, "cooldown", cool);
    cJSON_AddNumberToObject(p, "expired", exp);
    cJSON_AddNumberToObject(p, "disabled", dis);
    /* model availability (issue 18) and requests per client dialect over the
     * last hour of the in-memory ring (issue 12) */
    size_t nm = 0;
    const struct model_info *mi = models_list(&nm);
    cJSON *ms = cJSON_AddArrayToObject(o, "models");
    for (size_t i = 0; ms && i < nm; i++) {
        cJSON *m = cJSON_CreateObject();
        if (!m || !cJSON_AddItemToArray(ms, m))
            break;
        cJSON_AddStringToObject(m, "id", mi[i].id);
        models_annotate(mi[i].id, m);
    }
    cJSON *d = cJSON_AddObjectToObject(o, "requests_by_dialect");
    static const char *const known[] = {"openai", "anthropic", "responses", "gemini", "images"};
    for (size_t i = 0; d && i < sizeof(known) / sizeof(known[0]); i++)
        cJSON_AddNumberToObject(d, known[i], 0);
    char dn[16][16];
    int64_t dc[16];
    int nd = reqlog_dialect_counts(gg_now_ms() - 3600000LL, dn, dc, 16);
    for (int i = 0; d && i < nd; i++) {
        cJSON *c = cJSON_GetObjectItemCaseSensitive(d, dn[i]);
        if (c)
            cJSON_SetNumberValue(c, (double)dc[i]);
        else
            cJSON_AddNumberToObject(d, dn[i], (double)dc[i]);
    }
    return http_reply_cjson(r, 200, o);
}

enum MHD_Result admin_readyz(struct http_req *r)
{
    bool store_ok = store_ping(st) == STORE_OK;
    int total, act, cool, exp, dis;
    pool_counts(&total, &act, &cool, &exp, &dis);
    cJSON *o = cJSON_CreateObject();
    bool ready = store_ok && act > 0;
    cJSON_AddStringToObject(o, "status", ready ? "ready" : "not_ready");
    cJSON_AddBoolToObject(o, "store", store_ok);
    if (cluster_enabled())
        cJSON_AddBoolToObject(o, "cluster_sync", cluster_ok());
    cJSON_AddNumberToObject(o, "queued_writes", (double)storeq_depth(sq));
    cJSON_AddNumberToObject(o, "dropped_writes", (double)storeq_dropped(sq));
    cJSON_AddNumberToObject(o, "usable_accounts", act);
    if (!store_ok)
        cJSON_AddStringToObject(o, "reason", "store unreachable (serving from memory)");
    else if (!act)
        cJSON_AddStringToObject(o, "reason", "no usable account");
    return http_reply_cjson(r, ready ? 200 : 503, o);
}

/* ---- dispatch ------------------------------------------------------------------ */

static enum MHD_Result logs_stream(struct http_req *r)
{
    struct reqlog_sub *sub = reqlog_sub_open(r->conn);
    if (!sub)
        return MHD_NO;
    r->state = sub; /* the request's reference; admin_completed closes it */
    return http_reply_sse(r, 8192, reqlog_sub_read, sub, reqlog_sub_release);
}

enum MHD_Result admin_handle(struct http_req *r)
{
    if (r->call)
        return test_resumed(r);
    if (r->status)
        return MHD_YES;
    const char *path = r->url + 10; /* after "/api/admin" */
    bool is_stream = strcmp(path, "/logs/stream") == 0;
    /* the admin key (or a stream ticket) was checked by http.c on the first callback */
    if (!r->authed)
        return admin_reply_error(r, 401, "unauthorized", "missing or wrong admin key", NULL, 0);
    if (strncmp(path, "/keys", 5) == 0 && (path[5] == '\0' || path[5] == '/'))
        return admin_keys_handle(r, path);   /* client keys (issue 15) */
    const char *m = r->method;
    bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
    if (strcmp(path, "/accounts") == 0) {
        if (get) {
            cJSON *root = cJSON_CreateObject();
            cJSON_AddItemToObject(root, "accounts", pool_list_json(http_query(r, "status"), http_query(r, "q")));
            return http_reply_cjson(r, 200, root);
        }
        if (post)
            return accounts_create(r);
        return admin_reply_error(r, 405, "method_not_allowed", "use GET or POST", NULL, 0);
    }
    if (strcmp(path, "/accounts/import") == 0) {
        if (!post)
            return admin_reply_error(r, 405, "method_not_allowed", "use POST", NULL, 0);
        return accounts_import(r);
    }
    if (strncmp(path, "/accounts/", 10) == 0) {
        char *end;
        long long id = strtoll(path + 10, &end, 10);
        if (end == path + 10 || id < 0)
            return admin_reply_error(r, 404, "not_found", "no such account", NULL, 0);
        if (*end == '\0') {
            if (get)
                return reply_account(r, 200, id);
            if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0)
                return accounts_update(r, id);
            if (strcmp(m, "DELETE") == 0)
                return accounts_delete(r, id);
            return admin_reply_error(r, 405, "method_not_allowed", "use GET, PUT or DELETE", NULL, 0);
        }
        if (*end == '/' && post) {
            if (strcmp(end + 1, "test") == 0)
                return accounts_test(r, id);
            enum MHD_Result ret = accounts_action(r, id, end + 1);
            account_event(id);
            return ret;
        }
        return admin_reply_error(r, *end == '/' ? 405 : 404, *end == '/' ? "method_not_allowed" : "not_found",
                         *end == '/' ? "use POST" : "no such route", NULL, 0);
    }
    bool known = strcmp(path, "/stats") == 0 || strcmp(path, "/logs") == 0 || strcmp(path, "/overview") == 0 || is_stream;
    if (!known)
        return admin_reply_error(r, 404, "not_found", "no such route", NULL, 0);
    if (!get)
        return admin_reply_error(r, 405, "method_not_allowed", "use GET", NULL, 0);
    if (strcmp(path, "/stats") == 0)
        return admin_logs_stats(r, st, sq);
    if (strcmp(path, "/logs") == 0)
        return admin_logs_list(r, st, sq);
    if (is_stream)
        return logs_stream(r);
    if (strcmp(path, "/overview") == 0)
        return overview(r);
    return admin_reply_error(r, 404, "not_found", "no such route", NULL, 0);
}

void admin_completed(struct http_req *r, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    if (r->call) {
        struct call *c = r->call;
        pthread_mutex_lock(&c->mu);
        c->conn_gone = true;
        c->suspended = false;
        bool finished = c->out_done;
        pthread_mutex_unlock(&c->mu);
        if (!finished)
            upstream_cancel(c);
        call_put(c);
        r->call = NULL;
    }
    if (r->state) {
        reqlog_sse_close(r->state);
        r->state = NULL;
    }
    GG_DEBUG("%s admin %s %s -> %d", r->request_id, r->method, r->url, r->status);
}
