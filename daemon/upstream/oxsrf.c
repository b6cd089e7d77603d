/* oxsrf.c -- see up.h: getoxsrf and the JWT of each account.  One
 * getoxsrf per account at a time; the calls that need it wait on the
 * account (a->upstream_waiters) and continue or fail over together. */
#include "up.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "jwt.h"

static void oxsrf_finish(struct account *a, bool ok, enum outcome o, const char *detail);

static void oxsrf_start(struct account *a)
{
    struct creds cr;
    if (pool_creds(a, &cr) != 0) {
        oxsrf_finish(a, false, OUT_EXPIRED, "account has no credentials");
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/auth/getoxsrf?csesidx=%s", cfg.auth_url, cr.csesidx);
    struct xfer *x = up_xfer_new(X_OXSRF, url, cr.proxy);
    if (!x) {
        pool_creds_free(&cr);
        oxsrf_finish(a, false, OUT_NETWORK, "out of memory");
        return;
    }
    struct gg_buf ck;
    gg_buf_init(&ck, 32768);
    gg_buf_printf(&ck, "cookie: __Secure-C_SES=%s", cr.secure_c_ses);
    if (cr.host_c_oses && *cr.host_c_oses)
        gg_buf_printf(&ck, "; __Host-C_OSES=%s", cr.host_c_oses);
    if (ck.p)
        up_xfer_header(x, ck.p);
    else
        x->oom = true;
    gg_buf_free(&ck);
    up_xfer_header(x, "sec-fetch-site: same-site");
    up_xfer_header(x, "sec-fetch-mode: cors");
    up_xfer_header(x, "sec-fetch-dest: empty");
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)(cfg.up_connect_timeout + 30));
    pool_ref(a);
    x->acct = a;
    x->gen = cr.gen;
    snprintf(x->csesidx, sizeof(x->csesidx), "%s", cr.csesidx);
    a->upstream_oxsrf_busy = true;
    pool_creds_free(&cr);
    if (!up_xfer_start(x)) {
        x->acct = NULL;
        up_xfer_free(x);
        oxsrf_finish(a, false, OUT_NETWORK, "out of memory starting getoxsrf");
        pool_put(a);
    }
}

void up_step_jwt(struct call *c)
{
    c->step = S_JWT;
    struct account *a = c->acct;
    int64_t now = gg_now_ms();
    if (a->upstream_jwt[0] && a->upstream_jwt_gen == a->cred_gen &&
        a->upstream_jwt_exp_ms - now > JWT_REFRESH_MARGIN_MS) {
        up_step_session(c);
        return;
    }
    c->waiting_oxsrf = true;
    c->next_waiter = a->upstream_waiters;
    a->upstream_waiters = c;
    if (!a->upstream_oxsrf_busy)
        oxsrf_start(a);
}

static void oxsrf_finish(struct account *a, bool ok, enum outcome o, const char *detail)
{
    a->upstream_oxsrf_busy = false;
    struct call *w = a->upstream_waiters;
    a->upstream_waiters = NULL;
    /* reverse into arrival order */
    struct call *rev = NULL;
    while (w) {
        struct call *n = w->next_waiter;
        w->next_waiter = rev;
        rev = w;
        w = n;
    }
    bool reported = false;
    while (rev) {
        struct call *n = rev->next_waiter;
        rev->next_waiter = NULL;
        rev->waiting_oxsrf = false;
        if (rev->step == S_JWT && rev->acct == a) {
            if (ok) {
                up_step_session(rev);
            } else {
                if (reported && rev->acct) {
                    /* the account was already penalised once for this getoxsrf */
                    up_failover_ex(rev, o, detail, false);
                } else {
                    reported = true;
                    up_failover(rev, o, detail);
                }
            }
        }
        rev = n;
    }
    if (!ok && !reported)
        pool_report(a, o, detail);
}

void up_oxsrf_done(struct xfer *x, CURLcode res)
{
    struct account *a = x->acct;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char detail[200];
    if (res != CURLE_OK) {
        snprintf(detail, sizeof(detail), "getoxsrf: %s", curl_easy_strerror(res));
        oxsrf_finish(a, false, OUT_NETWORK, detail);
        goto out;
    }
    if (st == 302 || st == 301 || st == 303 || st == 307) {
        char *loc = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
        if (loc && strstr(loc, "refreshcookies"))
            oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf redirected to refreshcookies (cookies need refreshing)");
        else
            oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf redirected (cookies rejected)");
        goto out;
    }
    if (st != 200) {
        char gs[64], gm[160];
        google_error(&x->resp, gs, sizeof(gs), gm, sizeof(gm));
        snprintf(detail, sizeof(detail), "%ld %s%s%s", st, gs[0] ? gs : "", gm[0] ? ": " : "", gm);
        enum outcome o = google_outcome(G_OXSRF, st);
        if (st == 401)
            snprintf(detail, sizeof(detail), "getoxsrf 401 %s", gs[0] ? gs : "EXPIRED_SIGN_IN");
        else if (st == 403)
            snprintf(detail, sizeof(detail), "getoxsrf %s", gs[0] ? gs : "Access Restricted");
        else if (st == 429)
            snprintf(detail, sizeof(detail), "%s", gs[0] ? gs : "RESOURCE_EXHAUSTED");
        oxsrf_finish(a, false, o, detail);
        goto out;
    }
    const char *p = x->resp.p ? x->resp.p : "";
    if (strncmp(p, ")]}'", 4) == 0)
        p += 4;
    cJSON *j = cJSON_Parse(p);
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "xsrfToken");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(j, "keyId");
    if (!cJSON_IsString(tok) || !cJSON_IsString(kid) || !*tok->valuestring || !*kid->valuestring) {
        cJSON_Delete(j);
        oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf answer without xsrfToken/keyId (cookies expired)");
        goto out;
    }
    int64_t now_s = gg_now_ms() / 1000;
    int n = jwt_sign(tok->valuestring, kid->valuestring, x->csesidx, now_s, a->upstream_jwt, sizeof(a->upstream_jwt));
    cJSON_Delete(j);
    if (n < 0) {
        a->upstream_jwt[0] = '\0';
        oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf returned an unusable xsrfToken");
        goto out;
    }
    a->upstream_jwt_exp_ms = (now_s + JWT_TTL_S) * 1000;
    a->upstream_jwt_gen = x->gen;
    oxsrf_finish(a, true, OUT_OK, NULL);
out:
    if (x->acct) {
        x->acct = NULL;
        pool_put(a);
    }
}

