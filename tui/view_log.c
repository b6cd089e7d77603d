/* view_log.c -- tail of the live log stream (/api/admin/logs/stream):
 * follow (newest line stays in view) and pause (display frozen, lines keep
 * arriving and are counted), filter, scrolling.  Like htop's TraceScreen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"
#include "form.h"
#include "text.h"
#include "views.h"

#define LOG_KEEP 2000

static size_t *shown_idx(struct app *a, size_t *count)
{
    size_t cap = a->log.n ? a->log.n : 1;
    size_t *idx = malloc(cap * sizeof(*idx));
    *count = idx ? log_ring_shown(&a->log, idx, cap) : 0;
    return idx;
}

static int page(struct app *a)
{
    int h = getmaxy(a->w_body) - 1;
    return h < 1 ? 1 : h;
}

static void logv_draw(struct app *a)
{
    WINDOW *w = a->w_body;
    struct log_ring *r = &a->log;
    char title[256];
    size_t n;
    size_t *idx = shown_idx(a, &n);
    int h = page(a);
    werase(w);
    if (r->follow || r->top + (size_t)h > n)
        r->top = n > (size_t)h ? n - (size_t)h : 0;
    size_t newer = 0;
    if (r->paused) {
        for (size_t i = r->n; i-- > 0;) {
            if (log_ring_at(r, i)->seq <= r->pause_seq)
                break;
            newer++;
        }
    }
    char cnt[64];
    if (newer)
        snprintf(cnt, sizeof(cnt), "%zu lines, +%zu new", n, newer);
    else
        snprintf(cnt, sizeof(cnt), "%zu line%s", n, n == 1 ? "" : "s");
    snprintf(title, sizeof(title), " %-8s %3s %-9s %-22s %-16s %7s  %s", "TIME", "ST", "DIALECT", "MODEL",
             "ACCOUNT", "LATENCY", cnt);
    draw_put(w, 0, 0, a->cols, draw_attr(R_COLHDR), title);
    if (n == 0)
        draw_put(w, 1, 0, a->cols, draw_attr(R_DIM),
                   a->stream_up ? " waiting for requests..." : " live log stream not connected");
    for (int y = 0; y < h && r->top + (size_t)y < n; y++) {
        const struct log_line *ln = log_ring_at(r, idx[r->top + (size_t)y]);
        enum role role = ln->level == LOG_ERR ? R_LOG_ERR : ln->level == LOG_WARN ? R_LOG_WARN
                         : ln->level == LOG_INFO ? R_DIM : R_NORMAL;
        char line[1100];
        snprintf(line, sizeof(line), " %s", ln->text);
        draw_put(w, 1 + y, 0, a->cols, draw_attr(role), line);
    }
    free(idx);
}

static void filter_change(struct app *a, const char *v)
{
    snprintf(a->log.filter, sizeof(a->log.filter), "%s", v);
    a->dirty |= D_BODY | D_TABS;
}

static void filter_done(struct app *a, bool ok, const char *v)
{
    (void)v;
    if (!ok)
        a->log.filter[0] = '\0';
    a->dirty |= D_BODY | D_TABS;
}

static void log_scroll(struct app *a, long delta)
{
    struct log_ring *r = &a->log;
    size_t n;
    free(shown_idx(a, &n));
    long top = (long)r->top + delta;
    long maxtop = (long)n - page(a);
    if (maxtop < 0)
        maxtop = 0;
    if (top < 0)
        top = 0;
    if (top >= maxtop) {
        top = maxtop;
        if (delta > 0)
            r->follow = true; /* scrolled to the end: follow again */
    } else {
        r->follow = false;
    }
    r->top = (size_t)top;
}

static bool logv_action(struct app *a, enum action act)
{
    struct log_ring *r = &a->log;
    switch (act) {
    case ACT_UP: log_scroll(a, -1); break;
    case ACT_DOWN: log_scroll(a, 1); break;
    case ACT_PGUP: log_scroll(a, -page(a)); break;
    case ACT_PGDN: log_scroll(a, page(a)); break;
    case ACT_HOME: r->follow = false; r->top = 0; break;
    case ACT_END: r->follow = true; break;
    case ACT_FOLLOW: r->follow = !r->follow; break;
    case ACT_PAUSE:
        r->paused = !r->paused;
        r->pause_seq = r->next_seq - 1;
        break;
    case ACT_LOG_CLEAR: log_ring_clear(r); break;
    case ACT_FILTER:
        form_open(a, "log filter: ", r->filter, false, filter_done, filter_change);
        break;
    default:
        return false;
    }
    a->dirty |= D_BODY | D_TABS;
    return true;
}

static void logv_on_event(struct app *a, const char *event, const cJSON *data)
{
    char line[1024], id[64];
    enum log_level lvl = LOG_OK;
    if (!a->log.v && log_ring_init(&a->log, LOG_KEEP) < 0)
        return;
    if (strcmp(event, "request") == 0) {
        if (log_format_request(data, line, sizeof(line), &lvl, id, sizeof(id)) < 0)
            return;
    } else if (strcmp(event, "account") == 0) {
        if (log_format_account(data, line, sizeof(line)) < 0)
            return;
        lvl = LOG_INFO;
        id[0] = '\0';
    } else {
        return;
    }
    if (log_ring_add(&a->log, line, lvl, id) > 0 && a->view == VIEW_LOG)
        a->dirty |= D_BODY | D_TABS;
}

static void logv_tab_info(struct app *a, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s%s ", a->log.paused ? "PAUSED" : a->log.follow ? "following" : "scrolling",
             a->stream_up ? "" : "  (stream down)", a->log.filter[0] ? "  filter: " : "",
             a->log.filter);
}

const struct view_ops view_log = {
    .name = "Log",
    .tab = " 2 Log ",
    .draw = logv_draw,
    .action = logv_action,
    .on_event = logv_on_event,
    .tab_info = logv_tab_info,
};
