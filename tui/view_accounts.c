/* view_accounts.c -- the accounts table (sortable, filterable, selection
 * kept by account id across refreshes), the detail pane, and the actions on
 * the selected account (enable, disable, reset, test, edit, delete). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "draw.h"
#include "form.h"
#include "gg_time.h"
#include "net.h"
#include "text.h"
#include "views.h"

#define DETAIL_ROWS 10

static enum role status_role(const char *s)
{
    if (strcmp(s, "active") == 0) return R_ST_ACTIVE;
    if (strcmp(s, "cooldown") == 0) return R_ST_COOLDOWN;
    if (strcmp(s, "expired") == 0) return R_ST_EXPIRED;
    if (strcmp(s, "disabled") == 0) return R_ST_DISABLED;
    return R_NORMAL;
}

static int list_height(struct app *a)
{
    int h = getmaxy(a->w_body) - 1; /* column titles */
    if (a->acc.details && h - DETAIL_ROWS >= 4)
        h -= DETAIL_ROWS;
    return h < 1 ? 1 : h;
}

static void detail_draw(struct app *a, int y0)
{
    WINDOW *w = a->w_body;
    const struct acct *s = acct_list_selected(&a->accts);
    char line[1200];
    int y = y0;
    draw_hline(w, y, a->cols, draw_attr(R_DIM));
    y++;
    if (!s) {
        draw_put(w, y, 0, a->cols, draw_attr(R_DIM), " no account selected");
        return;
    }
    snprintf(line, sizeof(line), " #%lld %s  [%s]  csesidx %s  config %s", s->id, s->name,
             s->source, s->csesidx, s->config_id);
    draw_put(w, y++, 0, a->cols, draw_attr(R_TITLE), line);
    snprintf(line, sizeof(line), " status %s%s%s   today %lld req / %lld err   total %lld / %lld",
             s->status, s->reason[0] ? ": " : "", s->reason, s->req, s->err, s->req_total,
             s->err_total);
    draw_put(w, y++, 0, a->cols, draw_attr(status_role(s->status)), line);
    char ago[32], at[48] = "";
    int64_t now = gg_now_ms();
    tx_ago(s->last_signin_ms, now, ago, sizeof(ago));
    if (s->last_signin_ms > 0) {
        time_t t = (time_t)(s->last_signin_ms / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(at, sizeof(at), " (%H:%M:%S)", &tm);
    }
    snprintf(line, sizeof(line), " last sign-in %s%s   cookie refreshes %lld",
             s->last_signin_ms > 0 ? ago : "never", at, s->refresh_count);
    draw_put(w, y++, 0, a->cols, draw_attr(R_NORMAL), line);
    char cool[600];
    int nk = acct_cooldowns_format(s, now, false, cool, sizeof(cool));
    snprintf(line, sizeof(line), " kind cooldowns: %s", cool);
    draw_put(w, y++, 0, a->cols, draw_attr(nk ? R_ST_COOLDOWN : R_DIM), line);
    snprintf(line, sizeof(line), " secure_c_ses %s   host_c_oses %s   proxy %s",
             s->secure[0] ? s->secure : "-", s->host[0] ? s->host : "-",
             s->proxy[0] ? s->proxy : "(global)");
    draw_put(w, y++, 0, a->cols, draw_attr(R_NORMAL), line);
    if (a->acc.test_id == s->id && a->acc.test_result[0])
        snprintf(line, sizeof(line), " note %s   %s", s->note[0] ? s->note : "-", a->acc.test_result);
    else
        snprintf(line, sizeof(line), " note %s", s->note[0] ? s->note : "-");
    draw_put(w, y++, 0, a->cols, draw_attr(R_NORMAL), line);
    const cJSON *le = cJSON_GetObjectItemCaseSensitive(s->j, "last_errors");
    int maxy = getmaxy(w);
    if (!cJSON_IsArray(le) || cJSON_GetArraySize(le) == 0) {
        draw_put(w, y, 0, a->cols, draw_attr(R_DIM), " last errors: none");
        return;
    }
    draw_put(w, y++, 0, a->cols, draw_attr(R_DIM), " last errors (newest first):");
    const cJSON *e;
    cJSON_ArrayForEach(e, le) {
        if (y >= maxy)
            break;
        char when[32];
        tx_ago(js_time(e, "at"), gg_now_ms(), when, sizeof(when));
        snprintf(line, sizeof(line), "   %-9s %-12s %s", when,
                 js_str(e, "kind") ? js_str(e, "kind") : "?",
                 js_str(e, "message") ? js_str(e, "message") : "");
        draw_put(w, y++, 0, a->cols, draw_attr(R_LOG_WARN), line);
    }
}

static void acc_draw(struct app *a)
{
    WINDOW *w = a->w_body;
    struct acct_list *l = &a->accts;
    char line[4096];
    int sx = 0, sw = 0;
    werase(w);
    acct_format_header(a->cols, l->sort, l->desc, line, sizeof(line), &sx, &sw);
    draw_put(w, 0, 0, a->cols, draw_attr(R_COLHDR), line);
    if (sw > 0 && sx < a->cols) {
        char t[256];
        int cw = sw > a->cols - sx ? a->cols - sx : sw;
        /* re-print the sort column title highlighted (htop style); the
         * titles are ASCII so byte and column offsets agree */
        size_t ll = strlen(line), cn = (size_t)cw < sizeof(t) - 1 ? (size_t)cw : sizeof(t) - 1;
        if ((size_t)sx > ll)
            sx = (int)ll;
        if (cn > ll - (size_t)sx)
            cn = ll - (size_t)sx;
        memcpy(t, line + sx, cn);
        t[cn] = 0;
        draw_put(w, 0, sx, cw, draw_attr(R_COLHDR_SORT), t);
    }
    int h = list_height(a);
    acct_list_scroll(l, (size_t)h);
    int64_t now = gg_now_ms();
    if (l->nvis == 0) {
        const char *msg = !l->loaded ? (a->conn == CONN_OK ? " loading..." : " not connected")
                          : l->filter[0] ? " no account matches the filter (Esc in the filter prompt clears it)"
                          : " no accounts yet: press 3 to import some";
        draw_put(w, 1, 0, a->cols, draw_attr(R_DIM), msg);
    }
    for (int r = 0; r < h && l->top + (size_t)r < l->nvis; r++) {
        size_t row = l->top + (size_t)r;
        const struct acct *ac = acct_list_row(l, row);
        int stx = 0, stw = 0;
        acct_format_row(ac, now, a->cols, line, sizeof(line), &stx, &stw);
        bool sel = row == l->sel;
        draw_put(w, 1 + r, 0, a->cols, draw_attr(sel ? R_SELECTED : R_NORMAL), line);
        if (!sel && stw > 0 && stx + stw <= a->cols) {
            char st[128];
            tx_fit(ac->status, stw, true, false, st, sizeof(st));
            draw_put(w, 1 + r, stx, stw, draw_attr(status_role(ac->status)), st);
        }
    }
    if (a->acc.details && getmaxy(w) - 1 - DETAIL_ROWS >= 4)
        detail_draw(a, 1 + h);
}

/* ---- completions of the requests this view sends (net.h) ---- */

static void account_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    char e[600];
    if (r->err.kind != GG_ADMIN_OK) {
        gg_admin_strerror(&r->err, a->cli.base_url, e, sizeof(e));
        app_msg(a, R_MSG_ERR, "%s failed: %s", rq->desc, e);
        return;
    }
    acct_list_upsert(&a->accts, r->json);
    app_msg(a, R_MSG_OK, "%s: done (now %s)", rq->desc,
            js_str(r->json, "status") ? js_str(r->json, "status") : "?");
    a->next_refresh = 0;
    a->dirty |= D_BODY;
}

static void delete_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    char e[600];
    if (r->err.kind != GG_ADMIN_OK) {
        gg_admin_strerror(&r->err, a->cli.base_url, e, sizeof(e));
        app_msg(a, R_MSG_ERR, "%s failed: %s", rq->desc, e);
        return;
    }
    acct_list_remove(&a->accts, rq->acct_id);
    app_msg(a, R_MSG_OK, "%s: deleted", rq->desc);
    a->next_refresh = 0;
    a->dirty |= D_BODY;
}

static void test_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    char e[600];
    a->acc.test_id = rq->acct_id;
    if (r->err.kind != GG_ADMIN_OK) {
        gg_admin_strerror(&r->err, a->cli.base_url, e, sizeof(e));
        snprintf(a->acc.test_result, sizeof(a->acc.test_result), "test failed: %.200s", e);
        app_msg(a, R_MSG_ERR, "%s: %s", rq->desc, a->acc.test_result);
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->json, "ok"))) {
        const char *ans = js_str(r->json, "answer");
        snprintf(a->acc.test_result, sizeof(a->acc.test_result),
                 "test ok: %lld ms (auth %lld ms), answer \"%.60s\"",
                 js_int(r->json, "latency_ms", 0), js_int(r->json, "auth_ms", 0), ans ? ans : "");
        app_msg(a, R_MSG_OK, "%s: %s", rq->desc, a->acc.test_result);
    } else {
        const cJSON *ej = cJSON_GetObjectItemCaseSensitive(r->json, "error");
        const char *em = cJSON_IsString(ej) ? ej->valuestring : js_str(ej, "message");
        snprintf(a->acc.test_result, sizeof(a->acc.test_result), "test FAILED: %.200s",
                 em ? em : "unknown error");
        app_msg(a, R_MSG_ERR, "%s: %s", rq->desc, a->acc.test_result);
    }
    a->next_refresh = 0;
    a->dirty |= D_BODY;
}

static const struct acct *need_sel(struct app *a)
{
    const struct acct *s = acct_list_selected(&a->accts);
    if (!s)
        app_msg(a, R_MSG_ERR, "no account selected");
    return s;
}

static void simple_op(struct app *a, const char *op, const char *verb)
{
    const struct acct *s = need_sel(a);
    char path[128], desc[128];
    if (!s)
        return;
    snprintf(path, sizeof(path), "/api/admin/accounts/%lld/%s", s->id, op);
    snprintf(desc, sizeof(desc), "%s #%lld %.60s", verb, s->id, s->name);
    bool test = strcmp(op, "test") == 0;
    if (net_submit(a, "POST", path, NULL, 0, NULL, test, test ? test_done : account_done, s->id,
                   desc) > 0)
        app_msg(a, R_MSG_INFO, "%s ...", desc);
}

/* PUT one or two string fields of the account being edited. */
static void put_fields(struct app *a, const char *k1, const char *v1, const char *k2,
                       const char *v2, const char *what)
{
    char path[96], desc[128];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    if (k1)
        cJSON_AddStringToObject(o, k1, v1);
    if (k2)
        cJSON_AddStringToObject(o, k2, v2);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!body)
        return;
    snprintf(path, sizeof(path), "/api/admin/accounts/%lld", a->acc.edit_id);
    snprintf(desc, sizeof(desc), "update %s of #%lld", what, a->acc.edit_id);
    if (net_submit(a, "PUT", path, body, strlen(body), NULL, false, account_done, a->acc.edit_id,
                   desc) > 0)
        app_msg(a, R_MSG_INFO, "%s ...", desc);
    memset(body, 0, strlen(body)); /* may hold cookies */
    cJSON_free(body);
}

static void done_name(struct app *a, bool ok, const char *v)
{
    if (ok)
        put_fields(a, "name", v, NULL, NULL, "name");
}

static void done_proxy(struct app *a, bool ok, const char *v)
{
    if (ok)
        put_fields(a, "proxy", v, NULL, NULL, "proxy");
}

static void done_note(struct app *a, bool ok, const char *v)
{
    if (ok)
        put_fields(a, "note", v, NULL, NULL, "note");
}

static void done_host(struct app *a, bool ok, const char *v)
{
    if (ok && (a->acc.edit_secure[0] || v[0]))
        put_fields(a, a->acc.edit_secure[0] ? "secure_c_ses" : NULL, a->acc.edit_secure,
                   v[0] ? "host_c_oses" : NULL, v, "cookies");
    else if (ok)
        app_msg(a, R_MSG_INFO, "cookies unchanged");
    memset(a->acc.edit_secure, 0, sizeof(a->acc.edit_secure));
}

static void done_secure(struct app *a, bool ok, const char *v)
{
    if (!ok)
        return;
    snprintf(a->acc.edit_secure, sizeof(a->acc.edit_secure), "%s", v);
    form_open(a, "host_c_oses (empty keeps): ", "", true, done_host, NULL);
}

static void edit_field(struct app *a, enum action act)
{
    const struct acct *s = need_sel(a);
    char prompt[160];
    if (!s)
        return;
    if (strcmp(s->source, "env") == 0) {
        app_msg(a, R_MSG_ERR, "#%lld comes from the environment and is read-only", s->id);
        return;
    }
    a->acc.edit_id = s->id;
    switch (act) {
    case ACT_EDIT_NAME:
        snprintf(prompt, sizeof(prompt), "name of #%lld: ", s->id);
        form_open(a, prompt, s->name, false, done_name, NULL);
        break;
    case ACT_EDIT_PROXY:
        snprintf(prompt, sizeof(prompt), "proxy of #%lld (empty = global): ", s->id);
        form_open(a, prompt, s->proxy, false, done_proxy, NULL);
        break;
    case ACT_EDIT_NOTE:
        snprintf(prompt, sizeof(prompt), "note of #%lld: ", s->id);
        form_open(a, prompt, s->note, false, done_note, NULL);
        break;
    case ACT_EDIT_COOKIES:
        memset(a->acc.edit_secure, 0, sizeof(a->acc.edit_secure));
        snprintf(prompt, sizeof(prompt), "secure_c_ses of #%lld (empty keeps): ", s->id);
        form_open(a, prompt, "", true, done_secure, NULL);
        break;
    default:
        break;
    }
}

static void done_edit_choice(struct app *a, bool ok, const char *v)
{
    if (!ok)
        return;
    switch (v[0]) {
    case 'n': edit_field(a, ACT_EDIT_NAME); break;
    case 'p': edit_field(a, ACT_EDIT_PROXY); break;
    case 'o': edit_field(a, ACT_EDIT_NOTE); break;
    case 'c': edit_field(a, ACT_EDIT_COOKIES); break;
    default: break;
    }
}

static void done_delete(struct app *a, bool ok, const char *v)
{
    (void)v;
    const struct acct *s = acct_list_find(&a->accts, a->acc.edit_id);
    char path[96], desc[128];
    if (!ok) {
        app_msg(a, R_MSG_INFO, "delete cancelled");
        return;
    }
    snprintf(path, sizeof(path), "/api/admin/accounts/%lld", a->acc.edit_id);
    snprintf(desc, sizeof(desc), "delete #%lld %.60s", a->acc.edit_id, s ? s->name : "");
    if (net_submit(a, "DELETE", path, NULL, 0, NULL, false, delete_done, a->acc.edit_id, desc) > 0)
        app_msg(a, R_MSG_INFO, "%s ...", desc);
}

static void filter_change(struct app *a, const char *v)
{
    acct_list_set_filter(&a->accts, v);
    a->dirty |= D_BODY | D_TABS;
}

static void filter_done(struct app *a, bool ok, const char *v)
{
    (void)v;
    if (!ok) /* Esc clears the filter */
        acct_list_set_filter(&a->accts, "");
    a->dirty |= D_BODY | D_TABS;
}

static bool acc_action(struct app *a, enum action act)
{
    struct acct_list *l = &a->accts;
    int h = list_height(a);
    const struct acct *s;
    char prompt[200];
    switch (act) {
    case ACT_UP: acct_list_move(l, -1); break;
    case ACT_DOWN: acct_list_move(l, 1); break;
    case ACT_PGUP: acct_list_move(l, -h); break;
    case ACT_PGDN: acct_list_move(l, h); break;
    case ACT_HOME: acct_list_select_row(l, 0); break;
    case ACT_END: acct_list_select_row(l, l->nvis ? l->nvis - 1 : 0); break;
    case ACT_SORT_NEXT: acct_list_set_sort(l, (enum acol)((l->sort + 1) % AC_NCOLS), l->desc); break;
    case ACT_SORT_PREV:
        acct_list_set_sort(l, (enum acol)((l->sort + AC_NCOLS - 1) % AC_NCOLS), l->desc);
        break;
    case ACT_SORT_INVERT: acct_list_set_sort(l, l->sort, !l->desc); break;
    case ACT_DETAILS: a->acc.details = !a->acc.details; break;
    case ACT_FILTER:
        form_open(a, "filter: ", l->filter, false, filter_done, filter_change);
        break;
    case ACT_ENABLE: simple_op(a, "enable", "enable"); break;
    case ACT_DISABLE: simple_op(a, "disable", "disable"); break;
    case ACT_RESET: simple_op(a, "reset", "reset cooldown of"); break;
    case ACT_TEST: simple_op(a, "test", "test"); break;
    case ACT_EDIT:
        if (!need_sel(a))
            break;
        form_choice(a, "edit: n)ame  p)roxy  n(o)te  c)ookies  (Esc cancels) ", "npoc",
                    done_edit_choice);
        break;
    case ACT_EDIT_NAME:
    case ACT_EDIT_PROXY:
    case ACT_EDIT_NOTE:
    case ACT_EDIT_COOKIES:
        edit_field(a, act);
        break;
    case ACT_DELETE:
        s = need_sel(a);
        if (!s)
            break;
        if (strcmp(s->source, "env") == 0) {
            app_msg(a, R_MSG_ERR, "#%lld comes from the environment and cannot be deleted", s->id);
            break;
        }
        a->acc.edit_id = s->id;
        snprintf(prompt, sizeof(prompt), "delete account #%lld %.80s?", s->id, s->name);
        form_confirm(a, prompt, done_delete);
        break;
    default:
        return false;
    }
    a->dirty |= D_BODY | D_TABS;
    return true;
}

static void acc_on_event(struct app *a, const char *event, const cJSON *data)
{
    if (strcmp(event, "account") != 0 || !cJSON_IsObject(data))
        return;
    acct_list_upsert(&a->accts, data);
    a->dirty |= D_BODY;
}

static void acc_tab_info(struct app *a, char *out, size_t n)
{
    snprintf(out, n, "sort: %s %s%s%s ", acol_names[a->accts.sort], a->accts.desc ? "desc" : "asc",
             a->accts.filter[0] ? "  filter: " : "", a->accts.filter);
}

const struct view_ops view_accounts = {
    .name = "Accounts",
    .tab = " 1 Accounts ",
    .draw = acc_draw,
    .action = acc_action,
    .on_event = acc_on_event,
    .tab_info = acc_tab_info,
};
