/* header.h -- the fixed parts of the gemctl-tui screen around the body:
 * the two header lines (numbers from /api/admin/overview), the view tabs
 * line (labels and tab_info from the view table) and the function-key
 * hints bar (from keytab, or the open prompt's keys).
 *
 * Each function redraws its window and wnoutrefresh()es it; nothing is
 * allocated, nothing fails.  UI thread only.
 */
#ifndef TUI_HEADER_H
#define TUI_HEADER_H

#include "app.h"

void header_draw(struct app *a);
void tabs_draw(struct app *a);
void hints_draw(struct app *a);

#endif
