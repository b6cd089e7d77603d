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

/* options of the client-key commands (--new-key, --key-edit, --key-usage);
 * NULL = not given */
struct cli_key_opts {
    const char *rpm, *tpm, *day, *month, *concurrent, *models, *group;
    const char *expires, *note, *days;
    bool quiet;               /* --new-key: only the secret on stdout */
};

struct cli_opts {
    const char *cmd;          /* "list", "import", "enable", ..., "keys", "new-key" */
    const char *arg;
    bool json;
    struct cli_key_opts k;
};

int cli_run(struct gg_admin_client *c, const struct cli_opts *o);
/* The client-key commands (cli_keys.c): "keys", "new-key", "key-edit",
 * "key-enable", "key-disable", "key-delete", "key-usage".  Same output and
 * exit-status rules as cli_run; a new key's secret is printed once, on
 * stdout, and nowhere else. */
int cli_keys_run(struct gg_admin_client *c, const struct cli_opts *o);
/* shared by cli.c and cli_keys.c: print err on stderr, return the exit status */
int cli_fail(const struct gg_admin_client *c, const struct gg_admin_error *err);
int cli_print_json(const cJSON *j);

#endif
