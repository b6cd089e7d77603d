/* app.h -- the hub of gemctl-tui: application state, the view table
 * contract (struct view_ops) and the generic dispatch that drives any view.
 *
 * Layout (tig/htop style; arrows point to what a module uses):
 *   main -> screen -> {header, form, net} -> app -> {keys, model, draw} -> text
 *   main -> view_* -> {app, draw, form, net}      cli -> {model, esc, text}
 * No module below app includes a view header: the views are reached only
 * through the table a->views[] that main.c fills, and network results only
 * through the callback stored with each request (net.h).
 *
 * Ownership: struct app owns everything it points to (overview JSON, the
 * account list, the log ring, the import buffer and report); main.c frees
 * it at exit.  Views keep their private state here too, in their own
 * sub-struct, so a view needs no globals.
 *
 * Threading: touched only by the UI thread; the network runs in
 * gg_admin_async worker threads and comes back as results (net.c).
 */
#ifndef TUI_APP_H
#define TUI_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <curses.h>

#include "draw.h"
#include "gg_admin_client.h"
#include "gg_buf.h"
#include "keys.h"
#include "model.h"

enum dirty {
    D_HEADER = 1, D_TABS = 2, D_BODY = 4, D_STATUS = 8, D_HINTS = 16, D_ALL = 31
};

enum conn_state { CONN_CONNECTING = 0, CONN_OK, CONN_DOWN, CONN_AUTH, CONN_LOCKED };

struct app;

/* One view (tig's struct view_ops).  Every hook gets the application; the
 * body window is a->w_body.  NULL hooks are skipped. */
struct view_ops {
    const char *name;         /* "Accounts" (help, tests) */
    const char *tab;          /* label in the tabs line, " 1 Accounts " */
    /* became / stops being the current view */
    void (*open)(struct app *a);
    void (*close)(struct app *a);
    /* draw the body window (a->w_body); called when D_BODY is set */
    void (*draw)(struct app *a);
    /* an action from the key table; true = consumed (else global handling) */
    bool (*action)(struct app *a, enum action act);
    /* raw keys before the key table (text entry); true = consumed */
    bool (*text_key)(struct app *a, int key, bool is_code);
    /* a live-stream event ("request", "account") for every view, current or
     * not; data may be NULL.  Must not keep data. */
    void (*on_event)(struct app *a, const char *event, const cJSON *data);
    /* what the view shows, right side of the tabs line ("sort: id asc") */
    void (*tab_info)(struct app *a, char *out, size_t n);
};

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

struct app {
    /* settings */
    struct gg_admin_client cli;
    bool color;
    int refresh_ms;
    long max_iterations;      /* -n: exit after this many loop passes (tests) */
    char startup_msg[640];

    /* views: filled by main.c; every slot non-NULL */
    const struct view_ops *views[VIEW_N];

    /* runtime */
    struct gg_admin_async *net;
    volatile int quit;
    enum view view, prev_view;
    unsigned dirty;
    bool force_full;          /* next frame repaints the whole terminal */

    /* connection (net.c) */
    enum conn_state conn;
    int64_t retry_at;         /* mono ms: next probe when not CONN_OK */
    int64_t backoff_ms;
    int64_t next_refresh;     /* mono ms */
    bool ov_inflight, acc_inflight;
    char conn_detail[256];
    bool stream_up;

    /* status line */
    char msg[512];
    enum role msg_role;
    int64_t msg_until;        /* mono ms, 0 = sticky until replaced */
    int64_t last_status_sec;

    /* shared data */
    cJSON *overview;
    struct acct_list accts;
    struct log_ring log;
    int64_t refreshed_at;     /* wall ms of the last accounts list */

    /* accounts view */
    struct {
        bool details;         /* detail pane */
        long long test_id;    /* account of the last test result */
        char test_result[256];
        long long edit_id;    /* account of the open edit chain */
        char edit_secure[FORM_MAX];
    } acc;

    /* import view */
    struct {
        struct gg_buf text;   /* text being edited */
        size_t cur;           /* cursor byte offset */
        size_t top;           /* first shown line */
        cJSON *report;        /* last report, shown instead of the editor */
        size_t rep_top;
        bool busy;
    } imp;

    /* client keys view (view_keys.c) */
    struct {
        cJSON *list;          /* last GET /keys reply ({"keys":[...]}), or NULL */
        size_t sel, top;      /* selected / first shown row */
        long long sel_id;     /* selection kept by key id across reloads */
        bool loading, usage_on, usage_loading;
        int64_t next_load;    /* mono ms */
        cJSON *usage;         /* last usage reply (of usage_id) */
        long long usage_id, edit_id;
        char new_name[128];
        char secret[128];     /* a new key's secret while its dialog is open; wiped on close */
        char secret_name[128];
    } kv;

    /* help view */
    size_t help_top;

    struct form form;

    /* windows */
    WINDOW *w_head, *w_tabs, *w_body, *w_status, *w_hints;
    int rows, cols;
};

/* Status line message (printf format), shown 5 s (errors 10 s). */
void app_msg(struct app *a, enum role r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A timestamped line of our own in the live log ("--- stream lost"). */
void app_note(struct app *a, enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Make v current (close/open hooks run; no-op when it already is). */
void app_switch_view(struct app *a, enum view v);
/* Route one key (no prompt open): the current view's text_key, then the key
 * table, then app_dispatch.  Returns the action when nobody consumed it
 * (the caller handles ACT_REFRESH), else ACT_NONE. */
enum action app_key(struct app *a, int key, bool is_code);
/* The current view's action hook, then the global actions (quit, help,
 * view switches, back).  Returns true when the action was consumed. */
bool app_dispatch(struct app *a, enum action act);
/* Give a stream event to every view's on_event. */
void app_broadcast(struct app *a, const char *event, const cJSON *data);

#endif
