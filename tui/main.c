/* main.c -- gemctl-tui entry point: arguments, connection settings
 * (command line > environment > ~/.config/gemgate/tui.conf > defaults),
 * signal handling that always restores the terminal, then either the
 * non-interactive mode (cli.c) or the interactive console (screen.c). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "gg_env.h"
#include "net.h"
#include "screen.h"
#include "views.h"

#define EX_USAGE 2
#define CONF_MAX (64 * 1024)

static struct app app;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: gemctl-tui [options]                 interactive console\n"
        "       gemctl-tui [options] COMMAND         one call, for scripts\n"
        "\n"
        "options:\n"
        "  -u, --url URL          gemgated address (env GEMGATE_URL, default %s)\n"
        "  -k, --key KEY          admin key (env GEMGATE_ADMIN_KEY); prefer the env or tui.conf\n"
        "  -c, --config FILE      settings file (default ~/.config/gemgate/tui.conf, mode 0600)\n"
        "  -C, --no-color         monochrome (also when NO_COLOR is set)\n"
        "  -d, --delay SECONDS    refresh interval (default 2)\n"
        "  -n, --max-iterations N exit after N screen updates (tests)\n"
        "  -h, --help             this help;  -V, --version  the version\n"
        "      --bindings         print the key bindings\n"
        "\n"
        "commands:\n"
        "  --list [--json]        list the accounts\n"
        "  --import FILE          import accounts from FILE ('-' = stdin), print the report\n"
        "  --enable ID | --disable ID | --reset ID | --delete ID | --test ID\n"
        "  --get ID [--json]      show one account\n"
        "  --overview [--json]    pool and traffic numbers\n"
        "  --keys [--json]        list the client keys\n"
        "  --new-key NAME [LIMITS] [--expires TIME] [--note TEXT] [--quiet]\n"
        "                         create a client key; prints its secret once\n"
        "                         (--quiet: only the secret)\n"
        "  --key-edit ID [LIMITS] [--expires TIME] [--note TEXT]   change a key\n"
        "  --key-enable ID | --key-disable ID | --key-delete ID\n"
        "  --key-usage ID [--days N] [--json]   usage per day and model\n"
        "  LIMITS: --rpm N --tpm N --day N --month N --concurrent N (0 = unlimited)\n"
        "          --models LIST (comma list, '*' patterns) --group TAG (account tag)\n"
        "\n"
        "exit status: 0 ok, 1 API error, 2 usage error, 3 cannot connect, 4 auth failed\n",
        GG_ADMIN_DEFAULT_URL);
}

/* ---- signals ---- */

static volatile sig_atomic_t got_signal;

static void on_quit_signal(int sig)
{
    if (got_signal) {
        /* second signal: the loop is not reacting; restore and leave now */
        screen_restore_terminal();
        _exit(128 + sig);
    }
    got_signal = sig;
    app.quit = 1;
}

static void on_fatal_signal(int sig)
{
    /* handler was installed with SA_RESETHAND: re-raising kills us with the
     * default action after the terminal is usable again */
    screen_restore_terminal();
    raise(sig);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = (int)SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- config file ---- */

struct conf {
    char *url;
    char *key;
    const char *path;
};

static int conf_cb(void *ctx, const char *k, const char *v, int line)
{
    (void)line;
    struct conf *c = ctx;
    char **dst = NULL;
    if (strcmp(k, "GEMGATE_URL") == 0 || strcmp(k, "URL") == 0)
        dst = &c->url;
    else if (strcmp(k, "GEMGATE_ADMIN_KEY") == 0 || strcmp(k, "ADMIN_KEY") == 0)
        dst = &c->key;
    if (dst) {
        free(*dst);
        *dst = strdup(v);
        if (!*dst)
            return -1; /* out of memory: stop parsing (conf_load reports it) */
    }
    return 0;
}

static void conf_err(void *ctx, int line, const char *msg)
{
    const struct conf *c = ctx;
    fprintf(stderr, "gemctl-tui: %s:%d: %s (line ignored)\n", c->path, line, msg);
}

/* Read the settings file.  Returns 0 (also when an implicit default file is
 * absent), or -1 with a message on stderr.  The file holds the admin key,
 * so it must be a regular file owned by us and not readable by others. */
static int conf_load(const char *path, bool explicit_path, struct conf *c, char *why, size_t whyn)
{
    struct stat st;
    char buf[CONF_MAX + 1];
    why[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT && !explicit_path)
            return 0;
        snprintf(why, whyn, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whyn, "refusing to read %s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(why, whyn, "refusing to read %s: owned by uid %u, not by you", path,
                 (unsigned)st.st_uid);
        close(fd);
        return -1;
    }
    if (st.st_mode & 077) {
        snprintf(why, whyn,
                 "refusing to read %s: mode %04o lets other users read the admin key "
                 "(run: chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    ssize_t n = read(fd, buf, CONF_MAX);
    close(fd);
    if (n < 0) {
        snprintf(why, whyn, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    buf[n] = '\0';
    c->path = path;
    int rc = gg_env_parse(buf, (size_t)n, conf_cb, conf_err, c);
    memset(buf, 0, sizeof(buf));
    if (rc != 0) {
        snprintf(why, whyn, "cannot read %s: out of memory", path);
        return -1;
    }
    return 0;
}

static char *default_conf_path(void)
{
    const char *x = getenv("XDG_CONFIG_HOME");
    const char *h = getenv("HOME");
    char p[4096];
    if (x && *x)
        snprintf(p, sizeof(p), "%s/gemgate/tui.conf", x);
    else if (h && *h)
        snprintf(p, sizeof(p), "%s/.config/gemgate/tui.conf", h);
    else
        return NULL;
    return strdup(p);
}

/* ---- main ---- */

enum { OPT_LIST = 256, OPT_JSON, OPT_IMPORT, OPT_ENABLE, OPT_DISABLE, OPT_RESET, OPT_DELETE,
       OPT_TEST, OPT_OVERVIEW, OPT_GET, OPT_BINDINGS, OPT_KEYS, OPT_NEW_KEY, OPT_KEY_EDIT,
       OPT_KEY_ENABLE, OPT_KEY_DISABLE, OPT_KEY_DELETE, OPT_KEY_USAGE, OPT_RPM, OPT_TPM,
       OPT_DAY, OPT_MONTH, OPT_CONC, OPT_MODELS, OPT_GROUP, OPT_EXPIRES, OPT_NOTE, OPT_DAYS,
       OPT_QUIET };

static int set_cmd(struct cli_opts *o, const char *cmd, const char *arg)
{
    if (o->cmd) {
        fprintf(stderr, "gemctl-tui: --%s and --%s cannot be combined\n", o->cmd, cmd);
        return -1;
    }
    o->cmd = cmd;
    o->arg = arg;
    return 0;
}

static int run_tui(void)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "gemctl-tui: not a terminal (for scripts use --list, --import, ...; see --help)\n");
        return EX_USAGE;
    }
    if (log_ring_init(&app.log, 2000) < 0)
        return 1;
    acct_list_init(&app.accts);
    gg_buf_init(&app.imp.text, 8u * 1024 * 1024);
    app.acc.details = true;
    app.acc.test_id = -1;
    app.views[VIEW_ACCOUNTS] = &view_accounts;
    app.views[VIEW_LOG] = &view_log;
    app.views[VIEW_IMPORT] = &view_import;
    app.views[VIEW_KEYS] = &view_keys;
    app.views[VIEW_HELP] = &view_help;
    net_start(&app);
    if (!app.net) {
        fprintf(stderr, "gemctl-tui: cannot start the network threads\n");
        return 1;
    }
    if (screen_init(&app) < 0) {
        fprintf(stderr, "gemctl-tui: cannot initialise the terminal\n");
        gg_admin_async_free(app.net);
        return 1;
    }
    if (app.startup_msg[0])
        app_msg(&app, R_MSG_ERR, "%s", app.startup_msg);
    screen_run(&app);
    screen_end();
    gg_admin_async_free(app.net);
    app.net = NULL;
    cJSON_Delete(app.overview);
    cJSON_Delete(app.imp.report);
    cJSON_Delete(app.kv.list);
    cJSON_Delete(app.kv.usage);
    acct_list_free(&app.accts);
    log_ring_free(&app.log);
    gg_buf_free(&app.imp.text);
    return got_signal ? 128 + got_signal : 0;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "url", required_argument, NULL, 'u' },
        { "key", required_argument, NULL, 'k' },
        { "config", required_argument, NULL, 'c' },
        { "no-color", no_argument, NULL, 'C' },
        { "delay", required_argument, NULL, 'd' },
        { "max-iterations", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "bindings", no_argument, NULL, OPT_BINDINGS },
        { "keys", no_argument, NULL, OPT_KEYS },
        { "new-key", required_argument, NULL, OPT_NEW_KEY },
        { "key-edit", required_argument, NULL, OPT_KEY_EDIT },
        { "key-enable", required_argument, NULL, OPT_KEY_ENABLE },
        { "key-disable", required_argument, NULL, OPT_KEY_DISABLE },
        { "key-delete", required_argument, NULL, OPT_KEY_DELETE },
        { "key-usage", required_argument, NULL, OPT_KEY_USAGE },
        { "rpm", required_argument, NULL, OPT_RPM },
        { "tpm", required_argument, NULL, OPT_TPM },
        { "day", required_argument, NULL, OPT_DAY },
        { "month", required_argument, NULL, OPT_MONTH },
        { "concurrent", required_argument, NULL, OPT_CONC },
        { "models", required_argument, NULL, OPT_MODELS },
        { "group", required_argument, NULL, OPT_GROUP },
        { "expires", required_argument, NULL, OPT_EXPIRES },
        { "note", required_argument, NULL, OPT_NOTE },
        { "days", required_argument, NULL, OPT_DAYS },
        { "quiet", no_argument, NULL, OPT_QUIET },
        { "list", no_argument, NULL, OPT_LIST },
        { "json", no_argument, NULL, OPT_JSON },
        { "import", required_argument, NULL, OPT_IMPORT },
        { "enable", required_argument, NULL, OPT_ENABLE },
        { "disable", required_argument, NULL, OPT_DISABLE },
        { "reset", required_argument, NULL, OPT_RESET },
        { "delete", required_argument, NULL, OPT_DELETE },
        { "test", required_argument, NULL, OPT_TEST },
        { "get", required_argument, NULL, OPT_GET },
        { "overview", no_argument, NULL, OPT_OVERVIEW },
        { NULL, 0, NULL, 0 },
    };
    const char *url = NULL, *key = NULL, *conf_path = NULL;
    struct cli_opts co = { 0 };
    bool color = true;
    long delay_ms = 2000, maxit = 0;
    int c, rc = 0, nkopt = 0, ndays = 0, nquiet = 0;

    setlocale(LC_ALL, "");
    while ((c = getopt_long(argc, argv, "u:k:c:Cd:n:hV", lo, NULL)) != -1) {
        int bad = 0;
        char *end;
        switch (c) {
        case 'u': url = optarg; break;
        case 'k': key = optarg; break;
        case 'c': conf_path = optarg; break;
        case 'C': color = false; break;
        case 'd': {
            double d = strtod(optarg, &end);
            if (*end || d < 0.2 || d > 3600) {
                fprintf(stderr, "gemctl-tui: --delay must be 0.2..3600 seconds\n");
                return EX_USAGE;
            }
            delay_ms = (long)(d * 1000);
            break;
        }
        case 'n':
            maxit = strtol(optarg, &end, 10);
            if (*end || maxit <= 0) {
                fprintf(stderr, "gemctl-tui: --max-iterations must be a positive number\n");
                return EX_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("gemctl-tui 0.1.0\n"); return 0;
        case OPT_BINDINGS: help_print(stdout); return 0;
        case OPT_KEYS: bad = set_cmd(&co, "keys", NULL); break;
        case OPT_NEW_KEY: bad = set_cmd(&co, "new-key", optarg); break;
        case OPT_KEY_EDIT: bad = set_cmd(&co, "key-edit", optarg); break;
        case OPT_KEY_ENABLE: bad = set_cmd(&co, "key-enable", optarg); break;
        case OPT_KEY_DISABLE: bad = set_cmd(&co, "key-disable", optarg); break;
        case OPT_KEY_DELETE: bad = set_cmd(&co, "key-delete", optarg); break;
        case OPT_KEY_USAGE: bad = set_cmd(&co, "key-usage", optarg); break;
        case OPT_RPM: co.k.rpm = optarg; nkopt++; break;
        case OPT_TPM: co.k.tpm = optarg; nkopt++; break;
        case OPT_DAY: co.k.day = optarg; nkopt++; break;
        case OPT_MONTH: co.k.month = optarg; nkopt++; break;
        case OPT_CONC: co.k.concurrent = optarg; nkopt++; break;
        case OPT_MODELS: co.k.models = optarg; nkopt++; break;
        case OPT_GROUP: co.k.group = optarg; nkopt++; break;
        case OPT_EXPIRES: co.k.expires = optarg; nkopt++; break;
        case OPT_NOTE: co.k.note = optarg; nkopt++; break;
        case OPT_DAYS: co.k.days = optarg; ndays++; break;
        case OPT_QUIET: co.k.quiet = true; nquiet++; break;
        case OPT_JSON: co.json = true; break;
        case OPT_LIST: bad = set_cmd(&co, "list", NULL); break;
        case OPT_IMPORT: bad = set_cmd(&co, "import", optarg); break;
        case OPT_ENABLE: bad = set_cmd(&co, "enable", optarg); break;
        case OPT_DISABLE: bad = set_cmd(&co, "disable", optarg); break;
        case OPT_RESET: bad = set_cmd(&co, "reset", optarg); break;
        case OPT_DELETE: bad = set_cmd(&co, "delete", optarg); break;
        case OPT_TEST: bad = set_cmd(&co, "test", optarg); break;
        case OPT_GET: bad = set_cmd(&co, "get", optarg); break;
        case OPT_OVERVIEW: bad = set_cmd(&co, "overview", NULL); break;
        default: usage(stderr); return EX_USAGE;
        }
        if (bad)
            return EX_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "gemctl-tui: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EX_USAGE;
    }
    if (co.json && !co.cmd) {
        fprintf(stderr, "gemctl-tui: --json needs a command (--list, --overview, ...)\n");
        return EX_USAGE;
    }
    if (nkopt && (!co.cmd || (strcmp(co.cmd, "new-key") != 0 && strcmp(co.cmd, "key-edit") != 0))) {
        fprintf(stderr, "gemctl-tui: limit, --expires and --note options need --new-key or --key-edit\n");
        return EX_USAGE;
    }
    if ((ndays && (!co.cmd || strcmp(co.cmd, "key-usage") != 0)) ||
        (nquiet && (!co.cmd || strcmp(co.cmd, "new-key") != 0))) {
        fprintf(stderr, "gemctl-tui: --days needs --key-usage, --quiet needs --new-key\n");
        return EX_USAGE;
    }
    if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
        color = false;

    /* settings: command line > environment > config file > default */
    struct conf cf = { 0 };
    char why[600] = "";
    char *defpath = conf_path ? NULL : default_conf_path();
    const char *path = conf_path ? conf_path : defpath;
    if (path && conf_load(path, conf_path != NULL, &cf, why, sizeof(why)) < 0) {
        fprintf(stderr, "gemctl-tui: %s\n", why);
        if (conf_path) { /* asked for explicitly: do not silently go on */
            free(defpath);
            return EX_USAGE;
        }
    }
    if (!url)
        url = getenv("GEMGATE_URL");
    if (!url || !*url)
        url = cf.url;
    if (!key)
        key = getenv("GEMGATE_ADMIN_KEY");
    if (!key || !*key)
        key = cf.key;

    memset(&app, 0, sizeof(app));
    if (gg_admin_client_init(&app.cli, url, key) < 0) {
        fprintf(stderr, "gemctl-tui: out of memory\n");
        return 1;
    }
    if (cf.key) {
        memset(cf.key, 0, strlen(cf.key));
        free(cf.key);
    }
    free(cf.url);
    free(defpath);
    snprintf(app.startup_msg, sizeof(app.startup_msg), "%s", why);
    app.color = color;
    app.refresh_ms = (int)delay_ms;
    app.max_iterations = maxit;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "gemctl-tui: cannot initialise libcurl\n");
        gg_admin_client_free(&app.cli);
        return 1;
    }
    install_signals();
    if (co.cmd) {
        if (!app.cli.key)
            fprintf(stderr, "gemctl-tui: warning: no admin key (use GEMGATE_ADMIN_KEY, --key or tui.conf)\n");
        rc = cli_run(&app.cli, &co);
    } else {
        rc = run_tui();
    }
    gg_admin_client_free(&app.cli);
    curl_global_cleanup();
    return rc;
}
