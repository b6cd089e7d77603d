/* draw.h -- drawing primitives of gemctl-tui: colour roles, text clipped to
 * a number of display columns, horizontal rules and function-key bars.
 *
 * A leaf module: it knows curses and text.h, nothing about the application
 * or its views, so every other module may use it and it uses none of them.
 *
 * Safety contract: every string goes through tx_fit() (text.h) before it
 * reaches curses, so control characters (C0, ESC, DEL, C1 code points) and
 * invalid UTF-8 from the server are drawn as '?' and can never move the
 * cursor or send an escape sequence to the terminal.
 *
 * Ownership: callers own their windows and strings; nothing is retained.
 * Failure: drawing outside a window or with a NULL window does nothing.
 * UI thread only (curses is not thread-safe).
 */
#ifndef TUI_DRAW_H
#define TUI_DRAW_H

#include <stdbool.h>
#include <curses.h>

/* colour roles; draw_colors_init() maps them to pairs or to monochrome
 * attributes */
enum role {
    R_NORMAL = 0, R_HEADER, R_HEADER_VAL, R_TAB, R_TAB_ACTIVE, R_COLHDR, R_COLHDR_SORT,
    R_SELECTED, R_ST_ACTIVE, R_ST_COOLDOWN, R_ST_EXPIRED, R_ST_DISABLED,
    R_BAR_KEY, R_BAR_LABEL, R_MSG_ERR, R_MSG_OK, R_MSG_INFO, R_LOG_WARN, R_LOG_ERR,
    R_DIM, R_TITLE, R_NROLES
};

/* After initscr(): colours when `want` and the terminal has them, else
 * monochrome attributes. */
void draw_colors_init(bool want);
/* curses attribute of a role (0 for an unknown role). */
int draw_attr(enum role r);
/* Print s fitted to w columns at (y,x) with attribute attr, padded with
 * spaces; wider text is cut with an ellipsis. */
void draw_put(WINDOW *win, int y, int x, int w, int attr, const char *s);
/* Like draw_put without padding, at *x, advancing *x; stops at column
 * `right`. */
void draw_run(WINDOW *win, int y, int *x, int right, int attr, const char *s);
/* Horizontal rule across w columns (U+2500 in UTF-8 locales, else "-"). */
void draw_hline(WINDOW *win, int y, int w, int attr);

/* One entry of a function-key bar (htop's FunctionBar): key then label. */
struct draw_key {
    const char *key;          /* "F2", "Enter" */
    const char *label;        /* "Enable" */
};
/* Clear row y of win to the bar colour and draw the n entries left to
 * right ("F1Help F2Enable ..."), cut at `cols`. */
void draw_fbar(WINDOW *win, int y, int cols, const struct draw_key *items, int n);

#endif
