/* header.c -- the two header lines (numbers from /api/admin/overview) and
 * the view tabs line. */
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "tui.h"

/* Draw s at *x with attr, advancing *x; stops at the right edge. */
static void put(struct app *a, WINDOW *w, int y, int *x, int attr, const char *s)
{
    int room = a->cols - *x;
    if (room <= 0)
        return;
    int wd = tx_width(s);
    if (wd > room)
        wd = room;
    screen_put(w, y, *x, wd, attr, s);
    *x += wd;
}

static void item(struct app *a, WINDOW *w, int y, int *x, const char *label, const char *val,
                 int vattr)
{
    put(a, w, y, x, screen_attr(R_HEADER), label);
    put(a, w, y, x, vattr, val);
    put(a, w, y, x, screen_attr(R_HEADER), "  ");
}

void header_draw(struct app *a)
{
    WINDOW *w = a->w_head;
    char v[64];
    int x = 0;
    int val = screen_attr(R_HEADER_VAL);
    werase(w);
    const cJSON *o = a->overview;
    if (!o) {
        put(a, w, 0, &x, screen_attr(R_TITLE), "gemgate ");
        put(a, w, 0, &x, screen_attr(R_HEADER), a->conn == CONN_OK ? "loading..." : "not connected");
        x = 0;
        put(a, w, 1, &x, screen_attr(R_HEADER), a->cli.base_url);
        wnoutrefresh(w);
        return;
    }
    snprintf(v, sizeof(v), "gemgate %s", js_str(o, "version") ? js_str(o, "version") : "?");
    put(a, w, 0, &x, screen_attr(R_TITLE), v);
    put(a, w, 0, &x, screen_attr(R_HEADER), "  ");
    tx_duration(js_int(o, "uptime_s", 0), v, sizeof(v));
    item(a, w, 0, &x, "up ", v, val);
    snprintf(v, sizeof(v), "%lld", js_int(o, "rpm", 0));
    item(a, w, 0, &x, "req/min ", v, val);
    double er = js_num(o, "error_rate", 0) * 100.0;
    snprintf(v, sizeof(v), "%.1f%%", er);
    item(a, w, 0, &x, "errors ", v, er >= 10.0 ? screen_attr(R_LOG_ERR) : er > 0 ? screen_attr(R_LOG_WARN) : val);
    snprintf(v, sizeof(v), "%lld", js_int(o, "active_streams", 0));
    item(a, w, 0, &x, "streams ", v, val);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "store");
    if (cJSON_IsObject(st)) {
        bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "ok"));
        snprintf(v, sizeof(v), "%s %s", js_str(st, "backend") ? js_str(st, "backend") : "?",
                 ok ? "ok" : "DOWN");
        item(a, w, 0, &x, "store ", v, ok ? val : screen_attr(R_MSG_ERR));
    }

    x = 0;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pool");
    snprintf(v, sizeof(v), "%lld", js_int(p, "total", 0));
    item(a, w, 1, &x, "pool ", v, val);
    static const struct { const char *k; enum role r; } st4[] = {
        { "active", R_ST_ACTIVE }, { "cooldown", R_ST_COOLDOWN },
        { "expired", R_ST_EXPIRED }, { "disabled", R_ST_DISABLED },
    };
    for (size_t i = 0; i < 4; i++) {
        snprintf(v, sizeof(v), "%lld ", js_int(p, st4[i].k, 0));
        put(a, w, 1, &x, val, v);
        put(a, w, 1, &x, screen_attr(st4[i].r), st4[i].k);
        put(a, w, 1, &x, screen_attr(R_HEADER), "  ");
    }
    wnoutrefresh(w);
}

void tabs_draw(struct app *a)
{
    WINDOW *w = a->w_tabs;
    int x = 0;
    static const char *const tabs[] = { " 1 Accounts ", " 2 Log ", " 3 Import ", " ? Help " };
    werase(w);
    wbkgdset(w, ' ' | screen_attr(R_TAB));
    wclrtoeol(w);
    for (int i = 0; i < VIEW_N; i++) {
        put(a, w, 0, &x, screen_attr(i == (int)a->view ? R_TAB_ACTIVE : R_TAB), tabs[i]);
        put(a, w, 0, &x, screen_attr(R_TAB), " ");
    }
    /* right side: what the view is showing */
    char info[512] = "";
    if (a->view == VIEW_ACCOUNTS)
        snprintf(info, sizeof(info), "sort: %s %s%s%s ", acol_names[a->accts.sort],
                 a->accts.desc ? "desc" : "asc", a->accts.filter[0] ? "  filter: " : "",
                 a->accts.filter);
    else if (a->view == VIEW_LOG)
        snprintf(info, sizeof(info), "%s%s%s%s ", a->log.paused ? "PAUSED" : a->log.follow ? "following" : "scrolling",
                 a->stream_up ? "" : "  (stream down)", a->log.filter[0] ? "  filter: " : "", a->log.filter);
    int iw = tx_width(info);
    if (iw && a->cols - x > iw + 1)
        screen_put(w, 0, a->cols - iw, iw, screen_attr(R_TAB), info);
    wnoutrefresh(w);
}
