/* tui.h -- the hub of gemctl-tui: application state shared by the modules.
 *
 * Module map (htop/tig style, one concern per file):
 *   main.c          arguments, config file, signals, CLI dispatch
 *   cli.c           non-interactive mode (--list, --import, ...)
 *   screen.c        curses setup/teardown, colour roles, layout, main loop
 *   header.c        overview numbers (two lines) and the view tabs
 *   keys.c          the key-binding table -> actions, help text, hints bar
 *   form.c          line-edit prompts and y/n confirmations (status line)
 *   net.c           async requests, periodic refresh, connection state
 *   view_*.c        one file per view: accounts, log, import, help
 *   model.c/text.c  pure logic (no curses): sorting, filtering, widths
 *
 * Threading: everything here is touched only by the UI thread; the network
 * runs in gg_admin_async worker threads and comes back as results.
 */
#ifndef TUI_TUI_H
#define TUI_TUI_H

#include <stdbool.h>
#include <stdint.h>
#include <curses.h>
#include <stdio.h>

#include "gg_admin_client.h"
#include "gg_buf.h"
#include "model.h"

enum view { VIEW_ACCOUNTS = 0, VIEW_LOG, VIEW_IMPORT, VIEW_HELP, VIEW_N };

#define V_ACC  (1u << VIEW_ACCOUNTS)
#define V_LOG  (1u << VIEW_LOG)
#define V_IMP  (1u << VIEW_IMPORT)
#define V_HELP (1u << VIEW_HELP)
#define V_ALL  (V_ACC | V_LOG | V_IMP | V_HELP)

enum dirty {
    D_HEADER = 1, D_TABS = 2, D_BODY = 4, D_STATUS = 8, D_HINTS = 16, D_ALL = 31
};

/* colour roles (screen.c maps them to pairs or monochrome attributes) */
enum role {
    R_NORMAL = 0, R_HEADER, R_HEADER_VAL, R_TAB, R_TAB_ACTIVE, R_COLHDR, R_COLHDR_SORT,
    R_SELECTED, R_ST_ACTIVE, R_ST_COOLDOWN, R_ST_EXPIRED, R_ST_DISABLED,
    R_BAR_KEY, R_BAR_LABEL, R_MSG_ERR, R_MSG_OK, R_MSG_INFO, R_LOG_WARN, R_LOG_ERR,
    R_DIM, R_TITLE, R_NROLES
};

enum conn_state { CONN_CONNECTING = 0, CONN_OK, CONN_DOWN, CONN_AUTH, CONN_LOCKED };

enum action {
    ACT_NONE = 0, ACT_QUIT, ACT_HELP, ACT_VIEW_ACC, ACT_VIEW_LOG, ACT_VIEW_IMP, ACT_NEXT_VIEW,
    ACT_BACK, ACT_UP, ACT_DOWN, ACT_PGUP, ACT_PGDN, ACT_HOME, ACT_END, ACT_FILTER,
    ACT_SORT_NEXT, ACT_SORT_PREV, ACT_SORT_INVERT, ACT_DETAILS, ACT_REFRESH,
    ACT_ENABLE, ACT_DISABLE, ACT_RESET, ACT_TEST, ACT_DELETE,
    ACT_EDIT, ACT_EDIT_NAME, ACT_EDIT_PROXY, ACT_EDIT_NOTE, ACT_EDIT_COOKIES,
    ACT_FOLLOW, ACT_PAUSE, ACT_LOG_CLEAR,
    ACT_IMP_FILE, ACT_IMP_SUBMIT, ACT_IMP_CLEAR,
    ACT_NACTIONS
};

/* request kinds (the async tag) */
enum req_kind { RQ_OVERVIEW = 1, RQ_ACCOUNTS, RQ_ACCOUNT, RQ_DELETE, RQ_TEST, RQ_IMPORT };

struct app;
typedef void (*form_done_fn)(struct app *a, bool ok, const char *value);
typedef void (*form_change_fn)(struct app *a, const char *value);

#define FORM_MAX 8400

struct form {
    bool active;
    bool yesno;               /* single-key y/n confirmation */
    bool choice;              /* single-key choice among `choices` */
    bool secret;              /* do not echo the value */
    char prompt[160];
    char choices[16];
    char buf[FORM_MAX];
    size_t len, cur;          /* bytes */
    form_done_fn done;
    form_change_fn change;    /* called after each edit (incremental filter) */
};

struct pending {
    long id;
    enum req_kind kind;
    long long acct_id;
    char desc[128];
};

#define MAX_PENDING 64

struct app {
    /* settings */
    struct gg_admin_client cli;
    bool color;
    int refresh_ms;
    long max_iterations;      /* -n: exit after this many loop passes (tests) */
    char startup_msg[640];

    /* runtime */
    struct gg_admin_async *net;
    volatile int quit;
    enum view view, prev_view;
    unsigned dirty;
    bool force_full;          /* next frame repaints the whole terminal */

    /* connection */
    enum conn_state conn;
    int64_t retry_at;         /* mono ms: next probe when not CONN_OK */
    int64_t backoff_ms;
    int64_t next_refresh;     /* mono ms */
    bool ov_inflight, acc_inflight;
    char conn_detail[256];
    struct pending pend[MAX_PENDING];
    bool stream_up;

    /* status line */
    char msg[512];
    enum role msg_role;
    int64_t msg_until;        /* mono ms, 0 = sticky until replaced */
    int64_t last_status_sec;

    /* data */
    cJSON *overview;
    struct acct_list accts;
    struct log_ring log;
    bool details;             /* detail pane on the accounts view */
    long long test_id;        /* account of the last test result */
    char test_result[256];
    int64_t refreshed_at;     /* wall ms of the last accounts list */

    /* import view */
    struct gg_buf imp;        /* text being edited */
    size_t imp_cur;           /* cursor byte offset */
    size_t imp_top;           /* first shown line */
    cJSON *imp_report;        /* last report, shown instead of the editor */
    size_t imp_rep_top;
    bool imp_busy;

    /* help view */
    size_t help_top;

    /* edit chain state */
    long long edit_id;
    char edit_secure[FORM_MAX];

    struct form form;

    /* windows */
    WINDOW *w_head, *w_tabs, *w_body, *w_status, *w_hints;
    int rows, cols;
};

/* screen.c */
int screen_init(struct app *a);
void screen_end(void);
void screen_layout(struct app *a);
int screen_attr(enum role r);
int screen_run(struct app *a);
void screen_restore_terminal(void);   /* async-signal path: endwin only */
/* print s fitted to w columns at (y,x) with attribute attr; pads. */
void screen_put(WINDOW *win, int y, int x, int w, int attr, const char *s);
/* horizontal rule across w columns (U+2500 in UTF-8 locales, else "-"). */
void screen_hline(WINDOW *win, int y, int w, int attr);

/* status line messages (screen.c) */
void app_msg(struct app *a, enum role r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* header.c */
void header_draw(struct app *a);
void tabs_draw(struct app *a);

/* keys.c */
struct keydef {
    enum action act;
    unsigned views;
    int fkey;                 /* 1..12 for the hints bar, 0 = none */
    int keys[3];              /* KC(code) for curses key codes, else the character */
    const char *hint;         /* label in the hints bar (NULL = not shown) */
    const char *help;
};
#define KC(code) ((code) | 0x40000000)
extern const struct keydef keytab[];
extern const size_t keytab_n;
enum action keys_lookup(enum view v, int key);
void keys_name(int key, char *out, size_t n);
void keys_hints_draw(struct app *a);
const char *keys_view_name(enum view v);

/* form.c */
void form_open(struct app *a, const char *prompt, const char *initial, bool secret,
               form_done_fn done, form_change_fn change);
void form_confirm(struct app *a, const char *prompt, form_done_fn done);
void form_choice(struct app *a, const char *prompt, const char *choices, form_done_fn done);
void form_key(struct app *a, int key, bool is_code);
void form_draw(struct app *a);

/* net.c */
void net_start(struct app *a);
void net_tick(struct app *a, int64_t now);
void net_process(struct app *a);
long net_submit(struct app *a, const char *method, const char *path, const char *body,
                size_t len, const char *ctype, enum req_kind kind, long long acct_id,
                const char *desc);
void net_refresh_now(struct app *a);
int64_t net_next_due(struct app *a, int64_t now);
void net_status_text(struct app *a, int64_t now, char *out, size_t n, enum role *r);

/* views */
void acc_draw(struct app *a);
bool acc_action(struct app *a, enum action act);
void acc_on_account(struct app *a, const cJSON *acct);

void logv_draw(struct app *a);
bool logv_action(struct app *a, enum action act);
void logv_on_event(struct app *a, const char *event, const cJSON *data);
void logv_note(struct app *a, enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void imp_draw(struct app *a);
bool imp_action(struct app *a, enum action act);
bool imp_text_key(struct app *a, int key, bool is_code);
void imp_on_report(struct app *a, cJSON *report, const struct gg_admin_error *err);
void imp_submit_file(struct app *a, const char *path);

void help_draw(struct app *a);
bool help_action(struct app *a, enum action act);
void help_print(FILE *out);

/* cli.c */
struct cli_opts {
    const char *cmd;          /* "list", "import", "enable", ... */
    const char *arg;
    bool json;
};
int cli_run(struct gg_admin_client *c, const struct cli_opts *o);

#endif
