/* pool_signin.c -- the sign-in facts of the pool's accounts (issue 18):
 * last successful getoxsrf, cookie refreshes (refreshcookies), cookies
 * restored at start, and the idle accounts the expiry watch probes.  See
 * pool.h for the contracts; the pool lock is taken through pool_kind.h's
 * private accessors. */
#include "pool_kind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_log.h"
#include "gg_time.h"

void pool_signed_in(struct account *a)
{
    pool_lock_();
    a->last_signin_ms = gg_now_ms();
    pool_unlock_();
}

/* Both cookies replaced (NULL = keep), the credential generation bumped. */
static int set_cookies(struct account *a, const char *ses, const char *oses, bool refresh)
{
    char *ns = ses ? strdup(ses) : NULL;
    char *no = oses ? strdup(oses) : NULL;
    if ((ses && !ns) || (oses && !no)) {
        free(ns);
        free(no);
        return -1;
    }
    int64_t now = gg_now_ms();
    pool_lock_();
    if (ns) {
        free(a->secure_c_ses);
        a->secure_c_ses = ns;
    }
    if (no) {
        free(a->host_c_oses);
        a->host_c_oses = no;
    }
    a->cred_gen++;
    if (refresh) {
        a->refresh_count++;
        a->updated_at = now;
        memmove(&a->last_errors[1], &a->last_errors[0], sizeof(a->last_errors[0]) * (ACCT_LAST_ERRORS - 1));
        a->last_errors[0].at = now;
        snprintf(a->last_errors[0].kind, sizeof(a->last_errors[0].kind), "refresh");
        snprintf(a->last_errors[0].msg, sizeof(a->last_errors[0].msg), "cookies refreshed");
        if (a->n_errors < ACCT_LAST_ERRORS)
            a->n_errors++;
    }
    pool_unlock_();
    return 0;
}

int pool_refresh_cookies(struct account *a, const char *ses, const char *oses)
{
    if (set_cookies(a, ses, oses, true) != 0)
        return -1;
    GG_INFO("account %lld (%s): cookies refreshed", (long long)a->id, a->name ? a->name : "");
    pool_lock_();
    char *cs = a->secure_c_ses ? strdup(a->secure_c_ses) : NULL;
    char *co = a->host_c_oses ? strdup(a->host_c_oses) : NULL;
    pool_unlock_();
    pool_ref(a);
    pool_notify_(a, cs, co);
    pool_put(a);
    if (cs) {
        explicit_bzero(cs, strlen(cs));
        free(cs);
    }
    if (co) {
        explicit_bzero(co, strlen(co));
        free(co);
    }
    return 0;
}

int pool_restore_cookies(struct account *a, const char *ses, const char *oses)
{
    return ses ? set_cookies(a, ses, oses, false) : -1;
}

size_t pool_idle_accounts(int64_t idle_ms, int64_t *out, size_t max)
{
    size_t n = 0, na;
    int64_t now = gg_now_ms();
    pool_lock_();
    struct account *const *all = pool_all_(&na);
    for (size_t i = 0; i < na && n < max; i++) {
        const struct account *a = all[i];
        int64_t last = a->last_used_at > a->last_signin_ms ? a->last_used_at : a->last_signin_ms;
        if (a->removed || !a->is_active || a->status == ST_DISABLED || a->status == ST_EXPIRED || a->inflight)
            continue;
        if (now - last >= idle_ms)
            out[n++] = a->id;
    }
    pool_unlock_();
    return n;
}

void pool_signin_metrics(struct gg_buf *b)
{
    size_t na;
    gg_buf_adds(b, "# HELP gemgate_account_last_signin_timestamp_seconds Last successful getoxsrf per account "
                   "(0 = none yet).\n# TYPE gemgate_account_last_signin_timestamp_seconds gauge\n");
    pool_lock_();
    struct account *const *all = pool_all_(&na);
    for (size_t i = 0; i < na; i++)
        gg_buf_printf(b, "gemgate_account_last_signin_timestamp_seconds{account=\"%lld\"} %lld\n",
                      (long long)all[i]->id, (long long)(all[i]->last_signin_ms / 1000));
    pool_unlock_();
    gg_buf_adds(b, "# HELP gemgate_account_cookie_refreshes_total Cookie refreshes (refreshcookies) per account.\n"
                   "# TYPE gemgate_account_cookie_refreshes_total counter\n");
    pool_lock_();
    all = pool_all_(&na);
    for (size_t i = 0; i < na; i++)
        gg_buf_printf(b, "gemgate_account_cookie_refreshes_total{account=\"%lld\"} %lld\n", (long long)all[i]->id,
                      (long long)all[i]->refresh_count);
    pool_unlock_();
}
