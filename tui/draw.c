/* draw.c -- see draw.h */
#include "draw.h"

#include <string.h>

#include "text.h"

#define DRAW_MAX_COLS 1000

static int role_attr[R_NROLES];

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

int draw_attr(enum role r)
{
    return r < R_NROLES ? role_attr[r] : 0;
}

void draw_colors_init(bool want)
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

void draw_put(WINDOW *win, int y, int x, int w, int attr, const char *s)
{
    char buf[4 * DRAW_MAX_COLS + 8];
    if (!win || w <= 0)
        return;
    if (w > DRAW_MAX_COLS)
        w = DRAW_MAX_COLS;
    tx_fit(s, w, true, false, buf, sizeof(buf));
    wattrset(win, attr);
    mvwaddstr(win, y, x, buf);
    wattrset(win, A_NORMAL);
}

void draw_run(WINDOW *win, int y, int *x, int right, int attr, const char *s)
{
    int room = right - *x;
    if (room <= 0)
        return;
    int wd = tx_width(s);
    if (wd > room)
        wd = room;
    draw_put(win, y, *x, wd, attr, s);
    *x += wd;
}

void draw_hline(WINDOW *win, int y, int w, int attr)
{
    bool utf8 = tx_utf8();
    char buf[3 * DRAW_MAX_COLS + 1];
    if (!win)
        return;
    if (w > DRAW_MAX_COLS)
        w = DRAW_MAX_COLS;
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

void draw_fbar(WINDOW *win, int y, int cols, const struct draw_key *items, int n)
{
    int x = 0;
    if (!win)
        return;
    wbkgdset(win, ' ' | draw_attr(R_BAR_LABEL));
    wmove(win, y, 0);
    wclrtoeol(win);
    for (int i = 0; i < n && x < cols; i++) {
        draw_run(win, y, &x, cols, draw_attr(R_BAR_KEY), items[i].key);
        draw_run(win, y, &x, cols, draw_attr(R_BAR_LABEL), items[i].label);
        x++;
    }
}
