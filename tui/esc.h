/* esc.h -- making server-supplied text safe to print on a terminal
 * (gemctl-tui's CLI mode; the TUI draws through tx_fit, which shows the
 * same characters as '?').  Pure: no I/O, no curses, no global state.
 *
 * "Control characters" here are every C0 byte (0x00-0x1F, ESC included),
 * DEL (0x7F) and the C1 code points U+0080-U+009F (UTF-8 C2 80 - C2 9F,
 * which some terminals obey like ESC sequences).  Invalid UTF-8 is treated
 * the same way, byte by byte.
 *
 * Ownership: the caller owns s, out and the gg_buf (whose cap bounds the
 * output); nothing is retained.  Failure: see each function.
 */
#ifndef TUI_ESC_H
#define TUI_ESC_H

#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>

#include "gg_buf.h"

/* Copy s into out (capacity n, always NUL-terminated when n > 0) with every
 * control character and invalid byte written visibly: C0 and DEL as \xHH,
 * C1 code points as \u00HH, invalid UTF-8 bytes as \xHH, and the backslash
 * itself as \\ (so the output is unambiguous).  Valid printable UTF-8 is
 * copied unchanged.  Output that does not fit is cut before a whole
 * character or escape, never inside one.  s NULL gives "".
 * Returns the bytes written (without the NUL). */
size_t esc_text(const char *s, char *out, size_t n);

/* Print j as JSON (pretty or compact) into out with every control character
 * inside strings escaped as \u00XX, DEL and C1 included (cJSON escapes only
 * C0), and invalid UTF-8 replaced by \ufffd, so the output is pure
 * printable text plus the layout whitespace.  Returns 0, or -1 when out of
 * memory or over out's cap (out then holds a prefix). */
int esc_json(const cJSON *j, bool pretty, struct gg_buf *out);

#endif
