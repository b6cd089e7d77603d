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
 * same path (up_oxsrf_probe).
 *
 * Several loops: the account's sign-in state (upstream_key/kid/csesidx,
 * expiry, upstream_waiters, upstream_oxsrf_busy, upstream_probe_ms) is
 * guarded by auth_mu.  The loop that finds the key missing while no
 * sign-in runs sets upstream_oxsrf_busy and owns that sign-in (its
 * transfer lives on its multi handle); calls of any loop queue on
 * upstream_waiters.  When it ends, the owner resumes its own waiters
 * directly and posts CMD_AUTH (up_post_auth) to the loops of the others,
 * which resume them there; the owner alone reports a failure to the pool.
 * The hot path (key check, signing) does not lock: each loop keeps a small
 * cache of key snapshots tagged with key_epoch, a counter bumped whenever
 * any account's key changes; a stale or missing entry is refilled under
 * auth_mu. */
#include "up.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
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
static pthread_mutex_t auth_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t key_epoch = 1;   /* bumped (under auth_mu) on every key change */

static void auth_unlink(struct xfer *x)
{
    struct up_loop_auth *la = up_auth_here();
    if (x->auth_prev)
        x->auth_prev->auth_next = x->auth_next;
    else if (la->head == x)
        la->head = x->auth_next;
    if (x->auth_next)
        x->auth_next->auth_prev = x->auth_prev;
    x->auth_prev = x->auth_next = NULL;
}

void up_oxsrf_shutdown(void)
{
    struct up_loop_auth *la = up_auth_here();
    while (la->head) {
        struct xfer *x = la->head;
        auth_unlink(x);
        struct account *a = x->acct;
        x->acct = NULL;
        up_xfer_free(x);
        if (a) {
            pthread_mutex_lock(&auth_mu);
            a->upstream_oxsrf_busy = false;
            pthread_mutex_unlock(&auth_mu);
            pool_put(a);
        }
    }
}

/* This loop's snapshot of a's key (refilled under auth_mu when stale). */
static struct up_key_ent *key_get(const struct account *a)
{
    struct up_loop_auth *la = up_auth_here();
    uint64_t ep = atomic_load_explicit(&key_epoch, memory_order_acquire);
    struct up_key_ent *e = &la->cache[((uintptr_t)a / sizeof(void *)) % UP_KEYCACHE];
    if (e->a == a && e->id == a->id && e->epoch == ep)
        return e;
    pthread_mutex_lock(&auth_mu);
    e->a = a;
    e->id = a->id;
    e->epoch = atomic_load_explicit(&key_epoch, memory_order_relaxed);
    memcpy(e->key, a->upstream_key, sizeof(e->key));
    memcpy(e->kid, a->upstream_kid, sizeof(e->kid));
    memcpy(e->csesidx, a->upstream_csesidx, sizeof(e->csesidx));
    e->exp_ms = a->upstream_key_exp_ms;
    e->life_ms = a->upstream_key_life_ms;
    e->gen = a->upstream_jwt_gen;
    pthread_mutex_unlock(&auth_mu);
    explicit_bzero(e->jwt, sizeof(e->jwt));
    e->jwt_len = 0;
    return e;
}

static void key_changed_locked(void)
{
    atomic_fetch_add_explicit(&key_epoch, 1, memory_order_release);
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
    pool_creds_free(&cr);
    if (!up_xfer_start(x)) {
        x->acct = NULL;
        up_xfer_free(x);
        oxsrf_finish(a, false, OUT_NETWORK, "out of memory starting getoxsrf");
        pool_put(a);
        return;
    }
    struct up_loop_auth *la = up_auth_here();
    x->auth_next = la->head;
    if (la->head)
        la->head->auth_prev = x;
    la->head = x;
}

/* The caller set upstream_oxsrf_busy (under auth_mu): this loop owns the sign-in. */
static void oxsrf_start(struct account *a)
{
    a->upstream_refresh_hops = 0;
    auth_start(a, X_OXSRF, NULL);
}

static bool key_fresh(const char *key, uint64_t gen, int64_t life_ms, int64_t exp_ms, const struct account *a)
{
    if (!key[0] || gen != a->cred_gen)
        return false;
    int64_t margin = life_ms / 4;
    if (margin > JWT_REFRESH_MARGIN_MS)
        margin = JWT_REFRESH_MARGIN_MS;
    return gg_now_ms() + margin < exp_ms;
}

bool up_key_valid(const struct account *a)
{
    const struct up_key_ent *e = key_get(a);
    return key_fresh(e->key, e->gen, e->life_ms, e->exp_ms, a);
}

void up_key_invalidate(struct account *a)
{
    pthread_mutex_lock(&auth_mu);
    a->upstream_key_exp_ms = 0;
    a->upstream_key[0] = '\0';
    key_changed_locked();
    pthread_mutex_unlock(&auth_mu);
}

/* Signed now from the current key; within one second the claims are the
 * same, so the JWT of an earlier call in the same second is the very token
 * signing again would give (one HMAC per account per second per loop). */
int up_sign_jwt(const struct account *a, char *out, size_t n)
{
    struct up_key_ent *e = key_get(a);
    if (!e->key[0])
        return -1;
    int64_t now_s = gg_now_ms() / 1000;
    if (e->jwt_len > 0 && e->jwt_s == now_s && (size_t)e->jwt_len < n) {
        memcpy(out, e->jwt, (size_t)e->jwt_len + 1);
        return e->jwt_len;
    }
    int len = jwt_sign(e->key, e->kid, e->csesidx, now_s, out, n);
    if (len > 0 && (size_t)len < sizeof(e->jwt)) {
        memcpy(e->jwt, out, (size_t)len + 1);
        e->jwt_len = len;
        e->jwt_s = now_s;
    } else {
        e->jwt_len = 0;
    }
    return len;
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
    pthread_mutex_lock(&auth_mu);
    if (key_fresh(a->upstream_key, a->upstream_jwt_gen, a->upstream_key_life_ms, a->upstream_key_exp_ms, a)) {
        pthread_mutex_unlock(&auth_mu);         /* another loop just signed in */
        return false;
    }
    c->step = S_JWT;
    c->key_resume = resume_at;
    c->waiting_oxsrf = true;
    c->next_waiter = a->upstream_waiters;
    a->upstream_waiters = c;
    bool start = !a->upstream_oxsrf_busy;
    a->upstream_oxsrf_busy = true;
    pthread_mutex_unlock(&auth_mu);
    if (start)
        oxsrf_start(a);
    return true;
}

void up_oxsrf_unwait(struct call *c)
{
    pthread_mutex_lock(&auth_mu);
    if (c->waiting_oxsrf && c->acct) {
        struct call **pp = (struct call **)&c->acct->upstream_waiters;
        while (*pp) {
            if (*pp == c) {
                *pp = c->next_waiter;
                break;
            }
            pp = &(*pp)->next_waiter;
        }
    }
    c->waiting_oxsrf = false;
    c->next_waiter = NULL;
    pthread_mutex_unlock(&auth_mu);
}

void up_step_jwt(struct call *c)
{
    if (!up_key_or_wait(c, R_SESSION))
        up_step_session(c);
}

bool up_oxsrf_probe(struct account *a, int64_t now_ms, int64_t idle_ms)
{
    pthread_mutex_lock(&auth_mu);
    bool go = !a->upstream_oxsrf_busy && (!a->upstream_probe_ms || now_ms - a->upstream_probe_ms >= idle_ms);
    if (go) {
        a->upstream_oxsrf_busy = true;
        a->upstream_probe_ms = now_ms;
    }
    pthread_mutex_unlock(&auth_mu);
    if (go)
        oxsrf_start(a);
    return go;
}

/* CMD_AUTH on the waiting call's own loop: the sign-in of another loop ended. */
void up_oxsrf_resume(struct call *c, const struct up_auth_note *note)
{
    if (c->step != S_JWT || c->acct != note->a)
        return;                              /* cancelled or moved on meanwhile */
    if (note->ok)
        resume(c);
    else if (c->key_resume == R_LIST || c->key_resume == R_DOWNLOAD)
        up_media_signin_failed(c, note->detail);
    else
        up_failover_ex(c, (enum outcome)note->outcome, note->detail, false);   /* the owner reported it */
}

static void oxsrf_finish(struct account *a, bool ok, enum outcome o, const char *detail)
{
    struct up_auth_note note = {.a = a, .ok = ok, .outcome = (int)o};
    snprintf(note.detail, sizeof(note.detail), "%s", detail ? detail : "");
    pthread_mutex_lock(&auth_mu);
    a->upstream_oxsrf_busy = false;
    struct call *w = a->upstream_waiters;
    a->upstream_waiters = NULL;
    /* this loop's waiters reversed into arrival order; the others' loops are told */
    struct call *rev = NULL;
    while (w) {
        struct call *n = w->next_waiter;
        w->next_waiter = NULL;
        w->waiting_oxsrf = false;
        if (up_call_here(w)) {
            w->next_waiter = rev;
            rev = w;
        } else {
            pthread_mutex_lock(&w->mu);
            w->refs++;                       /* travels with the command */
            pthread_mutex_unlock(&w->mu);
            up_post_auth(w, &note);
        }
        w = n;
    }
    pthread_mutex_unlock(&auth_mu);
    bool reported = false;
    while (rev) {
        struct call *n = rev->next_waiter;
        rev->next_waiter = NULL;
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
    /* the key's lifetime: its expirationTime as seen from here, never more
     * than a JWT lives; unreadable or already past (clock skew) = the JWT's */
    int64_t now = gg_now_ms(), life = (int64_t)JWT_TTL_S * 1000;
    int64_t at = cJSON_IsString(exp) ? gg_parse_time(exp->valuestring) : -1;
    if (at > now && at - now < life)
        life = at - now;
    char probe[JWT_MAX];
    bool usable = jwt_sign(tok->valuestring, kid->valuestring, x->csesidx, now / 1000, probe, sizeof(probe)) >= 0;
    explicit_bzero(probe, sizeof(probe));
    pthread_mutex_lock(&auth_mu);
    if (usable) {
        snprintf(a->upstream_key, sizeof(a->upstream_key), "%s", tok->valuestring);
        snprintf(a->upstream_kid, sizeof(a->upstream_kid), "%s", kid->valuestring);
        snprintf(a->upstream_csesidx, sizeof(a->upstream_csesidx), "%s", x->csesidx);
        a->upstream_key_life_ms = life;
        a->upstream_key_exp_ms = now + life;
        a->upstream_jwt_gen = x->gen;
    } else {
        a->upstream_key_exp_ms = 0;
        a->upstream_key[0] = '\0';
    }
    key_changed_locked();
    pthread_mutex_unlock(&auth_mu);
    cJSON_Delete(j);
    if (!usable) {
        oxsrf_finish(a, false, OUT_EXPIRED, "getoxsrf returned an unusable xsrfToken");
        return;
    }
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
