/* store_accounts.c -- the store's account API and secrets at rest.  See
 * store.h (API) and store_internal.h (backend vtable).
 *
 * Every account write goes through wire_account(): a shallow copy of the
 * caller's struct whose secret fields (cookies, proxy URL) are sealed with
 * the secretbox, bound to the account's (csesidx, config_id) and the field
 * name, and whose status defaults to "active".  Every account read is opened
 * again with open_account() before the caller sees it, so backends never
 * handle plaintext secrets and callers never see ciphertext.
 *
 * Upsert semantics (import): on a (csesidx, config_id) match the row keeps
 * id, created_at, last_used_at, requests_total and errors_total; every other
 * column takes the new value.
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_time.h"
#include "gg_util.h"
#include "secretbox.h"

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
