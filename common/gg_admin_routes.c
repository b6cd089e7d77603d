/* gg_admin_routes.c -- one helper per admin API route (gg_admin_client.h,
 * "Route helpers"): builds the path and query (percent-encoded with
 * gg_admin_urlencode) and the JSON body, then runs gg_admin_call().  A
 * request that cannot be built fails with GG_ADMIN_E_NOMEM and sends
 * nothing.
 */
#include "gg_admin_client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- route helpers ------------------------------------------------------- */

int gg_admin_urlencode(struct gg_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            if (gg_buf_addc(b, (char)*p) < 0)
                return -1;
        } else {
            char t[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            if (gg_buf_add(b, t, 3) < 0)
                return -1;
        }
    }
    return 0;
}

static int add_query(struct gg_buf *b, bool *first, const char *name, const char *value)
{
    if (!value || !*value)
        return 0;
    if (gg_buf_printf(b, "%c%s=", *first ? '?' : '&', name) < 0)
        return -1;
    *first = false;
    return gg_admin_urlencode(b, value);
}

static cJSON *call_path(const struct gg_admin_client *c, const char *method, struct gg_buf *path,
                        const char *body, size_t len, const char *ctype, bool slow,
                        struct gg_admin_error *err)
{
    cJSON *r = gg_admin_call(c, method, path->p, body, len, ctype, slow, NULL, err);
    gg_buf_free(path);
    return r;
}

static cJSON *nomem(struct gg_buf *b, struct gg_admin_error *err)
{
    gg_buf_free(b);
    gg_admin_err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build request");
    return NULL;
}

cJSON *gg_admin_accounts_list(const struct gg_admin_client *c, const char *status,
                              const char *q, struct gg_admin_error *err)
{
    struct gg_buf p;
    bool first = true;
    gg_buf_init(&p, 4096);
    if (gg_buf_adds(&p, "/api/admin/accounts") < 0 || add_query(&p, &first, "status", status) < 0 ||
        add_query(&p, &first, "q", q) < 0)
        return nomem(&p, err);
    return call_path(c, "GET", &p, NULL, 0, NULL, false, err);
}

static cJSON *account_op(const struct gg_admin_client *c, const char *method, long long id,
                         const char *op, const cJSON *fields, bool slow, struct gg_admin_error *err)
{
    struct gg_buf p;
    char *body = NULL;
    gg_buf_init(&p, 256);
    if (gg_buf_printf(&p, "/api/admin/accounts/%lld%s%s", id, op ? "/" : "", op ? op : "") < 0)
        return nomem(&p, err);
    if (fields) {
        body = cJSON_PrintUnformatted(fields);
        if (!body)
            return nomem(&p, err);
    }
    cJSON *r = call_path(c, method, &p, body, body ? strlen(body) : 0, NULL, slow, err);
    cJSON_free(body);
    return r;
}

cJSON *gg_admin_account_get(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "GET", id, NULL, NULL, false, err);
}

cJSON *gg_admin_account_create(const struct gg_admin_client *c, const cJSON *fields,
                               struct gg_admin_error *err)
{
    char *body = cJSON_PrintUnformatted(fields);
    if (!body) {
        gg_admin_err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build request");
        return NULL;
    }
    cJSON *r = gg_admin_call(c, "POST", "/api/admin/accounts", body, strlen(body), NULL, false,
                             NULL, err);
    cJSON_free(body);
    return r;
}

cJSON *gg_admin_account_update(const struct gg_admin_client *c, long long id, const cJSON *fields,
                               struct gg_admin_error *err)
{
    return account_op(c, "PUT", id, NULL, fields, false, err);
}

cJSON *gg_admin_account_delete(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "DELETE", id, NULL, NULL, false, err);
}

cJSON *gg_admin_account_enable(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "POST", id, "enable", NULL, false, err);
}

cJSON *gg_admin_account_disable(const struct gg_admin_client *c, long long id, const char *reason,
                                struct gg_admin_error *err)
{
    cJSON *f = NULL;
    if (reason) {
        f = cJSON_CreateObject();
        if (!f || !cJSON_AddStringToObject(f, "reason", reason)) {
            cJSON_Delete(f);
            gg_admin_err_set(err, GG_ADMIN_E_NOMEM, 0, "", "cannot build request");
            return NULL;
        }
    }
    cJSON *r = account_op(c, "POST", id, "disable", f, false, err);
    cJSON_Delete(f);
    return r;
}

cJSON *gg_admin_account_reset(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "POST", id, "reset", NULL, false, err);
}

cJSON *gg_admin_account_test(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return account_op(c, "POST", id, "test", NULL, true, err);
}

cJSON *gg_admin_import(const struct gg_admin_client *c, const char *text, size_t len,
                       struct gg_admin_error *err)
{
    return gg_admin_call(c, "POST", "/api/admin/accounts/import", text ? text : "", text ? len : 0,
                         "text/plain; charset=utf-8", true, NULL, err);
}

cJSON *gg_admin_stats(const struct gg_admin_client *c, const char *window, struct gg_admin_error *err)
{
    struct gg_buf p;
    bool first = true;
    gg_buf_init(&p, 256);
    if (gg_buf_adds(&p, "/api/admin/stats") < 0 || add_query(&p, &first, "window", window) < 0)
        return nomem(&p, err);
    return call_path(c, "GET", &p, NULL, 0, NULL, false, err);
}

cJSON *gg_admin_logs(const struct gg_admin_client *c, const struct gg_admin_log_query *q,
                     struct gg_admin_error *err)
{
    struct gg_buf p;
    bool first = true;
    char num[32];
    gg_buf_init(&p, 4096);
    if (gg_buf_adds(&p, "/api/admin/logs") < 0)
        return nomem(&p, err);
    if (q) {
        if (q->limit > 0) {
            snprintf(num, sizeof(num), "%d", q->limit);
            if (add_query(&p, &first, "limit", num) < 0)
                return nomem(&p, err);
        }
        if (q->account_id >= 0) {
            snprintf(num, sizeof(num), "%lld", q->account_id);
            if (add_query(&p, &first, "account_id", num) < 0)
                return nomem(&p, err);
        }
        if (add_query(&p, &first, "model", q->model) < 0 ||
            add_query(&p, &first, "status", q->status) < 0 ||
            add_query(&p, &first, "since", q->since) < 0)
            return nomem(&p, err);
    }
    return call_path(c, "GET", &p, NULL, 0, NULL, false, err);
}

cJSON *gg_admin_overview(const struct gg_admin_client *c, struct gg_admin_error *err)
{
    return gg_admin_call(c, "GET", "/api/admin/overview", NULL, 0, NULL, false, NULL, err);
}

/* ---- client keys --------------------------------------------------------- */

static cJSON *key_op(const struct gg_admin_client *c, const char *method, long long id,
                     const char *suffix, const cJSON *fields, struct gg_admin_error *err)
{
    struct gg_buf p;
    char *body = NULL;
    gg_buf_init(&p, 256);
    if (id >= 0 ? gg_buf_printf(&p, "/api/admin/keys/%lld%s", id, suffix ? suffix : "") < 0
                : gg_buf_adds(&p, "/api/admin/keys") < 0)
        return nomem(&p, err);
    if (fields) {
        body = cJSON_PrintUnformatted(fields);
        if (!body)
            return nomem(&p, err);
    }
    cJSON *r = call_path(c, method, &p, body, body ? strlen(body) : 0, NULL, false, err);
    cJSON_free(body);
    return r;
}

cJSON *gg_admin_keys_list(const struct gg_admin_client *c, struct gg_admin_error *err)
{
    return key_op(c, "GET", -1, NULL, NULL, err);
}

cJSON *gg_admin_key_get(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return key_op(c, "GET", id, NULL, NULL, err);
}

cJSON *gg_admin_key_create(const struct gg_admin_client *c, const cJSON *fields,
                           struct gg_admin_error *err)
{
    return key_op(c, "POST", -1, NULL, fields, err);
}

cJSON *gg_admin_key_update(const struct gg_admin_client *c, long long id, const cJSON *fields,
                           struct gg_admin_error *err)
{
    return key_op(c, "PATCH", id, NULL, fields, err);
}

cJSON *gg_admin_key_delete(const struct gg_admin_client *c, long long id, struct gg_admin_error *err)
{
    return key_op(c, "DELETE", id, NULL, NULL, err);
}

cJSON *gg_admin_key_usage(const struct gg_admin_client *c, long long id, int days,
                          struct gg_admin_error *err)
{
    char q[32] = "/usage";
    if (days > 0)
        snprintf(q, sizeof(q), "/usage?days=%d", days);
    return key_op(c, "GET", id, q, NULL, err);
}
