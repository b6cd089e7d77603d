/* header.c -- see header.h */
#include "header.h"

#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "keys.h"
#include "text.h"

/* Draw s at *x with attr, advancing *x; stops at the right edge. */
static void put(struct app *a, WINDOW *w, int y, int *x, int attr, const char *s)
{
    draw_run(w, y, x, a->cols, attr, s);
}

static void item(struct app *a, WINDOW *w, int y, int *x, const char *label, const char *val,
                 int vattr)
{
    put(a, w, y, x, draw_attr(R_HEADER), label);
    put(a, w, y, x, vattr, val);
    put(a, w, y, x, draw_attr(R_HEADER), "  ");
}

void header_draw(struct app *a)
{
    WINDOW *w = a->w_head;
    char v[64];
    int x = 0;
    int val = draw_attr(R_HEADER_VAL);
    werase(w);
    const cJSON *o = a->overview;
    if (!o) {
        put(a, w, 0, &x, draw_attr(R_TITLE), "gemgate ");
        put(a, w, 0, &x, draw_attr(R_HEADER), a->conn == CONN_OK ? "loading..." : "not connected");
        x = 0;
        put(a, w, 1, &x, draw_attr(R_HEADER), a->cli.base_url);
        wnoutrefresh(w);
        return;
    }
    snprintf(v, sizeof(v), "gemgate %s", js_str(o, "version") ? js_str(o, "version") : "?");
    put(a, w, 0, &x, draw_attr(R_TITLE), v);
    put(a, w, 0, &x, draw_attr(R_HEADER), "  ");
    tx_duration(js_int(o, "uptime_s", 0), v, sizeof(v));
    item(a, w, 0, &x, "up ", v, val);
    snprintf(v, sizeof(v), "%lld", js_int(o, "rpm", 0));
    item(a, w, 0, &x, "req/min ", v, val);
    double er = js_num(o, "error_rate", 0) * 100.0;
    snprintf(v, sizeof(v), "%.1f%%", er);
    item(a, w, 0, &x, "errors ", v, er >= 10.0 ? draw_attr(R_LOG_ERR) : er > 0 ? draw_attr(R_LOG_WARN) : val);
    snprintf(v, sizeof(v), "%lld", js_int(o, "active_streams", 0));
    item(a, w, 0, &x, "streams ", v, val);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "store");
    if (cJSON_IsObject(st)) {
        bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "ok"));
        snprintf(v, sizeof(v), "%s %s", js_str(st, "backend") ? js_str(st, "backend") : "?",
                 ok ? "ok" : "DOWN");
        item(a, w, 0, &x, "store ", v, ok ? val : draw_attr(R_MSG_ERR));
    }
    /* requests per client dialect over the last hour (issue 12) */
    char dl[256];
    ov_dialects(o, dl, sizeof(dl));
    if (dl[0])
        item(a, w, 0, &x, "1h ", dl, val);

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
        put(a, w, 1, &x, draw_attr(st4[i].r), st4[i].k);
        put(a, w, 1, &x, draw_attr(R_HEADER), "  ");
    }
    /* model availability (issue 18) */
    char why[200];
    int total = 0, down = ov_models_unavailable(o, &total, why, sizeof(why));
    if (total) {
        snprintf(v, sizeof(v), "%d/%d", total - down, total);
        put(a, w, 1, &x, draw_attr(R_HEADER), "models ");
        put(a, w, 1, &x, down ? draw_attr(R_LOG_WARN) : val, v);
        if (down) {
            put(a, w, 1, &x, draw_attr(R_HEADER), " ");
            put(a, w, 1, &x, draw_attr(R_LOG_WARN), why);
        }
        put(a, w, 1, &x, draw_attr(R_HEADER), "  ");
    }
    wnoutrefresh(w);
}

void tabs_draw(struct app *a)
{
    WINDOW *w = a->w_tabs;
    int x = 0;
    werase(w);
    wbkgdset(w, ' ' | draw_attr(R_TAB));
    wclrtoeol(w);
    for (int i = 0; i < VIEW_N; i++) {
        const struct view_ops *v = a->views[i];
        put(a, w, 0, &x, draw_attr(i == (int)a->view ? R_TAB_ACTIVE : R_TAB), v ? v->tab : "?");
        put(a, w, 0, &x, draw_attr(R_TAB), " ");
    }
    /* right side: what the view is showing */
    char info[512] = "";
    const struct view_ops *cur = a->views[a->view];
    if (cur && cur->tab_info)
        cur->tab_info(a, info, sizeof(info));
    int iw = tx_width(info);
    if (iw && a->cols - x > iw + 1)
        draw_put(w, 0, a->cols - iw, iw, draw_attr(R_TAB), info);
    wnoutrefresh(w);
}

/* Hints bar: the F-key entries of the current view in F-key order, htop
 * style ("F1Help F2Enable ..."); a prompt shows its own keys instead. */
void hints_draw(struct app *a)
{
    struct draw_key items[12];
    char fk[12][8];
    int n = 0;
    WINDOW *w = a->w_hints;
    werase(w);
    if (a->form.active) {
        if (a->form.yesno) {
            items[n++] = (struct draw_key){ "y", "Yes" };
            items[n++] = (struct draw_key){ "n/Esc", "Cancel" };
        } else if (a->form.choice) {
            items[n++] = (struct draw_key){ "key", "Choose" };
            items[n++] = (struct draw_key){ "Esc", "Cancel" };
        } else {
            items[n++] = (struct draw_key){ "Enter", "Done" };
            items[n++] = (struct draw_key){ "Esc", "Cancel" };
            items[n++] = (struct draw_key){ "^U", "Clear" };
        }
    } else {
        unsigned bit = 1u << a->view;
        for (int f = 1; f <= 12; f++) {
            for (size_t i = 0; i < keytab_n; i++) {
                const struct keydef *k = &keytab[i];
                if (k->fkey != f || !(k->views & bit) || !k->hint)
                    continue;
                snprintf(fk[n], sizeof(fk[n]), "F%d", f);
                items[n] = (struct draw_key){ fk[n], k->hint };
                n++;
                break;
            }
        }
    }
    draw_fbar(w, 0, a->cols, items, n);
    wnoutrefresh(w);
}
