/* screen.h -- curses setup and teardown, window layout, the status line
 * and the main loop of gemctl-tui.  The loop drives whatever views
 * a->views[] holds through their view_ops; it includes no view header.
 *
 * Failure: screen_init returns -1 when the terminal cannot be initialised
 * (nothing to undo then).  screen_run returns when a->quit is set, after
 * a->max_iterations passes, or when the terminal goes away.
 * UI thread only, except screen_restore_terminal (signal handlers).
 */
#ifndef TUI_SCREEN_H
#define TUI_SCREEN_H

#include "app.h"

int screen_init(struct app *a);
void screen_end(void);
/* Recompute the windows from LINES/COLS (after KEY_RESIZE). */
void screen_layout(struct app *a);
int screen_run(struct app *a);
/* async-signal path: endwin() only when curses is on */
void screen_restore_terminal(void);

#endif
