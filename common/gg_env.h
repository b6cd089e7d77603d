/* gg_env.h -- parser for `.env` files (KEY=VALUE lines).
 *
 * Accepted syntax, one assignment per line:
 *   [export ]KEY=VALUE        KEY is [A-Za-z_][A-Za-z0-9_]*
 *   VALUE unquoted: trimmed; " #" starts a comment
 *   VALUE 'single quoted': literal
 *   VALUE "double quoted": \n \t \\ \" escapes
 * Blank lines and lines starting with '#' are skipped.  The callback gets
 * NUL-terminated key and value valid only during the call, plus the 1-based
 * line number; a non-zero return stops parsing and is returned.  Malformed
 * lines are reported through `on_error` (may be NULL) and skipped; the
 * parser never fails on bad input and never reads past `n`.
 */
#ifndef GG_ENV_H
#define GG_ENV_H

#include <stddef.h>

typedef int (*gg_env_cb)(void *ctx, const char *key, const char *value, int line);
typedef void (*gg_env_err_cb)(void *ctx, int line, const char *msg);

int gg_env_parse(const char *text, size_t n, gg_env_cb cb, gg_env_err_cb on_error, void *ctx);

#endif
