/* screen.c -- curses setup and teardown, colour roles, window layout, the
 * status line and the main loop.
 *
 * Drawing model: five windows (header, tabs, body, status, hints) each
 * redrawn only when its dirty bit is set, then wnoutrefresh() + one
 * doupdate() per pass, so an idle tick sends nothing to the terminal.  The
 * loop never blocks on the network: it poll()s stdin and the async result
 * pipe with a timeout computed from the next refresh due.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gg_time.h"
#include "text.h"
#include "tui.h"

static int role_attr[R_NROLES];
static bool curses_on;

struct role_def {
    short fg, bg;
    int attr;          /* extra attributes in colour mode */
    int mono;          /* attributes in monochrome mode */
};

static const struct role_def roles[R_NROLES] = {
    [R_NORMAL]      = { -1, -1, 0, 0 },
    [R_HEADER]      = { COLOR_CYAN, -1, 0, 0 },
    [R_HEADER_VAL]  = { COLOR_WHITE, -1, A_BOLD, A_BOLD },
    [R_TAB]         = { COLOR_WHITE, COLOR_BLUE, 0, A_UNDERLINE },
    [R_TAB_ACTIVE]  = { COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD },
    [R_COLHDR]      = { COLOR_BLACK, COLOR_GREEN, 0, A_REVERSE },
    [R_COLHDR_SORT] = { COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD },
    [R_SELECTED]    = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
    [R_ST_ACTIVE]   = { COLOR_GREEN, -1, 0, 0 },
    [R_ST_COOLDOWN] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
    [R_ST_EXPIRED]  = { COLOR_MAGENTA, -1, A_BOLD, A_UNDERLINE },
    [R_ST_DISABLED] = { COLOR_RED, -1, 0, A_DIM },
    [R_BAR_KEY]     = { COLOR_WHITE, -1, A_BOLD, A_BOLD },
    [R_BAR_LABEL]   = { COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE },
    [R_MSG_ERR]     = { COLOR_WHITE, COLOR_RED, A_BOLD, A_BOLD | A_REVERSE },
    [R_MSG_OK]      = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
    [R_MSG_INFO]    = { -1, -1, 0, 0 },
    [R_LOG_WARN]    = { COLOR_YELLOW, -1, 0, A_BOLD },
    [R_LOG_ERR]     = { COLOR_RED, -1, A_BOLD, A_BOLD },
    [R_DIM]         = { COLOR_BLUE, -1, A_BOLD, A_DIM },
    [R_TITLE]       = { COLOR_CYAN, -1, A_BOLD, A_BOLD },
};

int screen_attr(enum role r)
{
    return r < R_NROLES ? role_attr[r] : 0;
}

static void setup_colors(bool want)
{
    bool color = want && has_colors() && start_color() == OK;
    if (color)
        use_default_colors();
    for (int r = 0; r < R_NROLES; r++) {
        if (!color || COLOR_PAIRS <= R_NROLES) {
            role_attr[r] = roles[r].mono;
            continue;
        }
        if (roles[r].fg == -1 && roles[r].bg == -1) {
            role_attr[r] = roles[r].attr;
            continue;
        }
        init_pair((short)(r + 1), roles[r].fg, roles[r].bg);
        role_attr[r] = (int)COLOR_PAIR(r + 1) | roles[r].attr;
    }
}

int screen_init(struct app *a)
{
    if (!getenv("ESCDELAY"))
        set_escdelay(25);
    if (!initscr())
        return -1;
    curses_on = true;
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    setup_colors(a->color);
    screen_layout(a);
    return 0;
}

void screen_end(void)
{
    if (!curses_on)
        return;
    curs_set(1);
    endwin();
    curses_on = false;
}

void screen_restore_terminal(void)
{
    if (curses_on)
        endwin();
}

static void delwin0(WINDOW **w)
{
    if (*w)
        delwin(*w);
    *w = NULL;
}

/* Recompute window geometry from LINES/COLS.  Header 2 rows, tabs 1, body
 * the rest, status 1, hints 1. */
void screen_layout(struct app *a)
{
    a->rows = LINES;
    a->cols = COLS;
    delwin0(&a->w_head);
    delwin0(&a->w_tabs);
    delwin0(&a->w_body);
    delwin0(&a->w_status);
    delwin0(&a->w_hints);
    werase(stdscr);
    wnoutrefresh(stdscr); /* stdscr stays untouched: wget_wch on it never repaints */
    int r = a->rows < 6 ? 6 : a->rows;
    int c = a->cols < 10 ? 10 : a->cols;
    a->w_head = newwin(2, c, 0, 0);
    a->w_tabs = newwin(1, c, 2, 0);
    a->w_body = newwin(r - 5, c, 3, 0);
    a->w_status = newwin(1, c, r - 2, 0);
    a->w_hints = newwin(1, c, r - 1, 0);
    WINDOW *ws[] = { a->w_head, a->w_tabs, a->w_body, a->w_status, a->w_hints };
    for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
        if (ws[i]) {
            keypad(ws[i], TRUE);
            leaveok(ws[i], TRUE);
        }
    }
    a->dirty = D_ALL;
    a->force_full = true;
}

void screen_put(WINDOW *win, int y, int x, int w, int attr, const char *s)
{
    char buf[4096];
    if (!win || w <= 0)
        return;
    if (w > 1000)
        w = 1000;
    tx_fit(s, w, true, false, buf, sizeof(buf));
    wattrset(win, attr);
    mvwaddstr(win, y, x, buf);
    wattrset(win, A_NORMAL);
}

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

static void status_draw(struct app *a, int64_t now)
{
    char text[600];
    enum role r = R_MSG_INFO;
    werase(a->w_status);
    if (a->form.active) {
        form_draw(a);
        return;
    }
    text[0] = '\0';
    net_status_text(a, now, text, sizeof(text), &r);
    if (!text[0] && a->msg[0] && (a->msg_until == 0 || now < a->msg_until)) {
        snprintf(text, sizeof(text), "%s", a->msg);
        r = a->msg_role;
    }
    if (!text[0]) {
        char when[32] = "-";
        if (a->refreshed_at > 0) {
            time_t t = (time_t)(a->refreshed_at / 1000);
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(when, sizeof(when), "%H:%M:%S", &tm);
        }
        snprintf(text, sizeof(text), "%s  %zu accounts  updated %s%s%s%s", a->cli.base_url,
                 a->accts.n, when, a->stream_up ? "  log stream on" : "",
                 a->accts.filter[0] ? "  filter: " : "", a->accts.filter);
        r = R_DIM;
    }
    screen_put(a->w_status, 0, 0, a->cols, screen_attr(r), text);
    wnoutrefresh(a->w_status);
}

static void body_draw(struct app *a)
{
    switch (a->view) {
    case VIEW_ACCOUNTS: acc_draw(a); break;
    case VIEW_LOG: logv_draw(a); break;
    case VIEW_IMPORT: imp_draw(a); break;
    case VIEW_HELP: help_draw(a); break;
    case VIEW_N: break;
    }
    wnoutrefresh(a->w_body);
}

static void draw(struct app *a, int64_t now)
{
    if (a->cols < 20 || a->rows < 8) {
        werase(stdscr);
        mvaddstr(0, 0, "terminal too small");
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    if (a->force_full) {
        clearok(curscr, TRUE);
        a->force_full = false;
    }
    if (a->dirty & D_HEADER)
        header_draw(a);
    if (a->dirty & D_TABS)
        tabs_draw(a);
    if (a->dirty & D_BODY)
        body_draw(a);
    if (a->dirty & D_STATUS)
        status_draw(a, now);
    if (a->dirty & D_HINTS)
        keys_hints_draw(a);
    a->dirty = 0;
    doupdate();
}

static void switch_view(struct app *a, enum view v)
{
    if (v == a->view)
        return;
    a->prev_view = a->view;
    a->view = v;
    a->dirty |= D_TABS | D_BODY | D_HINTS | D_STATUS;
}

/* Global actions; the view handlers get the rest first. */
static void dispatch(struct app *a, enum action act)
{
    bool done = false;
    switch (a->view) {
    case VIEW_ACCOUNTS: done = acc_action(a, act); break;
    case VIEW_LOG: done = logv_action(a, act); break;
    case VIEW_IMPORT: done = imp_action(a, act); break;
    case VIEW_HELP: done = help_action(a, act); break;
    case VIEW_N: break;
    }
    if (done)
        return;
    switch (act) {
    case ACT_QUIT: a->quit = 1; break;
    case ACT_HELP:
        if (a->view == VIEW_HELP)
            switch_view(a, a->prev_view);
        else {
            a->help_top = 0;
            switch_view(a, VIEW_HELP);
        }
        break;
    case ACT_VIEW_ACC: switch_view(a, VIEW_ACCOUNTS); break;
    case ACT_VIEW_LOG: switch_view(a, VIEW_LOG); break;
    case ACT_VIEW_IMP: switch_view(a, VIEW_IMPORT); break;
    case ACT_NEXT_VIEW: switch_view(a, (enum view)((a->view + 1) % VIEW_HELP)); break;
    case ACT_BACK:
        if (a->view == VIEW_HELP)
            switch_view(a, a->prev_view);
        else
            switch_view(a, VIEW_ACCOUNTS);
        break;
    case ACT_REFRESH:
        net_refresh_now(a);
        a->force_full = true;
        a->dirty = D_ALL;
        break;
    default: break;
    }
}

static void on_key(struct app *a, int key, bool is_code)
{
    if (is_code && key == KEY_RESIZE) {
        screen_layout(a);
        return;
    }
    if (a->form.active) {
        form_key(a, key, is_code);
        return;
    }
    if (a->view == VIEW_IMPORT && imp_text_key(a, key, is_code))
        return;
    enum action act = keys_lookup(a->view, is_code ? KC(key) : key);
    if (act != ACT_NONE)
        dispatch(a, act);
}

int screen_run(struct app *a)
{
    long iter = 0;
    a->dirty = D_ALL;
    while (!a->quit) {
        int64_t now = gg_mono_ms();
        net_tick(a, now);
        net_process(a);
        if (now / 1000 != a->last_status_sec) {
            /* once a second: countdowns in the status line, relative times */
            a->last_status_sec = now / 1000;
            a->dirty |= D_STATUS;
            if (a->view == VIEW_ACCOUNTS && now / 1000 % 5 == 0)
                a->dirty |= D_BODY;
        }
        if (a->msg_until && now >= a->msg_until && a->msg[0]) {
            a->msg[0] = '\0';
            a->dirty |= D_STATUS;
        }
        draw(a, now);
        if (a->max_iterations > 0 && ++iter >= a->max_iterations)
            break;

        int64_t due = net_next_due(a, now);
        int timeout = (int)(due - now);
        int to_sec = (int)(1000 - now % 1000);
        if (timeout > to_sec)
            timeout = to_sec;
        if (timeout < 10)
            timeout = 10;
        struct pollfd pf[2] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = gg_admin_async_fd(a->net), .events = POLLIN },
        };
        int rc = poll(pf, 2, timeout);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc > 0 && (pf[1].revents & POLLIN))
            gg_admin_async_drain_fd(a->net);
        if (rc > 0 && (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pf[0].revents & POLLIN))
            break; /* the terminal went away */
        /* read every key available (also after EINTR: KEY_RESIZE) */
        for (int n = 0; n < 512 && !a->quit; n++) {
            wint_t wc;
            int r = wget_wch(stdscr, &wc);
            if (r == ERR)
                break;
            on_key(a, (int)wc, r == KEY_CODE_YES);
        }
    }
    return 0;
}

void screen_hline(WINDOW *win, int y, int w, int attr)
{
    bool utf8 = tx_utf8();
    char buf[3 * 1000 + 1];
    if (w > 1000)
        w = 1000;
    size_t o = 0;
    for (int i = 0; i < w; i++) {
        if (utf8) {
            memcpy(buf + o, "\xe2\x94\x80", 3);
            o += 3;
        } else {
            buf[o++] = '-';
        }
    }
    buf[o] = '\0';
    wattrset(win, attr);
    mvwaddstr(win, y, 0, buf);
    wattrset(win, A_NORMAL);
}
