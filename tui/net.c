/* net.c -- see net.h.
 *
 * Connection policy: while not connected only one probe (overview) is in
 * flight at a time, so a wrong key costs one attempt per retry period and
 * does not race into the server's lock-out.  Retry periods: network errors
 * 1 s doubling to 10 s; 401 every 30 s; 429 after Retry-After. */
#include <stdio.h>
#include <string.h>

#include "net.h"

#include "gg_time.h"
#include "text.h"

#define AUTH_RETRY_MS 30000
#define NET_BACKOFF_MIN 1000
#define NET_BACKOFF_MAX 10000

#define MAX_PENDING 64

/* a request in flight: what its callback needs (UI thread only) */
struct pending {
    struct net_req rq;        /* rq.id 0 = free slot */
    net_done_fn done;
};

static struct pending pend[MAX_PENDING];
static int64_t stream_hold_until; /* do not restart a stream that gave up */

static void submit_overview(struct app *a);
static void submit_accounts(struct app *a);

void net_start(struct app *a)
{
    a->net = gg_admin_async_new(&a->cli, 3);
    a->conn = CONN_CONNECTING;
    a->retry_at = 0;
    a->backoff_ms = NET_BACKOFF_MIN;
}

long net_submit(struct app *a, const char *method, const char *path, const char *body,
                size_t len, const char *ctype, bool slow, net_done_fn done, long long acct_id,
                const char *desc)
{
    struct pending *slot = NULL;
    for (int i = 0; i < MAX_PENDING; i++) {
        if (pend[i].rq.id == 0) {
            slot = &pend[i];
            break;
        }
    }
    if (!slot || !a->net) {
        app_msg(a, R_MSG_ERR, "too many requests in flight");
        return -1;
    }
    long id = gg_admin_async_submit(a->net, method, path, body, len, ctype, slow, 0);
    if (id < 0) {
        app_msg(a, R_MSG_ERR, "out of memory");
        return -1;
    }
    slot->rq.id = id;
    slot->rq.acct_id = acct_id;
    snprintf(slot->rq.desc, sizeof(slot->rq.desc), "%s", desc ? desc : "");
    slot->done = done;
    return id;
}

static struct pending take_pending(long id)
{
    struct pending p = { 0 };
    for (int i = 0; i < MAX_PENDING; i++) {
        if (pend[i].rq.id == id) {
            p = pend[i];
            memset(&pend[i], 0, sizeof(pend[i]));
            break;
        }
    }
    return p;
}

void net_refresh_now(struct app *a)
{
    int64_t now = gg_mono_ms();
    a->next_refresh = now;
    if (a->conn != CONN_OK && a->conn != CONN_LOCKED)
        a->retry_at = now;
}

void net_tick(struct app *a, int64_t now)
{
    if (!a->net)
        return;
    if (a->conn == CONN_OK) {
        if (now >= a->next_refresh) {
            if (!a->ov_inflight)
                submit_overview(a);
            if (!a->acc_inflight)
                submit_accounts(a);
            a->next_refresh = now + a->refresh_ms;
        }
        if (now >= stream_hold_until && !gg_admin_async_stream_running(a->net))
            gg_admin_async_stream_start(a->net);
    } else if (now >= a->retry_at && !a->ov_inflight) {
        submit_overview(a);
    }
}

int64_t net_next_due(struct app *a, int64_t now)
{
    int64_t due = a->conn == CONN_OK ? a->next_refresh : a->retry_at;
    if (due < now)
        due = now + 50;
    return due;
}

static bool is_conn_error(enum gg_admin_kind k)
{
    return k == GG_ADMIN_E_CONNECT || k == GG_ADMIN_E_AUTH || k == GG_ADMIN_E_LOCKED;
}

static void conn_fail(struct app *a, const struct gg_admin_error *err)
{
    int64_t now = gg_mono_ms();
    gg_admin_strerror(err, a->cli.base_url, a->conn_detail, sizeof(a->conn_detail));
    switch (err->kind) {
    case GG_ADMIN_E_AUTH:
        a->conn = CONN_AUTH;
        a->retry_at = now + AUTH_RETRY_MS;
        break;
    case GG_ADMIN_E_LOCKED:
        a->conn = CONN_LOCKED;
        a->retry_at = now + (err->retry_after_s > 0 ? err->retry_after_s : 60) * 1000;
        break;
    default:
        a->conn = CONN_DOWN;
        a->retry_at = now + a->backoff_ms;
        a->backoff_ms = a->backoff_ms * 2 > NET_BACKOFF_MAX ? NET_BACKOFF_MAX : a->backoff_ms * 2;
        break;
    }
    a->dirty |= D_STATUS | D_HEADER | D_BODY;
}

void net_status_text(struct app *a, int64_t now, char *out, size_t n, enum role *r)
{
    long secs = (long)((a->retry_at - now + 999) / 1000);
    if (secs < 0)
        secs = 0;
    *r = R_MSG_ERR;
    switch (a->conn) {
    case CONN_OK:
        out[0] = '\0';
        return;
    case CONN_CONNECTING:
        snprintf(out, n, "connecting to %s ...", a->cli.base_url);
        *r = R_MSG_INFO;
        return;
    case CONN_DOWN: {
        /* "cannot reach URL: why" -> "cannot reach URL — retrying in Ns (why)" */
        const char *why = strstr(a->conn_detail, ": ");
        char head[300];
        size_t hl = why ? (size_t)(why - a->conn_detail) : strlen(a->conn_detail);
        if (hl >= sizeof(head))
            hl = sizeof(head) - 1;
        memcpy(head, a->conn_detail, hl);
        head[hl] = '\0';
        if (a->ov_inflight && secs == 0)
            snprintf(out, n, "%s %s retrying now%s%s%s", head, tx_dash(), why ? " (" : "",
                     why ? why + 2 : "", why ? ")" : "");
        else
            snprintf(out, n, "%s %s retrying in %lds%s%s%s", head, tx_dash(), secs, why ? " (" : "",
                     why ? why + 2 : "", why ? ")" : "");
        return;
    }
    case CONN_AUTH:
        snprintf(out, n, "admin key rejected (401) %s %s; retrying in %lds", tx_dash(),
                 a->cli.key ? "check --key / GEMGATE_ADMIN_KEY" : "no key given (--key, GEMGATE_ADMIN_KEY or tui.conf)",
                 secs);
        return;
    case CONN_LOCKED:
        snprintf(out, n, "locked out, retry in %lds", secs);
        return;
    }
}

static void overview_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    const struct gg_admin_error *err = &r->err;
    (void)rq;
    a->ov_inflight = false;
    if (err->kind != GG_ADMIN_OK) {
        if (a->conn != CONN_OK || is_conn_error(err->kind)) {
            conn_fail(a, err);
        } else {
            char e[600];
            gg_admin_strerror(err, a->cli.base_url, e, sizeof(e));
            app_msg(a, R_MSG_ERR, "overview: %s", e);
        }
        return;
    }
    cJSON_Delete(a->overview);
    a->overview = r->json;
    r->json = NULL;
    if (a->conn != CONN_OK) {
        bool first = a->conn == CONN_CONNECTING;
        a->conn = CONN_OK;
        a->backoff_ms = NET_BACKOFF_MIN;
        a->next_refresh = 0; /* fetch the accounts now */
        if (!first)
            app_msg(a, R_MSG_OK, "connected to %s", a->cli.base_url);
    }
    a->dirty |= D_HEADER | D_STATUS;
}

static void accounts_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    const struct gg_admin_error *err = &r->err;
    (void)rq;
    a->acc_inflight = false;
    if (err->kind != GG_ADMIN_OK) {
        if (is_conn_error(err->kind)) {
            conn_fail(a, err);
        } else {
            char e[600];
            gg_admin_strerror(err, a->cli.base_url, e, sizeof(e));
            app_msg(a, R_MSG_ERR, "accounts: %s", e);
        }
        return;
    }
    cJSON *arr = cJSON_DetachItemFromObjectCaseSensitive(r->json, "accounts");
    if (acct_list_set(&a->accts, arr) < 0)
        app_msg(a, R_MSG_ERR, "accounts: unexpected reply");
    a->refreshed_at = gg_now_ms();
    a->dirty |= D_BODY | D_STATUS;
}

static void submit_overview(struct app *a)
{
    if (net_submit(a, "GET", "/api/admin/overview", NULL, 0, NULL, false, overview_done, -1,
                   NULL) > 0)
        a->ov_inflight = true;
}

static void submit_accounts(struct app *a)
{
    if (net_submit(a, "GET", "/api/admin/accounts", NULL, 0, NULL, false, accounts_done, -1,
                   NULL) > 0)
        a->acc_inflight = true;
}

void net_process(struct app *a)
{
    struct gg_admin_result *r;
    int budget = 500; /* keep the UI responsive under an event flood */
    while (budget-- > 0 && a->net && (r = gg_admin_async_take(a->net)) != NULL) {
        switch (r->type) {
        case GG_ADMIN_RES_REPLY: {
            struct pending p = take_pending(r->id);
            if (p.done)
                p.done(a, &p.rq, r);
            break;
        }
        case GG_ADMIN_RES_EVENT:
            app_broadcast(a, r->event, r->json);
            break;
        case GG_ADMIN_RES_STREAM_UP:
            a->stream_up = true;
            app_note(a, LOG_INFO, "--- connected to the live log stream");
            a->dirty |= D_TABS | D_STATUS;
            break;
        case GG_ADMIN_RES_STREAM_DOWN: {
            char e[600];
            if (r->err.kind == GG_ADMIN_OK)
                snprintf(e, sizeof(e), "%s", r->err.message);
            else
                gg_admin_strerror(&r->err, a->cli.base_url, e, sizeof(e));
            if (r->stopped)
                stream_hold_until = gg_mono_ms() + AUTH_RETRY_MS;
            if (a->stream_up || r->stopped)
                app_note(a, LOG_WARN, "--- live log stream lost: %s%s", e,
                          r->stopped ? "" : " (reconnecting)");
            a->stream_up = false;
            a->dirty |= D_TABS | D_STATUS;
            break;
        }
        }
        gg_admin_result_free(r);
    }
}
