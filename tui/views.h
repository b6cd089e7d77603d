/* views.h -- the four views of gemctl-tui, each a struct view_ops (app.h)
 * defined in its own view_*.c.  Only main.c includes this header: it puts
 * the views into a->views[]; everything else reaches them through that
 * table.  The ops are immutable and live for the whole program.
 */
#ifndef TUI_VIEWS_H
#define TUI_VIEWS_H

#include <stdio.h>

#include "app.h"

extern const struct view_ops view_accounts;   /* view_accounts.c */
extern const struct view_ops view_log;        /* view_log.c */
extern const struct view_ops view_import;     /* view_import.c */
extern const struct view_ops view_keys;       /* view_keys.c */
extern const struct view_ops view_help;       /* view_help.c */

/* Print the key list (`gemctl-tui --bindings`, the man page's KEYS section). */
void help_print(FILE *out);

#endif
