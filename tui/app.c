/* app.c -- see app.h.  Curses-free (only types from curses.h), so the
 * dispatch is unit-tested with fake views (tests/unit/test_tui_logic.c). */
#include "app.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "gg_time.h"

#define LOG_KEEP 2000

void app_msg(struct app *a, enum role r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
    va_end(ap);
    a->msg_role = r;
    a->msg_until = gg_mono_ms() + (r == R_MSG_ERR ? 10000 : 5000);
    a->dirty |= D_STATUS;
}

void app_note(struct app *a, enum log_level lvl, const char *fmt, ...)
{
    char msg[700], line[800], ts[16];
    va_list ap;
    if (!a->log.v && log_ring_init(&a->log, LOG_KEEP) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    time_t t = (time_t)(gg_now_ms() / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
    snprintf(line, sizeof(line), "%s %s", ts, msg);
    if (log_ring_add(&a->log, line, lvl, NULL) > 0)
        a->dirty |= D_BODY;
}

void app_switch_view(struct app *a, enum view v)
{
    if (v == a->view || v >= VIEW_N)
        return;
    const struct view_ops *old = a->views[a->view], *nv = a->views[v];
    if (old && old->close)
        old->close(a);
    a->prev_view = a->view;
    a->view = v;
    if (nv && nv->open)
        nv->open(a);
    a->dirty |= D_TABS | D_BODY | D_HINTS | D_STATUS;
}

bool app_dispatch(struct app *a, enum action act)
{
    const struct view_ops *cur = a->views[a->view];
    if (act == ACT_NONE)
        return true;
    if (cur && cur->action && cur->action(a, act))
        return true;
    switch (act) {
    case ACT_QUIT: a->quit = 1; return true;
    case ACT_HELP:
        app_switch_view(a, a->view == VIEW_HELP ? a->prev_view : VIEW_HELP);
        return true;
    case ACT_VIEW_ACC: app_switch_view(a, VIEW_ACCOUNTS); return true;
    case ACT_VIEW_LOG: app_switch_view(a, VIEW_LOG); return true;
    case ACT_VIEW_IMP: app_switch_view(a, VIEW_IMPORT); return true;
    case ACT_VIEW_KEYS: app_switch_view(a, VIEW_KEYS); return true;
    case ACT_NEXT_VIEW: app_switch_view(a, (enum view)((a->view + 1) % VIEW_HELP)); return true;
    case ACT_BACK:
        app_switch_view(a, a->view == VIEW_HELP ? a->prev_view : VIEW_ACCOUNTS);
        return true;
    default: return false;
    }
}

enum action app_key(struct app *a, int key, bool is_code)
{
    const struct view_ops *cur = a->views[a->view];
    if (cur && cur->text_key && cur->text_key(a, key, is_code))
        return ACT_NONE;
    enum action act = keys_lookup(a->view, is_code ? KC(key) : key);
    if (act == ACT_NONE || app_dispatch(a, act))
        return ACT_NONE;
    return act;
}

void app_broadcast(struct app *a, const char *event, const cJSON *data)
{
    for (int v = 0; v < VIEW_N; v++) {
        if (a->views[v] && a->views[v]->on_event)
            a->views[v]->on_event(a, event ? event : "", data);
    }
}
