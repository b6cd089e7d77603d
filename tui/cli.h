/* cli.h -- gemctl-tui's non-interactive mode: one admin call, output on
 * stdout, errors on stderr, exit status 0 ok, 1 API error, 2 usage error,
 * 3 cannot connect, 4 auth failed.
 *
 * Every string that comes from the server is escaped before it is printed
 * (esc.h): control characters never reach the terminal, and --json output
 * escapes every control character (DEL and C1 included) as \u00XX.
 * The client settings are borrowed, not freed.
 */
#ifndef TUI_CLI_H
#define TUI_CLI_H

#include <stdbool.h>

#include "gg_admin_client.h"

struct cli_opts {
    const char *cmd;          /* "list", "import", "enable", ... */
    const char *arg;
    bool json;
};

int cli_run(struct gg_admin_client *c, const struct cli_opts *o);

#endif
