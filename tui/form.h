/* form.h -- prompts in the status line of gemctl-tui: a one-line UTF-8
 * editor (filter, edits, file paths), y/n confirmations and single-key
 * choices (a->form holds the one open prompt).
 *
 * Prompts are modal for keys but not for the loop: network results keep
 * arriving while a prompt is open; the answer is delivered through the
 * `done` callback (ok=false on Esc) with a copy of the value that is valid
 * during the call only.  Opening a prompt replaces any open one (its done
 * is not called).  Values are capped at FORM_MAX-1 bytes; longer input is
 * ignored.  UI thread only.
 */
#ifndef TUI_FORM_H
#define TUI_FORM_H

#include <stdbool.h>

#include "app.h"

/* Line editor; `initial` may be NULL; `secret` hides the value; `change`
 * (may be NULL) runs after each edit (incremental filters). */
void form_open(struct app *a, const char *prompt, const char *initial, bool secret,
               form_done_fn done, form_change_fn change);
/* "prompt (y/N)": done(ok = 'y' pressed). */
void form_confirm(struct app *a, const char *prompt, form_done_fn done);
/* One key among `choices` (ASCII); Esc cancels. */
void form_choice(struct app *a, const char *prompt, const char *choices, form_done_fn done);
/* A key while a->form.active. */
void form_key(struct app *a, int key, bool is_code);
/* Draw the prompt into a->w_status (with the terminal cursor in it). */
void form_draw(struct app *a);

#endif
