/* pool_json.c -- the pool's read-only views (see pool.h): credential
 * copies for the upstream thread, the admin API's account JSON (secrets
 * masked) and the per-status counts.  A private part of pool.c: it takes
 * the pool lock and walks the account array through pool_kind.h. */
#include "pool.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct_tags.h"
#include "gg_time.h"
#include "gg_util.h"
#include "pool_kind.h"

int pool_creds(struct account *a, struct creds *out)
{
    memset(out, 0, sizeof(*out));
    pool_lock_();
    out->secure_c_ses = gg_strdup0(a->secure_c_ses);
    out->host_c_oses = gg_strdup0(a->host_c_oses);
    out->csesidx = gg_strdup0(a->csesidx);
    out->config_id = gg_strdup0(a->config_id);
    out->proxy = gg_strdup0(a->proxy);
    out->name = gg_strdup0(a->name);
    out->gen = a->cred_gen;
    pool_unlock_();
    if (!out->secure_c_ses || !out->csesidx || !out->config_id) {
        pool_creds_free(out);
        return -1;
    }
    return 0;
}

void pool_creds_free(struct creds *c)
{
    free(c->secure_c_ses);
    free(c->host_c_oses);
    free(c->csesidx);
    free(c->config_id);
    free(c->proxy);
    free(c->name);
    memset(c, 0, sizeof(*c));
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

static cJSON *account_json_locked(struct account *a, int64_t now)
{
    char m[64];
    pool_refresh_(a, now, true);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)a->id);
    cJSON_AddStringToObject(o, "name", a->name ? a->name : "");
    cJSON_AddStringToObject(o, "source", a->from_env ? "env" : "db");
    cJSON_AddStringToObject(o, "csesidx", a->csesidx ? a->csesidx : "");
    cJSON_AddStringToObject(o, "config_id", a->config_id ? a->config_id : "");
    gg_mask(a->secure_c_ses, m, sizeof(m));
    cJSON_AddStringToObject(o, "secure_c_ses", m);
    gg_mask(a->host_c_oses, m, sizeof(m));
    cJSON_AddStringToObject(o, "host_c_oses", m);
    char pm[1100];
    gg_mask_url(a->proxy, pm, sizeof(pm));   /* user:pass never leaves */
    cJSON_AddStringToObject(o, "proxy", pm);
    cJSON_AddStringToObject(o, "note", a->note ? a->note : "");
    cJSON_AddBoolToObject(o, "is_active", a->is_active);
    char tags[ACCT_TAGS_MAX];
    acct_tags_get(a->id, tags);
    cJSON_AddStringToObject(o, "tags", tags);
    cJSON_AddStringToObject(o, "status", pool_status_name(a->status));
    if (a->reason[0])
        cJSON_AddStringToObject(o, "reason", a->reason);
    else
        cJSON_AddNullToObject(o, "reason");
    add_time(o, "until", a->status == ST_COOLDOWN ? a->until_ms : 0);
    add_time(o, "expires_at", a->expires_at);
    add_time(o, "last_used_at", a->last_used_at);
    add_time(o, "created_at", a->created_at);
    add_time(o, "updated_at", a->updated_at);
    cJSON_AddNumberToObject(o, "requests_today", (double)a->requests_today);
    cJSON_AddNumberToObject(o, "errors_today", (double)a->errors_today);
    cJSON_AddNumberToObject(o, "requests_total", (double)a->requests_total);
    cJSON_AddNumberToObject(o, "errors_total", (double)a->errors_total);
    cJSON_AddNumberToObject(o, "inflight", a->inflight);
    cJSON *errs = cJSON_AddArrayToObject(o, "last_errors");
    for (int i = 0; i < a->n_errors; i++) {
        cJSON *e = cJSON_CreateObject();
        add_time(e, "at", a->last_errors[i].at);
        cJSON_AddStringToObject(e, "kind", a->last_errors[i].kind);
        cJSON_AddStringToObject(e, "message", a->last_errors[i].msg);
        cJSON_AddItemToArray(errs, e);
    }
    pk_json(o, a, now);
    return o;
}

cJSON *pool_account_json(const struct account *ca)
{
    struct account *a = (struct account *)ca;
    pool_lock_();
    cJSON *o = account_json_locked(a, gg_now_ms());
    pool_unlock_();
    return o;
}

static bool contains_ci(const char *hay, const char *needle)
{
    if (!hay)
        return false;
    return strcasestr(hay, needle) != NULL;
}

cJSON *pool_list_json(const char *status_filter, const char *q)
{
    cJSON *arr = cJSON_CreateArray();
    int64_t now = gg_now_ms();
    pool_lock_();
    size_t n;
    struct account *const *all = pool_all_(&n);
    for (size_t i = 0; i < n; i++) {
        struct account *a = all[i];
        pool_refresh_(a, now, false);
        if (status_filter && *status_filter && strcmp(status_filter, pool_status_name(a->status)) != 0)
            continue;
        if (q && *q && !contains_ci(a->name, q) && !contains_ci(a->csesidx, q) && !contains_ci(a->config_id, q))
            continue;
        cJSON_AddItemToArray(arr, account_json_locked(a, now));
    }
    pool_unlock_();
    return arr;
}

void pool_counts(int *total, int *active, int *cooldown, int *expired, int *disabled)
{
    int c[4] = {0};
    int64_t now = gg_now_ms();
    pool_lock_();
    size_t n;
    struct account *const *all = pool_all_(&n);
    for (size_t i = 0; i < n; i++) {
        pool_refresh_(all[i], now, false);
        c[all[i]->status]++;
    }
    *total = (int)n;
    pool_unlock_();
    *active = c[ST_ACTIVE];
    *cooldown = c[ST_COOLDOWN];
    *expired = c[ST_EXPIRED];
    *disabled = c[ST_DISABLED];
}
