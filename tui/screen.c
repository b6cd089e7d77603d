/* screen.c -- see screen.h.
 *
 * Drawing model: five windows (header, tabs, body, status, hints) each
 * redrawn only when its dirty bit is set, then wnoutrefresh() + one
 * doupdate() per pass, so an idle tick sends nothing to the terminal.  The
 * loop never blocks on the network: it poll()s stdin and the async result
 * pipe with a timeout computed from the next refresh due.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "screen.h"

#include "draw.h"
#include "form.h"
#include "gg_time.h"
#include "header.h"
#include "net.h"

static bool curses_on;

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
    draw_colors_init(a->color);
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
    draw_put(a->w_status, 0, 0, a->cols, draw_attr(r), text);
    wnoutrefresh(a->w_status);
}

static void body_draw(struct app *a)
{
    const struct view_ops *v = a->views[a->view];
    if (v && v->draw)
        v->draw(a);
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
        hints_draw(a);
    a->dirty = 0;
    doupdate();
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
    /* the view, the key table and the global actions (app.c); what is
     * left needs the network */
    if (app_key(a, key, is_code) == ACT_REFRESH) {
        net_refresh_now(a);
        a->force_full = true;
        a->dirty = D_ALL;
    }
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
            if (now / 1000 % 5 == 0)
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
