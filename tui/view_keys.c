/* view_keys.c -- the client keys view: the keys with today's usage (list
 * reloaded every refresh period while the view is shown), a usage pane
 * (7 days, per day and model), and the actions on a key: create (name, then
 * limits; the secret is shown once in a dialog and wiped when it closes),
 * enable, disable, edit limits, delete (y/n).  State lives in a->kv. */
#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "form.h"
#include "gg_time.h"
#include "keyfmt.h"
#include "net.h"
#include "text.h"
#include "views.h"

#define USAGE_ROWS 10
#define USAGE_DAYS 7

static const cJSON *key_array(const struct app *a)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(a->kv.list, "keys");
    return cJSON_IsArray(k) ? k : NULL;
}

static size_t nkeys(const struct app *a)
{
    const cJSON *k = key_array(a);
    return k ? (size_t)cJSON_GetArraySize(k) : 0;
}

static const cJSON *selected(const struct app *a)
{
    const cJSON *k = key_array(a);
    return k && a->kv.sel < nkeys(a) ? cJSON_GetArrayItem(k, (int)a->kv.sel) : NULL;
}

static const cJSON *need_sel(struct app *a)
{
    const cJSON *k = selected(a);
    if (!k)
        app_msg(a, R_MSG_ERR, "no key selected");
    return k;
}

static void select_row(struct app *a, long long row)
{
    size_t n = nkeys(a);
    if (n == 0) {
        a->kv.sel = 0;
        return;
    }
    if (row < 0)
        row = 0;
    if ((size_t)row >= n)
        row = (long long)n - 1;
    a->kv.sel = (size_t)row;
    a->kv.sel_id = js_int(selected(a), "id", -1);
}

static int list_height(struct app *a)
{
    int h = getmaxy(a->w_body) - 1;
    if (a->kv.usage_on && h - USAGE_ROWS >= 3)
        h -= USAGE_ROWS;
    return h < 1 ? 1 : h;
}

/* ---- requests ---- */

static void load_usage(struct app *a, long long id);

static bool failed(struct app *a, const struct net_req *rq, const struct gg_admin_result *r)
{
    char e[700];
    if (r->err.kind == GG_ADMIN_OK)
        return false;
    gg_admin_strerror(&r->err, a->cli.base_url, e, sizeof(e));
    app_msg(a, R_MSG_ERR, "%s failed: %s", rq->desc, e);
    return true;
}

static void list_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    a->kv.loading = false;
    if (r->err.kind != GG_ADMIN_OK) {
        if (r->err.kind != GG_ADMIN_E_CONNECT && r->err.kind != GG_ADMIN_E_AUTH)
            failed(a, rq, r);
        return;
    }
    cJSON_Delete(a->kv.list);
    a->kv.list = r->json;
    r->json = NULL;
    /* keep the selection on the same key */
    const cJSON *k;
    size_t i = 0;
    bool found = false;
    cJSON_ArrayForEach(k, key_array(a)) {
        if (js_int(k, "id", -1) == a->kv.sel_id) {
            a->kv.sel = i;
            found = true;
            break;
        }
        i++;
    }
    if (!found)
        select_row(a, (long long)a->kv.sel);
    if (a->kv.usage_on && selected(a) && js_int(selected(a), "id", -1) != a->kv.usage_id)
        load_usage(a, js_int(selected(a), "id", -1));
    a->dirty |= D_BODY | D_TABS;
}

static void load(struct app *a)
{
    if (a->kv.loading)
        return;
    if (net_submit(a, "GET", "/api/admin/keys", NULL, 0, NULL, false, list_done, -1,
                   "list keys") > 0)
        a->kv.loading = true;
}

static void reload_soon(struct app *a)
{
    a->kv.next_load = 0;
    a->dirty |= D_BODY;
}

static void usage_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    a->kv.usage_loading = false;
    if (failed(a, rq, r))
        return;
    cJSON_Delete(a->kv.usage);
    a->kv.usage = r->json;
    a->kv.usage_id = rq->acct_id;
    r->json = NULL;
    a->dirty |= D_BODY;
    if (a->kv.usage_on && selected(a) && js_int(selected(a), "id", -1) != rq->acct_id)
        load_usage(a, js_int(selected(a), "id", -1)); /* the selection moved meanwhile */
}

static void load_usage(struct app *a, long long id)
{
    char path[96];
    if (a->kv.usage_loading || id < 0)
        return;
    snprintf(path, sizeof(path), "/api/admin/keys/%lld/usage?days=%d", id, USAGE_DAYS);
    if (net_submit(a, "GET", path, NULL, 0, NULL, false, usage_done, id, "key usage") > 0)
        a->kv.usage_loading = true;
}

static void update_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    if (failed(a, rq, r))
        return;
    app_msg(a, R_MSG_OK, "%s: done (now %s)", rq->desc, kf_state(r->json, gg_now_ms()));
    reload_soon(a);
}

static void delete_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    if (failed(a, rq, r))
        return;
    app_msg(a, R_MSG_OK, "%s: deleted", rq->desc);
    reload_soon(a);
}

static void create_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    if (failed(a, rq, r))
        return;
    cJSON *sj = cJSON_GetObjectItemCaseSensitive(r->json, "secret");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(r->json, "key");
    if (!cJSON_IsString(sj) || !cJSON_IsObject(key)) {
        app_msg(a, R_MSG_ERR, "%s: unexpected reply (no secret)", rq->desc);
        return;
    }
    snprintf(a->kv.secret, sizeof(a->kv.secret), "%s", sj->valuestring);
    memset(sj->valuestring, 0, strlen(sj->valuestring)); /* the reply is freed after us */
    tx_sanitize(js_str(key, "name"), a->kv.secret_name, sizeof(a->kv.secret_name));
    a->kv.sel_id = js_int(key, "id", -1);
    app_msg(a, R_MSG_OK, "%s: created #%lld", rq->desc, a->kv.sel_id);
    reload_soon(a);
    a->dirty |= D_ALL;
}

/* PATCH /keys/{id} with body (consumed) */
static void patch(struct app *a, long long id, cJSON *body, const char *desc)
{
    char path[96];
    char *s = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!s) {
        app_msg(a, R_MSG_ERR, "out of memory");
        return;
    }
    snprintf(path, sizeof(path), "/api/admin/keys/%lld", id);
    if (net_submit(a, "PATCH", path, s, strlen(s), NULL, false, update_done, id, desc) > 0)
        app_msg(a, R_MSG_INFO, "%s ...", desc);
    cJSON_free(s);
}

static void set_enabled(struct app *a, bool on)
{
    const cJSON *k = need_sel(a);
    char desc[128];
    if (!k)
        return;
    cJSON *b = cJSON_CreateObject();
    if (b && !cJSON_AddBoolToObject(b, "enabled", on)) {
        cJSON_Delete(b);
        b = NULL;
    }
    snprintf(desc, sizeof(desc), "%s key #%lld %.60s", on ? "enable" : "disable",
             js_int(k, "id", -1), js_str(k, "name") ? js_str(k, "name") : "");
    patch(a, js_int(k, "id", -1), b, desc);
}

/* limits object from the prompt text; NULL (message shown) when invalid */
static cJSON *limits_from(struct app *a, const char *text)
{
    char why[200];
    cJSON *l = cJSON_CreateObject();
    if (!l) {
        app_msg(a, R_MSG_ERR, "out of memory");
        return NULL;
    }
    int rc = kf_parse_limits(text, l, why, sizeof(why));
    if (rc < 0) {
        app_msg(a, R_MSG_ERR, "%s", rc == -2 ? "out of memory" : why);
        cJSON_Delete(l);
        return NULL;
    }
    return l;
}

/* "rpm=60 tpm=0 day=0 month=0 concurrent=4 models=a,b group=x" */
static void limits_text(const cJSON *key, char *out, size_t n)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(key, "limits");
    char models[520], group[80];
    tx_sanitize(js_str(l, "models"), models, sizeof(models));
    tx_sanitize(js_str(l, "group"), group, sizeof(group));
    snprintf(out, n, "rpm=%lld tpm=%lld day=%lld month=%lld concurrent=%lld models=%s group=%s",
             js_int(l, "rpm", 0), js_int(l, "tpm", 0), js_int(l, "tokens_day", 0),
             js_int(l, "tokens_month", 0), js_int(l, "max_concurrent", 0), models, group);
}

static void done_limits(struct app *a, bool ok, const char *v)
{
    char desc[128];
    if (!ok)
        return;
    cJSON *l = limits_from(a, v);
    if (!l)
        return;
    cJSON *b = cJSON_CreateObject();
    if (!b || !cJSON_AddItemToObject(b, "limits", l)) {
        cJSON_Delete(l);
        cJSON_Delete(b);
        app_msg(a, R_MSG_ERR, "out of memory");
        return;
    }
    snprintf(desc, sizeof(desc), "limits of key #%lld", a->kv.edit_id);
    patch(a, a->kv.edit_id, b, desc);
}

static void done_new_limits(struct app *a, bool ok, const char *v)
{
    char desc[200];
    if (!ok) {
        app_msg(a, R_MSG_INFO, "new key cancelled");
        return;
    }
    cJSON *l = limits_from(a, v);
    if (!l)
        return;
    cJSON *b = cJSON_CreateObject();
    if (!b || !cJSON_AddStringToObject(b, "name", a->kv.new_name) ||
        !cJSON_AddItemToObject(b, "limits", l)) {
        cJSON_Delete(b);
        if (!b)
            cJSON_Delete(l);
        app_msg(a, R_MSG_ERR, "out of memory");
        return;
    }
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    if (!s) {
        app_msg(a, R_MSG_ERR, "out of memory");
        return;
    }
    snprintf(desc, sizeof(desc), "new key %.100s", a->kv.new_name);
    if (net_submit(a, "POST", "/api/admin/keys", s, strlen(s), NULL, false, create_done, -1,
                   desc) > 0)
        app_msg(a, R_MSG_INFO, "%s ...", desc);
    cJSON_free(s);
}

static void done_new_name(struct app *a, bool ok, const char *v)
{
    if (!ok || !*v) {
        app_msg(a, R_MSG_INFO, "new key cancelled");
        return;
    }
    snprintf(a->kv.new_name, sizeof(a->kv.new_name), "%s", v);
    form_open(a, "limits (0 = unlimited): ",
              "rpm=0 tpm=0 day=0 month=0 concurrent=0 models= group=", false, done_new_limits,
              NULL);
}

static void done_delete(struct app *a, bool ok, const char *v)
{
    (void)v;
    char path[96], desc[128];
    if (!ok) {
        app_msg(a, R_MSG_INFO, "delete cancelled");
        return;
    }
    snprintf(path, sizeof(path), "/api/admin/keys/%lld", a->kv.edit_id);
    snprintf(desc, sizeof(desc), "delete key #%lld", a->kv.edit_id);
    if (net_submit(a, "DELETE", path, NULL, 0, NULL, false, delete_done, a->kv.edit_id, desc) > 0)
        app_msg(a, R_MSG_INFO, "%s ...", desc);
}

/* ---- drawing ---- */

static void usage_draw(struct app *a, int y0)
{
    WINDOW *w = a->w_body;
    const cJSON *k = selected(a);
    char line[1024], name[200], model[200];
    int y = y0, maxy = getmaxy(w);
    draw_hline(w, y++, a->cols, draw_attr(R_DIM));
    if (!k) {
        draw_put(w, y, 0, a->cols, draw_attr(R_DIM), " no key selected");
        return;
    }
    long long id = js_int(k, "id", -1);
    tx_sanitize(js_str(k, "name"), name, sizeof(name));
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(k, "usage");
    snprintf(line, sizeof(line),
             " usage of #%lld %s, last %d days   now: %lld req / %lld tok this minute, %lld in flight",
             id, name, USAGE_DAYS, js_int(u, "minute_requests", 0), js_int(u, "minute_tokens", 0),
             js_int(u, "inflight", 0));
    draw_put(w, y++, 0, a->cols, draw_attr(R_TITLE), line);
    if (a->kv.usage_id != id || !a->kv.usage) {
        draw_put(w, y, 0, a->cols, draw_attr(R_DIM), " loading...");
        return;
    }
    snprintf(line, sizeof(line), " %-10s %-28s %8s %6s %10s %10s", "DAY", "MODEL", "REQ", "ERR",
             "TOK IN", "TOK OUT");
    draw_put(w, y++, 0, a->cols, draw_attr(R_COLHDR), line);
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(a->kv.usage, "days"), *d;
    if (cJSON_GetArraySize(rows) == 0)
        draw_put(w, y, 0, a->cols, draw_attr(R_DIM), " no requests in these days");
    cJSON_ArrayForEach(d, rows) {
        if (y >= maxy)
            break;
        const char *m = js_str(d, "model");
        tx_fit(m && *m ? m : "-", 28, true, false, model, sizeof(model));
        char day[32];
        tx_sanitize(js_str(d, "day"), day, sizeof(day));
        snprintf(line, sizeof(line), " %-10s %s %8lld %6lld %10lld %10lld", day, model,
                 js_int(d, "requests", 0), js_int(d, "errors", 0), js_int(d, "tokens_in", 0),
                 js_int(d, "tokens_out", 0));
        draw_put(w, y++, 0, a->cols, draw_attr(js_int(d, "errors", 0) ? R_LOG_WARN : R_NORMAL),
                 line);
    }
}

/* the one-time secret, boxed in the middle of the body */
static void secret_draw(struct app *a)
{
    WINDOW *w = a->w_body;
    char line[400];
    int bw = a->cols - 4 < 76 ? a->cols - 4 : 76, x = (a->cols - bw) / 2;
    int y = (list_height(a) - 8) / 2 + 1; /* inside the list area when it has room */
    if (y + 8 > getmaxy(w))
        y = getmaxy(w) - 8;
    if (y < 0)
        y = 0;
    int fr = draw_attr(R_TITLE), txt = draw_attr(R_SELECTED);
    snprintf(line, sizeof(line), " New key \"%.60s\" created", a->kv.secret_name);
    draw_put(w, y++, x, bw, fr, line);
    draw_put(w, y++, x, bw, txt, "");
    snprintf(line, sizeof(line), "   secret: %s", a->kv.secret);
    draw_put(w, y++, x, bw, txt, line);
    draw_put(w, y++, x, bw, txt, "");
    draw_put(w, y++, x, bw, txt, "   Copy it now: you will not see it again.");
    draw_put(w, y++, x, bw, txt, "   gemgate keeps only a hash and the prefix.");
    draw_put(w, y++, x, bw, txt, "");
    draw_put(w, y, x, bw, fr, " Enter / Esc: close");
}

static void keys_draw(struct app *a)
{
    WINDOW *w = a->w_body;
    char line[4096];
    int64_t mono = gg_mono_ms(), now = gg_now_ms();
    if (a->conn == CONN_OK && mono >= a->kv.next_load) {
        a->kv.next_load = mono + a->refresh_ms;
        load(a);
        if (a->kv.usage_on && selected(a))
            load_usage(a, js_int(selected(a), "id", -1));
    }
    werase(w);
    kf_header(a->cols, line, sizeof(line));
    draw_put(w, 0, 0, a->cols, draw_attr(R_COLHDR), line);
    int h = list_height(a);
    size_t n = nkeys(a);
    if (a->kv.sel < a->kv.top)
        a->kv.top = a->kv.sel;
    if (a->kv.sel >= a->kv.top + (size_t)h)
        a->kv.top = a->kv.sel - (size_t)h + 1;
    if (n == 0)
        draw_put(w, 1, 0, a->cols, draw_attr(R_DIM),
                 !a->kv.list ? (a->conn == CONN_OK ? " loading..." : " not connected")
                             : " no client keys yet: press n (F4) to create one");
    for (int r = 0; r < h && a->kv.top + (size_t)r < n; r++) {
        size_t row = a->kv.top + (size_t)r;
        const cJSON *k = cJSON_GetArrayItem(key_array(a), (int)row);
        kf_row(k, now, a->cols, line, sizeof(line));
        const char *st = kf_state(k, now);
        enum role ro = row == a->kv.sel ? R_SELECTED
                       : strcmp(st, "enabled") == 0 ? R_NORMAL
                       : strcmp(st, "expired") == 0 ? R_ST_EXPIRED : R_ST_DISABLED;
        draw_put(w, 1 + r, 0, a->cols, draw_attr(ro), line);
    }
    if (a->kv.usage_on && getmaxy(w) - 1 - USAGE_ROWS >= 3)
        usage_draw(a, 1 + h);
    if (a->kv.secret[0])
        secret_draw(a);
}

/* ---- input ---- */

static bool keys_text_key(struct app *a, int key, bool is_code)
{
    if (!a->kv.secret[0])
        return false;
    /* the secret dialog is modal: Enter or Esc closes it, the rest is ignored */
    if (key == '\r' || key == '\n' || key == 27 || (is_code && key == KEY_ENTER)) {
        memset(a->kv.secret, 0, sizeof(a->kv.secret));
        app_msg(a, R_MSG_INFO, "secret dialog closed; the secret is not shown again");
        a->dirty |= D_ALL;
        a->force_full = true;
    }
    return true;
}

static bool keys_action(struct app *a, enum action act)
{
    int h = list_height(a);
    const cJSON *k;
    char prompt[200], text[800];
    switch (act) {
    case ACT_UP: select_row(a, (long long)a->kv.sel - 1); break;
    case ACT_DOWN: select_row(a, (long long)a->kv.sel + 1); break;
    case ACT_PGUP: select_row(a, (long long)a->kv.sel - h); break;
    case ACT_PGDN: select_row(a, (long long)a->kv.sel + h); break;
    case ACT_HOME: select_row(a, 0); break;
    case ACT_END: select_row(a, (long long)nkeys(a) - 1); break;
    case ACT_REFRESH: reload_soon(a); return false; /* and the global refresh */
    case ACT_ENABLE: set_enabled(a, true); break;
    case ACT_DISABLE: set_enabled(a, false); break;
    case ACT_DETAILS:
        a->kv.usage_on = !a->kv.usage_on;
        if (a->kv.usage_on && selected(a))
            load_usage(a, js_int(selected(a), "id", -1));
        break;
    case ACT_KEY_NEW:
        form_open(a, "name of the new key: ", "", false, done_new_name, NULL);
        break;
    case ACT_KEY_LIMITS:
        k = need_sel(a);
        if (!k)
            break;
        a->kv.edit_id = js_int(k, "id", -1);
        limits_text(k, text, sizeof(text));
        snprintf(prompt, sizeof(prompt), "limits of #%lld: ", a->kv.edit_id);
        form_open(a, prompt, text, false, done_limits, NULL);
        break;
    case ACT_DELETE:
        k = need_sel(a);
        if (!k)
            break;
        a->kv.edit_id = js_int(k, "id", -1);
        tx_sanitize(js_str(k, "name"), text, sizeof(text));
        snprintf(prompt, sizeof(prompt), "delete key #%lld %.80s? clients using it get 401",
                 a->kv.edit_id, text);
        form_confirm(a, prompt, done_delete);
        break;
    default:
        return false;
    }
    if (a->kv.usage_on && (act == ACT_UP || act == ACT_DOWN || act == ACT_PGUP ||
                           act == ACT_PGDN || act == ACT_HOME || act == ACT_END) && selected(a))
        load_usage(a, js_int(selected(a), "id", -1));
    a->dirty |= D_BODY | D_TABS;
    return true;
}

static void keys_open(struct app *a)
{
    a->kv.next_load = 0;
}

static void keys_close(struct app *a)
{
    /* leaving the view closes the secret dialog too: it is never shown twice */
    memset(a->kv.secret, 0, sizeof(a->kv.secret));
}

static void keys_tab_info(struct app *a, char *out, size_t n)
{
    snprintf(out, n, "%zu keys%s ", nkeys(a), a->kv.usage_on ? "  usage: 7 days" : "");
}

const struct view_ops view_keys = {
    .name = "Keys",
    .tab = " 4 Keys ",
    .open = keys_open,
    .close = keys_close,
    .draw = keys_draw,
    .action = keys_action,
    .text_key = keys_text_key,
    .tab_info = keys_tab_info,
};
