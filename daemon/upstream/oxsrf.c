/* oxsrf.c -- see up.h: getoxsrf, the signing key and the JWT of each
 * account.  One getoxsrf per account at a time; the calls that need it wait
 * on the account (a->upstream_waiters) and continue or fail together.
 *
 * The key (xsrfToken, keyId) is kept with its expiry (getoxsrf's
 * `expirationTime`, at most JWT_TTL_S after it arrived); every API call
 * signs a fresh JWT from it (up_api_headers), and a step about to call the
 * API while the key is near its end waits for a new one first
 * (up_key_or_wait).  A 302 to refreshcookies is followed with the
 * account's cookies (REFRESH_MAX_HOPS per sign-in); new Set-Cookie values
 * replace the account's cookies (pool_refresh_cookies persists them) and
 * getoxsrf is asked again.  Expiry watch probes (no call) go through the
 * same path (up_oxsrf_probe). */
#include "up.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "answer.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "jwt.h"

#define REFRESH_MAX_HOPS 2

static void oxsrf_finish(struct account *a, bool ok, enum outcome o, const char *detail);
static struct xfer *auth_head;           /* sign-ins in flight */

static void auth_unlink(struct xfer *x)
{
    if (x->auth_prev)
        x->auth_prev->auth_next = x->auth_next;
    else if (auth_head == x)
        auth_head = x->auth_next;
    if (x->auth_next)
        x->auth_next->auth_prev = x->auth_prev;
    x->auth_prev = x->auth_next = NULL;
}

void up_oxsrf_shutdown(void)
{
    while (auth_head) {
        struct xfer *x = auth_head;
        auth_unlink(x);
        struct account *a = x->acct;
        x->acct = NULL;
        up_xfer_free(x);
        if (a) {
            a->upstream_oxsrf_busy = false;
            pool_put(a);
        }
    }
}

static bool add_cookie_header(struct xfer *x, const struct creds *cr)
{
    struct gg_buf ck;
    gg_buf_init(&ck, 32768);
    gg_buf_printf(&ck, "cookie: __Secure-C_SES=%s", cr->secure_c_ses);
    if (cr->host_c_oses && *cr->host_c_oses)
        gg_buf_printf(&ck, "; __Host-C_OSES=%s", cr->host_c_oses);
    if (ck.p)
        up_xfer_header(x, ck.p);
    else
        x->oom = true;
    if (ck.p)
        explicit_bzero(ck.p, ck.len);
    gg_buf_free(&ck);
    return !x->oom;
}

/* Start a getoxsrf (X_OXSRF) or a refreshcookies hop (X_REFRESH, url). */
static void auth_start(struct account *a, int kind, const char *refresh_url)
{
    struct creds cr;
    if (pool_creds(a, &cr) != 0) {
        oxsrf_finish(a, false, OUT_EXPIRED, "account has no credentials");
        return;
    }
    char url[2048];
    if (kind == X_REFRESH)
        snprintf(url, sizeof(url), "%s", refresh_url);
    else
        snprintf(url, sizeof(url), "%s/auth/getoxsrf?csesidx=%s", cfg.auth_url, cr.csesidx);
    struct xfer *x = up_xfer_new(kind, url, cr.proxy);
    if (!x) {
        pool_creds_free(&cr);
        oxsrf_finish(a, false, OUT_NETWORK, "out of memory");
        return;
    }
    add_cookie_header(x, &cr);
    up_xfer_header(x, "sec-fetch-site: same-site");
    up_xfer_header(x, "sec-fetch-mode: cors");
    up_xfer_header(x, "sec-fetch-dest: empty");
    if (kind == X_REFRESH) {
        curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, up_header_cookies);
        curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    }
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
        return;
    }
    x->auth_next = auth_head;
    if (auth_head)
        auth_head->auth_prev = x;
    auth_head = x;
}

static void oxsrf_start(struct account *a)
{
    a->upstream_refresh_hops = 0;
    auth_start(a, X_OXSRF, NULL);
}

bool up_key_valid(const struct account *a)
{
    if (!a->upstream_key[0] || a->upstream_jwt_gen != a->cred_gen)
        return false;
    int64_t margin = a->upstream_key_life_ms / 4;
    if (margin > JWT_REFRESH_MARGIN_MS)
        margin = JWT_REFRESH_MARGIN_MS;
    return gg_now_ms() + margin < a->upstream_key_exp_ms;
}

void up_key_invalidate(struct account *a)
{
    a->upstream_key_exp_ms = 0;
    a->upstream_key[0] = '\0';
}

int up_sign_jwt(const struct account *a, char *out, size_t n)
{
    if (!a->upstream_key[0])
        return -1;
    return jwt_sign(a->upstream_key, a->upstream_kid, a->upstream_csesidx, gg_now_ms() / 1000, out, n);
}

static void resume(struct call *c)
{
    switch (c->key_resume) {
    case R_STREAM: up_step_stream(c); break;
    case R_UPLOAD: up_step_upload(c); break;
    case R_LIST: up_step_media(c); break;
    case R_DOWNLOAD: up_step_download(c); break;
    default: up_step_session(c); break;
    }
}

bool up_key_or_wait(struct call *c, int resume_at)
{
    struct account *a = c->acct;
    if (up_key_valid(a))
        return false;
    c->step = S_JWT;
    c->key_resume = resume_at;
    c->waiting_oxsrf = true;
    c->next_waiter = a->upstream_waiters;
    a->upstream_waiters = c;
    if (!a->upstream_oxsrf_busy)
        oxsrf_start(a);
    return true;
}

void up_step_jwt(struct call *c)
{
    if (!up_key_or_wait(c, R_SESSION))
        up_step_session(c);
}

void up_oxsrf_probe(struct account *a)
{
    if (a->upstream_oxsrf_busy)
        return;
    a->upstream_probe_ms = gg_now_ms();
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
                resume(rev);
            } else if (rev->key_resume == R_LIST || rev->key_resume == R_DOWNLOAD) {
                /* the answer is there; only its files are lost */
                up_media_signin_failed(rev, detail);
            } else if (reported && rev->acct) {
                /* the account was already penalised once for this getoxsrf */
                up_failover_ex(rev, o, detail, false);
            } else {
                reported = true;
                up_failover(rev, o, detail);
            }
        }
        rev = n;
    }
    if (!ok && !reported)
        pool_report(a, o, detail);
}

/* A refreshcookies hop ended: new cookies -> store them, getoxsrf again. */
static void refresh_done(struct xfer *x, CURLcode res)
{
    struct account *a = x->acct;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    if (res != CURLE_OK) {
        char d[160];
        snprintf(d, sizeof(d), "refreshcookies: %s", curl_easy_strerror(res));
        oxsrf_finish(a, false, OUT_NETWORK, d);
        return;
    }
    if ((st != 200 && (st < 300 || st > 399)) || (!x->set_ses && !x->set_oses)) {
        char d[160];
        snprintf(d, sizeof(d), "getoxsrf redirected to refreshcookies, which answered %ld without new cookies "
                 "(cookies expired)", st);
        oxsrf_finish(a, false, OUT_EXPIRED, d);
        return;
    }
    if (x->gen != a->cred_gen) {
        /* the cookies were replaced meanwhile (admin): start over with them */
        auth_start(a, X_OXSRF, NULL);
        return;
    }
    /* only values that changed are a refresh (a Set-Cookie may repeat the old one) */
    struct creds cr;
    bool same = false;
    if (pool_creds(a, &cr) == 0) {
        same = (!x->set_ses || strcmp(x->set_ses, cr.secure_c_ses) == 0) &&
               (!x->set_oses || (cr.host_c_oses && strcmp(x->set_oses, cr.host_c_oses) == 0));
        pool_creds_free(&cr);
    }
    if (!same && pool_refresh_cookies(a, x->set_ses, x->set_oses) != 0) {
        oxsrf_finish(a, false, OUT_NETWORK, "out of memory storing refreshed cookies");
        return;
    }
    auth_start(a, X_OXSRF, NULL);
}

static void key_done(struct xfer *x, CURLcode res)
{
    struct account *a = x->acct;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char detail[200];
    if (res != CURLE_OK) {
        snprintf(detail, sizeof(detail), "getoxsrf: %s", curl_easy_strerror(res));
        oxsrf_finish(a, false, OUT_NETWORK, detail);
        return;
    }
    if (st == 302 || st == 301 || st == 303 || st == 307) {
        char *loc = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
        /* the cookies only ever go to the auth host itself */
        size_t al = strlen(cfg.auth_url);
        bool same_host = loc && strncmp(loc, cfg.auth_url, al) == 0 && (loc[al] == '/' || loc[al] == '?');
        if (loc && strstr(loc, "refreshcookies") && a->upstream_refresh_hops < REFRESH_MAX_HOPS && same_host) {
            a->upstream_refresh_hops++;
            auth_start(a, X_REFRESH, loc);
        } else if (loc && strstr(loc, "refreshcookies")) {
            oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf still redirects to refreshcookies after a refresh "
                         "(cookies expired)");
        } else {
            oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf redirected (cookies rejected)");
        }
        return;
    }
    if (st != 200) {
        char gs[64], gm[160], rs[48];
        google_error(&x->resp, gs, sizeof(gs), gm, sizeof(gm), rs, sizeof(rs));
        snprintf(detail, sizeof(detail), "%ld %s%s%s", st, gs[0] ? gs : "", gm[0] ? ": " : "", gm);
        enum outcome o = google_outcome(G_OXSRF, st);
        if (st == 401)
            snprintf(detail, sizeof(detail), "getoxsrf 401 %s", gs[0] ? gs : "EXPIRED_SIGN_IN");
        else if (st == 403)
            snprintf(detail, sizeof(detail), "getoxsrf %s", gs[0] ? gs : "Access Restricted");
        else if (st == 429)
            snprintf(detail, sizeof(detail), "%s", gs[0] ? gs : "RESOURCE_EXHAUSTED");
        oxsrf_finish(a, false, o, detail);
        return;
    }
    const char *p = x->resp.p ? x->resp.p : "";
    if (strncmp(p, ")]}'", 4) == 0)
        p += 4;
    cJSON *j = cJSON_Parse(p);
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "xsrfToken");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(j, "keyId");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expirationTime");
    if (!cJSON_IsString(tok) || !cJSON_IsString(kid) || !*tok->valuestring || !*kid->valuestring ||
        strlen(tok->valuestring) >= sizeof(a->upstream_key) || strlen(kid->valuestring) >= sizeof(a->upstream_kid)) {
        cJSON_Delete(j);
        oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf answer without a usable xsrfToken/keyId (cookies expired)");
        return;
    }
    snprintf(a->upstream_key, sizeof(a->upstream_key), "%s", tok->valuestring);
    snprintf(a->upstream_kid, sizeof(a->upstream_kid), "%s", kid->valuestring);
    snprintf(a->upstream_csesidx, sizeof(a->upstream_csesidx), "%s", x->csesidx);
    /* the key's lifetime: its expirationTime as seen from here, never more
     * than a JWT lives; unreadable or already past (clock skew) = the JWT's */
    int64_t now = gg_now_ms(), life = (int64_t)JWT_TTL_S * 1000;
    int64_t at = cJSON_IsString(exp) ? gg_parse_time(exp->valuestring) : -1;
    if (at > now && at - now < life)
        life = at - now;
    cJSON_Delete(j);
    char probe[JWT_MAX];
    if (up_sign_jwt(a, probe, sizeof(probe)) < 0) {
        up_key_invalidate(a);
        oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf returned an unusable xsrfToken");
        return;
    }
    explicit_bzero(probe, sizeof(probe));
    a->upstream_key_life_ms = life;
    a->upstream_key_exp_ms = now + life;
    a->upstream_jwt_gen = x->gen;
    pool_signed_in(a);
    oxsrf_finish(a, true, OUT_OK, NULL);
}

void up_oxsrf_done(struct xfer *x, CURLcode res)
{
    struct account *a = x->acct;
    auth_unlink(x);
    if (x->kind == X_REFRESH)
        refresh_done(x, res);
    else
        key_done(x, res);
    if (x->acct) {
        x->acct = NULL;
        pool_put(a);
    }
}
