/* model.h -- data behind the views: the account list (sort, filter,
 * selection kept by id) and the live-log ring.  Pure C, no ncurses, so it
 * is unit-tested directly (tests/unit/test_tui_logic.c).
 *
 * Ownership: an acct_list owns the cJSON reply it was given; struct acct
 * string fields point into it and stay valid until the next set/update.
 * A log_ring owns its lines.  Nothing here is thread-safe.
 */
#ifndef TUI_MODEL_H
#define TUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

enum acol { AC_ID, AC_NAME, AC_STATUS, AC_UNTIL, AC_LAST, AC_REQ, AC_ERR, AC_INFL,
            AC_SIGNIN, AC_REFRESH, AC_COOLING, AC_NCOLS };

/* kinds of work with their own cooldown (the account's "cooldowns" object) */
enum akind { AK_TEXT, AK_IMAGE, AK_VIDEO, AK_N };
extern const char *const akind_names[AK_N];

extern const char *const acol_names[AC_NCOLS];

struct acct {
    const cJSON *j;           /* the account object */
    long long id;
    const char *name, *status, *reason, *source, *csesidx, *config_id;
    const char *proxy, *note, *secure, *host;
    int64_t until_ms, last_used_ms;
    long long req, err, req_total, err_total, inflight;
    int64_t last_signin_ms;   /* last successful sign-in, 0 = none */
    long long refresh_count;  /* cookie refreshes without a browser */
    int64_t kind_until[AK_N]; /* per-kind cooldown end (ms), 0 = not cooling */
    const char *kind_reason[AK_N];
};

struct acct_list {
    cJSON *root;              /* owned: array of account objects */
    struct acct *v;           /* all accounts, in server order */
    size_t n;
    size_t *vis;              /* indices into v: filtered + sorted */
    size_t nvis;
    enum acol sort;
    bool desc;
    char filter[256];
    long long sel_id;         /* selected account id, -1 = none */
    size_t sel;               /* index into vis (valid when nvis > 0) */
    size_t top;               /* first visible row */
    bool loaded;              /* at least one list received */
};

void acct_list_init(struct acct_list *l);
void acct_list_free(struct acct_list *l);
/* Replace all accounts with the array `accounts` (ownership taken, also on
 * failure).  Rebuilds the view, keeping the selection by id.  0 / -1. */
int acct_list_set(struct acct_list *l, cJSON *accounts);
/* Insert or replace one account (a copy of obj is taken), e.g. from an SSE
 * "account" event.  0 / -1. */
int acct_list_upsert(struct acct_list *l, const cJSON *obj);
/* Remove an account by id (after a delete).  Returns 1 if found. */
int acct_list_remove(struct acct_list *l, long long id);
/* Re-apply filter and sort; keeps the selected id when still visible,
 * otherwise keeps the row index (clamped). */
int acct_list_rebuild(struct acct_list *l);
void acct_list_set_filter(struct acct_list *l, const char *f);
void acct_list_set_sort(struct acct_list *l, enum acol col, bool desc);
/* Move the selection by delta rows (clamped) / to a row. */
void acct_list_move(struct acct_list *l, long delta);
void acct_list_select_row(struct acct_list *l, size_t row);
/* Keep sel within [top, top+height). */
void acct_list_scroll(struct acct_list *l, size_t height);
const struct acct *acct_list_selected(const struct acct_list *l);
const struct acct *acct_list_row(const struct acct_list *l, size_t row);
const struct acct *acct_list_find(const struct acct_list *l, long long id);

/* Does the account match the filter (case-insensitive substring of name,
 * status, csesidx, config_id, note, proxy or "#id")? */
bool acct_matches(const struct acct *a, const char *filter);
/* Compare for sorting by col (ties broken by id). */
int acct_cmp(const struct acct *a, const struct acct *b, enum acol col, bool desc);
/* Fill a from the JSON object (pointers into obj). */
void acct_from_json(struct acct *a, const cJSON *obj);
/* The per-kind cooldowns running at now_ms.  Compact (the table, `--list`):
 * "img 14:02" for one kind (local HH:MM of its end), "img,vid" for several,
 * "-" for none.  Long (the detail pane): "image until 14:02:33 (429 ...),
 * video until ..." or "none".  Returns the number of kinds cooling. */
int acct_cooldowns_format(const struct acct *a, int64_t now_ms, bool compact, char *out, size_t n);

/* ---- overview (pure helpers for the header and `--overview`) ---- */

/* Models of the overview: *total listed; returns how many are unavailable
 * and describes the first ("gemini-3-pro-preview until 15:17 (+1 more)",
 * or "" when all are available) into out. */
int ov_models_unavailable(const cJSON *ov, int *total, char *out, size_t n);
/* Non-zero request counts per dialect ("openai 3  anthropic 1"), "" when none. */
void ov_dialects(const cJSON *ov, char *out, size_t n);

/* ---- live log ---- */

enum log_level { LOG_OK = 0, LOG_WARN, LOG_ERR, LOG_INFO };

struct log_line {
    char *text;
    enum log_level level;
    uint64_t seq;
    char id[64];              /* request_id for de-duplication, or "" */
};

struct log_ring {
    struct log_line *v;
    size_t cap, start, n;
    uint64_t next_seq;
    bool follow;              /* keep the newest line in view */
    bool paused;              /* show only lines with seq <= pause_seq */
    uint64_t pause_seq;
    size_t top;               /* first shown row (index among shown) */
    char filter[128];
};

int log_ring_init(struct log_ring *r, size_t cap);
void log_ring_free(struct log_ring *r);
void log_ring_clear(struct log_ring *r);
/* Append a line (copied).  With a non-empty id, a line with the same id
 * already in the ring is not added again.  Returns 1 added, 0 duplicate,
 * -1 out of memory. */
int log_ring_add(struct log_ring *r, const char *text, enum log_level lvl, const char *id);
/* i-th oldest line, i < n. */
const struct log_line *log_ring_at(const struct log_ring *r, size_t i);
/* Indices (into log_ring_at) of the lines currently shown (filter + pause)
 * into idx (capacity cap); returns the count. */
size_t log_ring_shown(const struct log_ring *r, size_t *idx, size_t cap);

/* Format a Log object ("event: request") as one line.  level and id may be
 * NULL.  Returns 0, or -1 when obj is not an object. */
int log_format_request(const cJSON *obj, char *out, size_t n, enum log_level *level,
                       char *id, size_t idn);
/* Format an Account object ("event: account") as one line. */
int log_format_account(const cJSON *obj, char *out, size_t n);

/* JSON helpers */
const char *js_str(const cJSON *o, const char *k);        /* NULL if absent/not string */
long long js_int(const cJSON *o, const char *k, long long def);
double js_num(const cJSON *o, const char *k, double def);
int64_t js_time(const cJSON *o, const char *k);           /* ms or 0 */

#endif

/* ---- account table layout (shared by the TUI and `--list`) ---- */

/* Column widths for a table `cols` columns wide; the name column takes
 * what is left (at least 6).  Returns the total width. */
int acct_columns(int cols, int widths[AC_NCOLS]);
/* Column titles line; the sort column is marked with ^ / v.  *sort_x and
 * *sort_w (may be NULL) receive the position of the sort column title. */
void acct_format_header(int cols, enum acol sort, bool desc, char *out, size_t n,
                        int *sort_x, int *sort_w);
/* One row, exactly `cols` display columns.  *status_x / *status_w give the
 * status cell for colouring (may be NULL). */
void acct_format_row(const struct acct *a, int64_t now_ms, int cols, char *out, size_t n,
                     int *status_x, int *status_w);
