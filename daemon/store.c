/* store.c -- the store front: URL dispatch, secrets at rest, statistics
 * aggregation, shared SQL and helpers.  See store.h (API) and
 * store_internal.h (backend vtable).
 *
 * Every account write goes through wire_account(): a shallow copy of the
 * caller's struct whose secret fields are sealed with the secretbox and
 * whose status defaults to "active".  Every account read is opened again
 * with open_account() before the caller sees it, so backends never handle
 * plaintext secrets and callers never see ciphertext.
 *
 * Upsert semantics (import): on a (csesidx, config_id) match the row keeps
 * id, created_at, last_used_at, requests_total and errors_total; every other
 * column takes the new value.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_buf.h"
#include "gg_time.h"
#include "gg_util.h"
#include "secretbox.h"

struct store {
    const struct store_ops *ops;
    void *be;
    struct secretbox *box;
};

#define HOUR_MS 3600000LL
#define STATS_KEEP_MS (400LL * 24 * HOUR_MS)

const int64_t store_hist_bounds_ms[STORE_HIST_BUCKETS] = {
    10, 25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000,
    1500, 2000, 3000, 4000, 5000, 7500, 10000, 15000, 20000, 30000, 60000, INT64_MAX
};

static _Thread_local char last_error[512];

void store_set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
}

const char *store_last_error(void)
{
    return last_error;
}

/* ---- small shared helpers ---------------------------------------------- */

int64_t store_hist_percentile(const int64_t *hist, double pct)
{
    int64_t total = 0, rank, cum = 0;

    for (int i = 0; i < STORE_HIST_BUCKETS; i++)
        total += hist[i] > 0 ? hist[i] : 0;
    if (total == 0)
        return -1;
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    rank = (int64_t)((pct / 100.0) * (double)total + 0.999999);
    if (rank < 1)
        rank = 1;
    for (int i = 0; i < STORE_HIST_BUCKETS; i++) {
        cum += hist[i] > 0 ? hist[i] : 0;
        if (cum >= rank)
            return store_hist_bounds_ms[i];
    }
    return store_hist_bounds_ms[STORE_HIST_BUCKETS - 1];
}

static int hist_bucket(int64_t ms)
{
    int i = 0;

    while (i < STORE_HIST_BUCKETS - 1 && ms > store_hist_bounds_ms[i])
        i++;
    return i;
}

void store_mask_url(const char *url, char *out, size_t n)
{
    const char *scheme, *at, *colon, *pw;
    struct gg_buf b;

    if (n < 8)
        return;
    out[0] = '\0';
    if (!url)
        return;
    gg_buf_init(&b, 4096);
    scheme = strstr(url, "://");
    at = scheme ? strchr(scheme + 3, '@') : NULL;
    colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (colon) {
        gg_buf_add(&b, url, (size_t)(colon - url + 1));
        gg_buf_adds(&b, "***");
        gg_buf_adds(&b, at);
    } else {
        gg_buf_adds(&b, url);
    }
    /* password=... in a query string or key/value conninfo */
    pw = b.p ? strstr(b.p, "password=") : NULL;
    if (pw) {
        size_t off = (size_t)(pw - b.p) + 9, end = off;

        while (end < b.len && b.p[end] != '&' && b.p[end] != ' ')
            end++;
        memmove(b.p + off + 3, b.p + end, b.len - end + 1);
        memcpy(b.p + off, "***", 3);
    }
    snprintf(out, n, "%s", b.p ? b.p : "");
    gg_buf_free(&b);
}

static int add_hist_cols(struct gg_buf *b, const char *pre, const char *post)
{
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < STORE_HIST_BUCKETS; i++)
            if (gg_buf_printf(b, "%s%c%d%s", pre, p ? 't' : 'l', i, post) != 0)
                return -1;
    return 0;
}

static const char *const stat_cols[] = {
    "requests", "errors", "err_rate_limit", "err_auth", "err_upstream", "err_client",
    "prompt_tokens", "completion_tokens"
};
#define NSTATCOLS (sizeof(stat_cols) / sizeof(stat_cols[0]))

char *store_sql_stats_upsert(char ph)
{
    struct gg_buf b;
    int rc = -1;

    gg_buf_init(&b, 1 << 16);
    if (gg_buf_adds(&b, "INSERT INTO stats_hourly (hour, model, account_id") != 0)
        goto out;
    for (size_t i = 0; i < NSTATCOLS; i++)
        if (gg_buf_printf(&b, ", %s", stat_cols[i]) != 0)
            goto out;
    if (add_hist_cols(&b, ", ", "") != 0 || gg_buf_adds(&b, ") VALUES (") != 0)
        goto out;
    for (int i = 1; i <= STORE_STAT_NCOLS; i++)
        if (gg_buf_printf(&b, "%s%c%d", i > 1 ? ", " : "", ph, i) != 0)
            goto out;
    if (gg_buf_adds(&b, ") ON CONFLICT (hour, model, account_id) DO UPDATE SET ") != 0)
        goto out;
    for (size_t i = 0; i < NSTATCOLS; i++)
        if (gg_buf_printf(&b, "%s%s = stats_hourly.%s + excluded.%s", i ? ", " : "",
                          stat_cols[i], stat_cols[i], stat_cols[i]) != 0)
            goto out;
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < STORE_HIST_BUCKETS; i++)
            if (gg_buf_printf(&b, ", %c%d = stats_hourly.%c%d + excluded.%c%d",
                              p ? 't' : 'l', i, p ? 't' : 'l', i, p ? 't' : 'l', i) != 0)
                goto out;
    rc = 0;
out:
    if (rc != 0) {
        gg_buf_free(&b);
        return NULL;
    }
    return gg_buf_steal(&b, NULL);
}

char *store_sql_stats_query(char ph, const char *group_by)
{
    const char *sel, *grp;
    struct gg_buf b;
    int rc = -1;

    if (!group_by)
        return NULL;
    if (strcmp(group_by, "model") == 0) {
        sel = "model, 0";
        grp = "model";
    } else if (strcmp(group_by, "account") == 0) {
        sel = "NULL, account_id";
        grp = "account_id";
    } else if (strcmp(group_by, "model,account") == 0) {
        sel = "model, account_id";
        grp = "model, account_id";
    } else {
        return NULL;
    }
    gg_buf_init(&b, 1 << 16);
    if (gg_buf_printf(&b, "SELECT %s", sel) != 0)
        goto out;
    for (size_t i = 0; i < NSTATCOLS; i++)
        if (gg_buf_printf(&b, ", SUM(%s)", stat_cols[i]) != 0)
            goto out;
    if (add_hist_cols(&b, ", SUM(", ")") != 0)
        goto out;
    if (gg_buf_printf(&b, " FROM stats_hourly WHERE hour >= %c1 GROUP BY %s ORDER BY %s",
                      ph, grp, grp) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0) {
        gg_buf_free(&b);
        return NULL;
    }
    return gg_buf_steal(&b, NULL);
}

/* ---- open / close ------------------------------------------------------ */

struct store *store_open(const char *url, const char *data_dir, const char *secret_key,
                         const char *old_keys, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof(*s));
    char masked[256];

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!url || !*url || strncmp(url, "sqlite://", 9) == 0) {
        s->ops = &store_sqlite_ops;
    } else if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        s->ops = &store_pg_ops;
    } else {
        store_mask_url(url, masked, sizeof(masked));
        snprintf(err, errlen, "unsupported database url \"%s\" (want sqlite:///path, "
                 "postgres:// or postgresql://)", masked);
        goto fail;
    }
    s->box = secretbox_new(secret_key, old_keys, err, errlen);
    if (!s->box)
        goto fail;
    s->be = s->ops->open(url, data_dir, err, errlen);
    if (!s->be)
        goto fail;
    return s;
fail:
    secretbox_free(s->box);
    free(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    s->ops->close(s->be);
    secretbox_free(s->box);
    free(s);
}

const char *store_backend_name(const struct store *s)
{
    return s->ops->name;
}

int store_ping(struct store *s)
{
    return s->ops->ping(s->be);
}

int store_schema_version(struct store *s)
{
    return s->ops->schema_version(s->be);
}

/* ---- accounts ---------------------------------------------------------- */

void store_account_clear(struct store_account *a)
{
    if (!a)
        return;
    free(a->name);
    if (a->secure_c_ses) {
        memset(a->secure_c_ses, 0, strlen(a->secure_c_ses));
        free(a->secure_c_ses);
    }
    if (a->host_c_oses) {
        memset(a->host_c_oses, 0, strlen(a->host_c_oses));
        free(a->host_c_oses);
    }
    free(a->csesidx);
    free(a->config_id);
    free(a->status);
    free(a->reason);
    free(a->proxy);
    free(a->note);
    memset(a, 0, sizeof(*a));
}

void store_account_list_free(struct store_account *a, size_t n)
{
    if (!a)
        return;
    for (size_t i = 0; i < n; i++)
        store_account_clear(&a[i]);
    free(a);
}

/* The AEAD context of one secret field of an account: its unique key
 * (csesidx, config_id) -- the row id is not known before an insert -- and the
 * field name, length-prefixed so no two tuples give the same string.
 * malloc'd, NULL on allocation failure. */
static char *seal_ctx(const struct store_account *a, const char *field)
{
    const char *c = a->csesidx ? a->csesidx : "", *g = a->config_id ? a->config_id : "";
    size_t n = strlen(c) + strlen(g) + strlen(field) + 64;
    char *x = malloc(n);
    if (x)
        snprintf(x, n, "%zu:%s|%zu:%s|%s", strlen(c), c, strlen(g), g, field);
    return x;
}

static int seal_field(struct store *s, const struct store_account *a, const char *field,
                      const char *plain, char **out, char *err, size_t errlen)
{
    char *ctx = seal_ctx(a, field);
    int rc;
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        *out = NULL;
        return -1;
    }
    rc = secretbox_seal(s->box, plain, ctx, out, err, errlen);
    free(ctx);
    return rc;
}

static int open_field(struct store *s, const struct store_account *a, const char *field,
                      const char *stored, char **out, char *err, size_t errlen)
{
    char *ctx = seal_ctx(a, field);
    int rc;
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        *out = NULL;
        return -1;
    }
    rc = secretbox_open(s->box, stored, ctx, out, err, errlen);
    free(ctx);
    return rc;
}

static void unwire_account(struct store_account *w)
{
    free(w->secure_c_ses);
    free(w->host_c_oses);
    free(w->proxy);
    w->secure_c_ses = NULL;
    w->host_c_oses = NULL;
    w->proxy = NULL;
}

/* Make the stored form of a: shallow copy with sealed secrets (the cookies
 * and the proxy URL, which may hold user:pass; owned by the copy, release
 * with unwire_account) and a default status.  Returns STORE_OK or STORE_ERR
 * (missing field, sealing failed). */
static int wire_account(struct store *s, const struct store_account *a, struct store_account *w)
{
    char err[200];

    *w = *a;
    w->secure_c_ses = NULL;
    w->host_c_oses = NULL;
    w->proxy = NULL;
    if (!a->secure_c_ses || !a->csesidx || !a->config_id) {
        store_set_error("account needs secure_c_ses, csesidx and config_id");
        return STORE_ERR;
    }
    if (!w->status || !*w->status)
        w->status = (char *)"active";
    if (seal_field(s, a, "secure_c_ses", a->secure_c_ses, &w->secure_c_ses, err, sizeof(err)) != 0 ||
        seal_field(s, a, "host_c_oses", a->host_c_oses, &w->host_c_oses, err, sizeof(err)) != 0 ||
        seal_field(s, a, "proxy", a->proxy && *a->proxy ? a->proxy : NULL, &w->proxy, err, sizeof(err)) != 0) {
        unwire_account(w);
        store_set_error("cannot seal account secrets: %s", err);
        return STORE_ERR;
    }
    return STORE_OK;
}

/* Replace the stored secrets of a (owned) with plaintext.  On failure the
 * secrets are freed and STORE_ERR is returned. */
static int open_account(struct store *s, struct store_account *a)
{
    char *scs = NULL, *hcs = NULL, *px = NULL;
    char err[200];

    if (open_field(s, a, "secure_c_ses", a->secure_c_ses, &scs, err, sizeof(err)) != 0 ||
        open_field(s, a, "host_c_oses", a->host_c_oses, &hcs, err, sizeof(err)) != 0 ||
        open_field(s, a, "proxy", a->proxy, &px, err, sizeof(err)) != 0) {
        free(scs);
        free(hcs);
        store_set_error("account %lld: %s", (long long)a->id, err);
        return STORE_ERR;
    }
    free(a->secure_c_ses);
    free(a->host_c_oses);
    free(a->proxy);
    a->secure_c_ses = scs;
    a->host_c_oses = hcs;
    a->proxy = px;
    return STORE_OK;
}

int store_account_list(struct store *s, struct store_account **out, size_t *n)
{
    struct store_account *list = NULL;
    size_t cnt = 0;
    int rc;

    *out = NULL;
    *n = 0;
    rc = s->ops->account_list(s->be, &list, &cnt);
    if (rc != STORE_OK)
        return rc;
    for (size_t i = 0; i < cnt; i++) {
        if (open_account(s, &list[i]) != STORE_OK) {
            store_account_list_free(list, cnt);
            return STORE_ERR;
        }
    }
    *out = list;
    *n = cnt;
    return STORE_OK;
}

int store_account_get(struct store *s, int64_t id, struct store_account *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = s->ops->account_get(s->be, id, out);
    if (rc != STORE_OK)
        return rc;
    if (open_account(s, out) != STORE_OK) {
        store_account_clear(out);
        return STORE_ERR;
    }
    return STORE_OK;
}

int store_account_insert(struct store *s, struct store_account *a)
{
    struct store_account w;
    int64_t now = gg_now_ms();
    int rc;

    rc = wire_account(s, a, &w);
    if (rc != STORE_OK)
        return rc;
    w.created_at = a->created_at ? a->created_at : now;
    w.updated_at = now;
    rc = s->ops->account_insert(s->be, &w);
    if (rc == STORE_OK) {
        a->id = w.id;
        a->created_at = w.created_at;
        a->updated_at = w.updated_at;
    }
    unwire_account(&w);
    return rc;
}

int store_account_update(struct store *s, const struct store_account *a)
{
    struct store_account w;
    int rc;

    rc = wire_account(s, a, &w);
    if (rc != STORE_OK)
        return rc;
    w.updated_at = gg_now_ms();
    rc = s->ops->account_update(s->be, &w);
    unwire_account(&w);
    return rc;
}

int store_account_delete(struct store *s, int64_t id)
{
    return s->ops->account_delete(s->be, id);
}

int store_account_upsert(struct store *s, struct store_account *a, bool *created)
{
    int res = STORE_OK;
    bool cr = false;
    int rc = store_account_upsert_many(s, a, 1, &res, &cr);

    if (created)
        *created = cr;
    return rc != STORE_OK ? rc : res;
}

int store_account_upsert_many(struct store *s, struct store_account *a, size_t n,
                              int *results, bool *created)
{
    struct store_account *w = NULL;
    int64_t now = gg_now_ms();
    int rc = STORE_ERR;

    if (n == 0)
        return STORE_OK;
    w = calloc(n, sizeof(*w));
    if (!w) {
        store_set_error("out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        created[i] = false;
        results[i] = wire_account(s, &a[i], &w[i]);
        w[i].created_at = a[i].created_at ? a[i].created_at : now;
        w[i].updated_at = now;
    }
    rc = s->ops->account_upsert_many(s->be, w, n, results, created);
    for (size_t i = 0; i < n; i++) {
        if (rc == STORE_OK && results[i] == STORE_OK) {
            a[i].id = w[i].id;
            a[i].created_at = w[i].created_at;
            a[i].updated_at = w[i].updated_at;
        } else if (rc != STORE_OK) {
            results[i] = STORE_ERR;
            created[i] = false;
        }
        unwire_account(&w[i]);
    }
out:
    free(w);
    return rc;
}

int store_account_set_state(struct store *s, int64_t id, const char *status, const char *reason,
                            int64_t cooldown_until, int64_t fail_count)
{
    struct store_rec r;
    int res = STORE_OK, rc;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_STATE;
    r.u.state.account_id = id;
    r.u.state.status = (char *)(status ? status : "active");
    r.u.state.reason = (char *)reason;
    r.u.state.cooldown_until = cooldown_until;
    r.u.state.fail_count = fail_count;
    rc = store_apply(s, &r, 1, &res);
    return rc != STORE_OK ? rc : res;
}

int store_account_touch(struct store *s, int64_t id, int64_t last_used_at,
                        int64_t req_delta, int64_t err_delta)
{
    struct store_rec r;
    int res = STORE_OK, rc;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_TOUCH;
    r.u.touch.account_id = id;
    r.u.touch.last_used_at = last_used_at;
    r.u.touch.req_delta = req_delta;
    r.u.touch.err_delta = err_delta;
    rc = store_apply(s, &r, 1, &res);
    return rc != STORE_OK ? rc : res;
}

int store_reencrypt(struct store *s, int64_t *count)
{
    struct store_account *list = NULL;
    size_t n = 0;
    int rc;

    *count = 0;
    if (!secretbox_can_seal(s->box)) {
        store_set_error("no secret key configured: nothing to re-encrypt with");
        return STORE_ERR;
    }
    rc = s->ops->account_list(s->be, &list, &n);
    if (rc != STORE_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct store_account *a = &list[i];
        struct store_account plain = { 0 };
        char *scs = NULL, *hcs = NULL, *px = NULL;
        char err[200];
        int r;

        if (secretbox_is_current(s->box, a->secure_c_ses) &&
            secretbox_is_current(s->box, a->host_c_oses) &&
            secretbox_is_current(s->box, a->proxy))
            continue;
        plain.id = a->id;
        plain.csesidx = gg_strdup0(a->csesidx);
        plain.config_id = gg_strdup0(a->config_id);
        plain.secure_c_ses = gg_strdup0(a->secure_c_ses);
        plain.host_c_oses = gg_strdup0(a->host_c_oses);
        plain.proxy = gg_strdup0(a->proxy);
        rc = open_account(s, &plain);
        if (rc == STORE_OK &&
            (seal_field(s, &plain, "secure_c_ses", plain.secure_c_ses, &scs, err, sizeof(err)) != 0 ||
             seal_field(s, &plain, "host_c_oses", plain.host_c_oses, &hcs, err, sizeof(err)) != 0 ||
             seal_field(s, &plain, "proxy", plain.proxy && *plain.proxy ? plain.proxy : NULL, &px,
                        err, sizeof(err)) != 0)) {
            store_set_error("account %lld: cannot seal: %s", (long long)a->id, err);
            rc = STORE_ERR;
        }
        if (rc == STORE_OK) {
            r = s->ops->account_set_secrets(s->be, a->id, a->secure_c_ses, a->host_c_oses, a->proxy,
                                            scs, hcs, px);
            if (r == STORE_OK)
                (*count)++;
            else if (r != STORE_NOTFOUND)   /* changed meanwhile: already current */
                rc = r;
        }
        free(scs);
        free(hcs);
        free(px);
        store_account_clear(&plain);
        if (rc != STORE_OK)
            break;
    }
    store_account_list_free(list, n);
    return rc;
}

/* ---- sessions ---------------------------------------------------------- */

void store_session_clear(struct store_session *ss)
{
    if (!ss)
        return;
    free(ss->conv_key);
    free(ss->session_name);
    free(ss->model);
    memset(ss, 0, sizeof(*ss));
}

int store_session_put(struct store *s, const struct store_session *ss)
{
    struct store_rec r;
    int res = STORE_OK, rc;

    if (!ss->conv_key || !ss->session_name) {
        store_set_error("session needs conv_key and session_name");
        return STORE_ERR;
    }
    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_SESSION;
    r.u.session = *ss;
    rc = store_apply(s, &r, 1, &res);
    return rc != STORE_OK ? rc : res;
}

int store_session_get(struct store *s, const char *conv_key, struct store_session *out)
{
    memset(out, 0, sizeof(*out));
    return s->ops->session_get(s->be, conv_key, out);
}

int store_session_delete(struct store *s, const char *conv_key)
{
    struct store_rec r;
    int res = STORE_OK, rc;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_SESSION_DEL;
    r.u.session.conv_key = (char *)conv_key;
    rc = store_apply(s, &r, 1, &res);
    return rc != STORE_OK ? rc : res;
}

int store_session_purge(struct store *s, int64_t older_than)
{
    return s->ops->session_purge(s->be, older_than);
}

/* ---- request log and statistics ---------------------------------------- */

void store_rec_clear(struct store_rec *r)
{
    switch (r->kind) {
    case STORE_REC_TOUCH:
        break;
    case STORE_REC_STATE:
        free(r->u.state.status);
        free(r->u.state.reason);
        break;
    case STORE_REC_REQLOG:
        free(r->u.reqlog.request_id);
        free(r->u.reqlog.model);
        free(r->u.reqlog.error_kind);
        break;
    case STORE_REC_SESSION:
    case STORE_REC_SESSION_DEL:
        store_session_clear(&r->u.session);
        break;
    }
    memset(r, 0, sizeof(*r));
}

/* Classify a finished request into one of the error counters (index into
 * err_rate_limit..err_client), or -1 for success. */
static int error_class(const struct store_reqlog *r)
{
    const char *k = r->error_kind;

    if (k && *k) {
        if (strcmp(k, "rate_limit") == 0)
            return 0;
        if (strcmp(k, "auth") == 0)
            return 1;
        if (strcmp(k, "client_abort") == 0 || strcmp(k, "client") == 0)
            return 3;
        if (strcmp(k, "upstream") == 0 || strcmp(k, "truncated") == 0 ||
            strcmp(k, "timeout") == 0)
            return 2;
    } else if (r->status < 400) {
        return -1;
    }
    if (r->status == 429)
        return 0;
    if (r->status == 401 || r->status == 403)
        return 1;
    if (r->status >= 500 || r->status < 400)
        return 2;
    return 3;
}

static void delta_add(struct store_stat_delta *d, const struct store_reqlog *r)
{
    int cls = error_class(r);

    d->requests++;
    if (cls >= 0) {
        d->errors++;
        if (cls == 0)
            d->err_rate_limit++;
        else if (cls == 1)
            d->err_auth++;
        else if (cls == 2)
            d->err_upstream++;
        else
            d->err_client++;
    }
    d->prompt_tokens += r->prompt_tokens > 0 ? r->prompt_tokens : 0;
    d->completion_tokens += r->completion_tokens > 0 ? r->completion_tokens : 0;
    d->lat_hist[hist_bucket(r->latency_ms)]++;
    if (r->ttft_ms >= 0)
        d->ttft_hist[hist_bucket(r->ttft_ms)]++;
}

int store_apply(struct store *s, const struct store_rec *recs, size_t n, int *results)
{
    struct store_stat_delta *d = NULL;
    size_t nd = 0;
    int rc = STORE_ERR;

    for (size_t i = 0; i < n; i++)
        if (recs[i].kind == STORE_REC_REQLOG && !recs[i].u.reqlog.request_id) {
            store_set_error("request log row without request_id");
            return STORE_ERR;
        }
    if (n > 0) {
        d = calloc(n, sizeof(*d));
        if (!d) {
            store_set_error("out of memory");
            goto out;
        }
    }
    /* Group by (hour, model, account); batches are small, quadratic is fine
     * up to the 500-record batches storeq makes. */
    for (size_t i = 0; i < n; i++) {
        const struct store_reqlog *r;
        const char *model;
        int64_t hour;
        size_t j;

        if (recs[i].kind != STORE_REC_REQLOG)
            continue;
        r = &recs[i].u.reqlog;
        model = r->model ? r->model : "";
        hour = r->ts / HOUR_MS * HOUR_MS;
        for (j = 0; j < nd; j++)
            if (d[j].hour == hour && d[j].account_id == r->account_id &&
                strcmp(d[j].model, model) == 0)
                break;
        if (j == nd) {
            d[nd].hour = hour;
            d[nd].model = model;
            d[nd].account_id = r->account_id;
            nd++;
        }
        delta_add(&d[j], r);
    }
    rc = s->ops->apply(s->be, recs, n, d, nd, results);
out:
    free(d);
    return rc;
}

int store_reqlog_insert_batch(struct store *s, const struct store_reqlog *r, size_t n)
{
    struct store_rec *recs;
    int rc;

    if (n == 0)
        return STORE_OK;
    recs = calloc(n, sizeof(*recs));
    if (!recs) {
        store_set_error("out of memory");
        return STORE_ERR;
    }
    for (size_t i = 0; i < n; i++) {
        recs[i].kind = STORE_REC_REQLOG;
        recs[i].u.reqlog = r[i];
    }
    rc = store_apply(s, recs, n, NULL);
    free(recs);
    return rc;
}

int store_reqlog_query(struct store *s, const struct store_reqlog_filter *f,
                       struct store_reqlog **out, size_t *n)
{
    struct store_reqlog_filter def = { 0 };

    *out = NULL;
    *n = 0;
    return s->ops->reqlog_query(s->be, f ? f : &def, out, n);
}

int store_reqlog_purge(struct store *s, int64_t before, size_t batch, int64_t *deleted)
{
    int64_t dummy = 0;
    int rc;

    if (!deleted)
        deleted = &dummy;
    *deleted = 0;
    rc = s->ops->reqlog_purge(s->be, before, batch ? batch : 5000, deleted);
    if (rc != STORE_OK)
        return rc;
    /* the hourly table is never purged with the log, only after 400 days */
    return s->ops->stats_prune(s->be, (gg_now_ms() - STATS_KEEP_MS) / HOUR_MS * HOUR_MS);
}

void store_reqlog_list_free(struct store_reqlog *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++) {
        free(r[i].request_id);
        free(r[i].model);
        free(r[i].error_kind);
    }
    free(r);
}

int store_stats_query(struct store *s, int64_t since, const char *group_by,
                      struct store_stat_row **out, size_t *n)
{
    char *sql;
    int rc;

    *out = NULL;
    *n = 0;
    sql = store_sql_stats_query(s->ops == &store_pg_ops ? '$' : '?', group_by);
    if (!sql) {
        store_set_error("bad stats grouping \"%s\" (want model, account or model,account)",
                        group_by ? group_by : "(null)");
        return STORE_ERR;
    }
    rc = s->ops->stats_query(s->be, sql, since / HOUR_MS * HOUR_MS, out, n);
    free(sql);
    return rc;
}

void store_stats_free(struct store_stat_row *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        free(r[i].model);
    free(r);
}

/* ---- settings ---------------------------------------------------------- */

int store_kv_get(struct store *s, const char *key, char **value)
{
    *value = NULL;
    return s->ops->kv_get(s->be, key, value);
}

int store_kv_put(struct store *s, const char *key, const char *value)
{
    if (!key || !value) {
        store_set_error("settings need a key and a value");
        return STORE_ERR;
    }
    return s->ops->kv_put(s->be, key, value, gg_now_ms());
}
