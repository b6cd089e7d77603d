/* model.c -- see model.h */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gg_time.h"
#include "text.h"

const char *const acol_names[AC_NCOLS] = {
    "id", "name", "status", "until", "last used", "requests", "errors", "in flight",
    "sign-in", "refreshes", "cooling"
};

const char *const akind_names[AK_N] = { "text", "image", "video" };
static const char *const akind_short[AK_N] = { "txt", "img", "vid" };

/* ---- JSON helpers ---- */

const char *js_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

long long js_int(const cJSON *o, const char *k, long long def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : def;
}

double js_num(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int64_t js_time(const cJSON *o, const char *k)
{
    const char *s = js_str(o, k);
    int64_t t = s ? gg_parse_time(s) : -1;
    return t > 0 ? t : 0;
}

/* ---- accounts ---- */

static const char *nz(const char *s)
{
    return s ? s : "";
}

void acct_from_json(struct acct *a, const cJSON *o)
{
    memset(a, 0, sizeof(*a));
    a->j = o;
    a->id = js_int(o, "id", -1);
    a->name = nz(js_str(o, "name"));
    a->status = nz(js_str(o, "status"));
    a->reason = nz(js_str(o, "reason"));
    a->source = nz(js_str(o, "source"));
    a->csesidx = nz(js_str(o, "csesidx"));
    a->config_id = nz(js_str(o, "config_id"));
    a->proxy = nz(js_str(o, "proxy"));
    a->note = nz(js_str(o, "note"));
    a->secure = nz(js_str(o, "secure_c_ses"));
    a->host = nz(js_str(o, "host_c_oses"));
    a->until_ms = js_time(o, "until");
    a->last_used_ms = js_time(o, "last_used_at");
    a->req = js_int(o, "requests_today", 0);
    a->err = js_int(o, "errors_today", 0);
    a->req_total = js_int(o, "requests_total", 0);
    a->err_total = js_int(o, "errors_total", 0);
    a->inflight = js_int(o, "inflight", 0);
    a->last_signin_ms = js_time(o, "last_signin_at");
    a->refresh_count = js_int(o, "refresh_count", 0);
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(o, "cooldowns");
    for (int k = 0; k < AK_N; k++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(cd, akind_names[k]);
        a->kind_until[k] = js_time(e, "until");
        a->kind_reason[k] = nz(js_str(e, "reason"));
    }
}

/* local HH:MM or HH:MM:SS */
static void clock_fmt(int64_t ms, bool secs, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    if (secs)
        snprintf(out, n, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    else
        snprintf(out, n, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

int acct_cooldowns_format(const struct acct *a, int64_t now, bool compact, char *out, size_t n)
{
    char t[16];
    int cnt = 0, first = -1;
    size_t o = 0;
    if (!n)
        return 0;
    out[0] = '\0';
    for (int k = 0; k < AK_N; k++) {
        if (a->kind_until[k] <= now)
            continue;
        if (first < 0)
            first = k;
        cnt++;
        if (compact) {
            o += (size_t)snprintf(out + o, n - o, "%s%s", cnt > 1 ? "," : "", akind_short[k]);
        } else {
            clock_fmt(a->kind_until[k], true, t, sizeof(t));
            o += (size_t)snprintf(out + o, n - o, "%s%s until %s%s%s%s", cnt > 1 ? ", " : "",
                                  akind_names[k], t, a->kind_reason[k][0] ? " (" : "",
                                  a->kind_reason[k], a->kind_reason[k][0] ? ")" : "");
        }
        if (o >= n) {
            o = n - 1;
            break;
        }
    }
    if (cnt == 0)
        snprintf(out, n, "%s", compact ? "-" : "none");
    else if (compact && cnt == 1) {
        clock_fmt(a->kind_until[first], false, t, sizeof(t));
        snprintf(out, n, "%s %s", akind_short[first], t);
    }
    return cnt;
}

/* ---- overview ---- */

int ov_models_unavailable(const cJSON *ov, int *total, char *out, size_t n)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(ov, "models"), *m;
    if (!cJSON_IsArray(ms))
        ms = NULL;
    int down = 0;
    char t[16] = "";
    *total = 0;
    if (n)
        out[0] = '\0';
    cJSON_ArrayForEach(m, ms) {
        (*total)++;
        if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "available")))
            continue;
        if (down++ == 0 && n) {
            int64_t until = js_time(m, "unavailable_until");
            if (until)
                clock_fmt(until, false, t, sizeof(t));
            snprintf(out, n, "%s%s%s", nz(js_str(m, "id")), until ? " until " : "", t);
        }
    }
    if (down > 1 && n) {
        size_t l = strlen(out);
        snprintf(out + l, n - l, " (+%d more)", down - 1);
    }
    return down;
}

void ov_dialects(const cJSON *ov, char *out, size_t n)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(ov, "requests_by_dialect"), *e;
    if (!cJSON_IsObject(d))
        d = NULL;
    size_t o = 0;
    if (!n)
        return;
    out[0] = '\0';
    cJSON_ArrayForEach(e, d) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 1 || !e->string || o + 1 >= n)
            continue;
        int w = snprintf(out + o, n - o, "%s%s %lld", o ? "  " : "", e->string, (long long)e->valuedouble);
        o = w < 0 ? o : o + (size_t)w >= n ? n - 1 : o + (size_t)w;
    }
}

void acct_list_init(struct acct_list *l)
{
    memset(l, 0, sizeof(*l));
    l->sort = AC_ID;
    l->sel_id = -1;
}

void acct_list_free(struct acct_list *l)
{
    cJSON_Delete(l->root);
    free(l->v);
    free(l->vis);
    l->root = NULL;
    l->v = NULL;
    l->vis = NULL;
    l->n = l->nvis = 0;
}

/* Re-derive v[] from root (after any change to root). */
static int reindex(struct acct_list *l)
{
    size_t n = (size_t)cJSON_GetArraySize(l->root);
    struct acct *v = n ? calloc(n, sizeof(*v)) : NULL;
    size_t *vis = n ? calloc(n, sizeof(*vis)) : NULL;
    if (n && (!v || !vis)) {
        free(v);
        free(vis);
        return -1;
    }
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, l->root) {
        if (i < n)
            acct_from_json(&v[i++], it);
    }
    free(l->v);
    free(l->vis);
    l->v = v;
    l->vis = vis;
    l->n = i;
    l->nvis = 0;
    return acct_list_rebuild(l);
}

int acct_list_set(struct acct_list *l, cJSON *accounts)
{
    if (!cJSON_IsArray(accounts)) {
        cJSON_Delete(accounts);
        return -1;
    }
    cJSON_Delete(l->root);
    l->root = accounts;
    l->loaded = true;
    return reindex(l);
}

int acct_list_upsert(struct acct_list *l, const cJSON *obj)
{
    long long id = js_int(obj, "id", -1);
    if (id < 0)
        return -1;
    if (!l->root) {
        l->root = cJSON_CreateArray();
        if (!l->root)
            return -1;
    }
    cJSON *copy = cJSON_Duplicate(obj, 1);
    if (!copy)
        return -1;
    cJSON *it;
    cJSON_ArrayForEach(it, l->root) {
        if (js_int(it, "id", -2) == id) {
            cJSON_ReplaceItemViaPointer(l->root, it, copy);
            return reindex(l);
        }
    }
    cJSON_AddItemToArray(l->root, copy);
    return reindex(l);
}

int acct_list_remove(struct acct_list *l, long long id)
{
    cJSON *it;
    cJSON_ArrayForEach(it, l->root) {
        if (js_int(it, "id", -2) == id) {
            cJSON_Delete(cJSON_DetachItemViaPointer(l->root, it));
            reindex(l);
            return 1;
        }
    }
    return 0;
}

bool acct_matches(const struct acct *a, const char *f)
{
    char idbuf[32];
    if (!f || !*f)
        return true;
    snprintf(idbuf, sizeof(idbuf), "#%lld", a->id);
    return tx_icontains(a->name, f) || tx_icontains(a->status, f) ||
           tx_icontains(a->csesidx, f) || tx_icontains(a->config_id, f) ||
           tx_icontains(a->note, f) || tx_icontains(a->proxy, f) || strcmp(idbuf, f) == 0;
}

static int cmp_ll(long long x, long long y)
{
    return x < y ? -1 : x > y;
}

static int status_rank(const char *s)
{
    if (strcmp(s, "active") == 0) return 0;
    if (strcmp(s, "cooldown") == 0) return 1;
    if (strcmp(s, "expired") == 0) return 2;
    if (strcmp(s, "disabled") == 0) return 3;
    return 4;
}

static int cmp_name(const char *x, const char *y)
{
    for (;; x++, y++) {
        int a = (unsigned char)*x, b = (unsigned char)*y;
        if (a >= 'A' && a <= 'Z') a += 32;
        if (b >= 'A' && b <= 'Z') b += 32;
        if (a != b || !a)
            return a < b ? -1 : a > b;
    }
}

int acct_cmp(const struct acct *a, const struct acct *b, enum acol col, bool desc)
{
    int r = 0;
    switch (col) {
    case AC_ID: r = 0; break;
    case AC_NAME: r = cmp_name(a->name, b->name); break;
    case AC_STATUS: r = status_rank(a->status) - status_rank(b->status); break;
    case AC_UNTIL:
        /* accounts without a deadline sort after those with one */
        if (!a->until_ms != !b->until_ms)
            r = a->until_ms ? -1 : 1;
        else
            r = cmp_ll(a->until_ms, b->until_ms);
        break;
    case AC_LAST: r = cmp_ll(a->last_used_ms, b->last_used_ms); break;
    case AC_REQ: r = cmp_ll(a->req, b->req); break;
    case AC_ERR: r = cmp_ll(a->err, b->err); break;
    case AC_INFL: r = cmp_ll(a->inflight, b->inflight); break;
    case AC_SIGNIN: r = cmp_ll(a->last_signin_ms, b->last_signin_ms); break;
    case AC_REFRESH: r = cmp_ll(a->refresh_count, b->refresh_count); break;
    case AC_COOLING: {
        /* the soonest end of a running kind cooldown; none sorts last */
        int64_t x = 0, y = 0;
        for (int k = 0; k < AK_N; k++) {
            if (a->kind_until[k] && (!x || a->kind_until[k] < x))
                x = a->kind_until[k];
            if (b->kind_until[k] && (!y || b->kind_until[k] < y))
                y = b->kind_until[k];
        }
        r = !x != !y ? (x ? -1 : 1) : cmp_ll(x, y);
        break;
    }
    case AC_NCOLS: break;
    }
    if (r == 0)
        r = cmp_ll(a->id, b->id);
    return desc ? -r : r;
}

static const struct acct_list *sort_ctx; /* qsort has no context argument */

static int vis_cmp(const void *x, const void *y)
{
    const struct acct *a = &sort_ctx->v[*(const size_t *)x];
    const struct acct *b = &sort_ctx->v[*(const size_t *)y];
    return acct_cmp(a, b, sort_ctx->sort, sort_ctx->desc);
}

int acct_list_rebuild(struct acct_list *l)
{
    size_t oldsel = l->sel;
    l->nvis = 0;
    for (size_t i = 0; i < l->n; i++)
        if (acct_matches(&l->v[i], l->filter))
            l->vis[l->nvis++] = i;
    if (l->nvis > 1) {
        sort_ctx = l;
        qsort(l->vis, l->nvis, sizeof(*l->vis), vis_cmp);
        sort_ctx = NULL;
    }
    if (l->nvis == 0) {
        l->sel = 0;
        l->top = 0;
        return 0;
    }
    for (size_t r = 0; r < l->nvis; r++) {
        if (l->v[l->vis[r]].id == l->sel_id) {
            l->sel = r;
            return 0;
        }
    }
    /* the selected account is gone or hidden: stay on the same row */
    l->sel = oldsel < l->nvis ? oldsel : l->nvis - 1;
    l->sel_id = l->v[l->vis[l->sel]].id;
    return 0;
}

void acct_list_set_filter(struct acct_list *l, const char *f)
{
    snprintf(l->filter, sizeof(l->filter), "%s", f ? f : "");
    acct_list_rebuild(l);
}

void acct_list_set_sort(struct acct_list *l, enum acol col, bool desc)
{
    l->sort = col;
    l->desc = desc;
    acct_list_rebuild(l);
}

void acct_list_select_row(struct acct_list *l, size_t row)
{
    if (l->nvis == 0)
        return;
    if (row >= l->nvis)
        row = l->nvis - 1;
    l->sel = row;
    l->sel_id = l->v[l->vis[row]].id;
}

void acct_list_move(struct acct_list *l, long delta)
{
    if (l->nvis == 0)
        return;
    long r = (long)l->sel + delta;
    if (r < 0)
        r = 0;
    acct_list_select_row(l, (size_t)r);
}

void acct_list_scroll(struct acct_list *l, size_t h)
{
    if (h == 0)
        return;
    if (l->sel < l->top)
        l->top = l->sel;
    if (l->sel >= l->top + h)
        l->top = l->sel - h + 1;
    if (l->nvis <= h)
        l->top = 0;
    else if (l->top > l->nvis - h)
        l->top = l->nvis - h;
}

const struct acct *acct_list_row(const struct acct_list *l, size_t row)
{
    return row < l->nvis ? &l->v[l->vis[row]] : NULL;
}

const struct acct *acct_list_selected(const struct acct_list *l)
{
    return acct_list_row(l, l->sel);
}

const struct acct *acct_list_find(const struct acct_list *l, long long id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].id == id)
            return &l->v[i];
    return NULL;
}

/* ---- log ring ---- */

int log_ring_init(struct log_ring *r, size_t cap)
{
    memset(r, 0, sizeof(*r));
    r->v = calloc(cap ? cap : 1, sizeof(*r->v));
    if (!r->v)
        return -1;
    r->cap = cap ? cap : 1;
    r->follow = true;
    r->next_seq = 1;
    return 0;
}

void log_ring_clear(struct log_ring *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[(r->start + i) % r->cap].text);
    r->start = r->n = 0;
    r->top = 0;
}

void log_ring_free(struct log_ring *r)
{
    log_ring_clear(r);
    free(r->v);
    r->v = NULL;
}

/* i-th oldest slot; the caller guarantees i < r->n (never NULL) */
static const struct log_line *ring_slot(const struct log_ring *r, size_t i)
{
    return &r->v[(r->start + i) % r->cap];
}

const struct log_line *log_ring_at(const struct log_ring *r, size_t i)
{
    return i < r->n ? ring_slot(r, i) : NULL;
}

int log_ring_add(struct log_ring *r, const char *text, enum log_level lvl, const char *id)
{
    if (id && *id) {
        /* ring_slot, not log_ring_at: i < n holds by construction, and
         * the NULL branch of log_ring_at would be dereferenced here */
        for (size_t i = r->n; i-- > 0;) {
            if (strcmp(ring_slot(r, i)->id, id) == 0)
                return 0;
        }
    }
    char *t = strdup(text);
    if (!t)
        return -1;
    struct log_line *ln;
    if (r->n == r->cap) {
        ln = &r->v[r->start];
        free(ln->text);
        r->start = (r->start + 1) % r->cap;
        if (r->top > 0 && !r->follow)
            r->top--; /* keep the same lines in view */
    } else {
        ln = &r->v[(r->start + r->n) % r->cap];
        r->n++;
    }
    ln->text = t;
    ln->level = lvl;
    ln->seq = r->next_seq++;
    snprintf(ln->id, sizeof(ln->id), "%s", id ? id : "");
    return 1;
}

size_t log_ring_shown(const struct log_ring *r, size_t *idx, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n && k < cap; i++) {
        const struct log_line *ln = ring_slot(r, i);
        if (r->paused && ln->seq > r->pause_seq)
            break;
        if (!tx_icontains(ln->text, r->filter))
            continue;
        idx[k++] = i;
    }
    return k;
}

static void hhmmss(int64_t ms, char *out, size_t n)
{
    if (ms <= 0) {
        snprintf(out, n, "--:--:--");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, n, "%H:%M:%S", &tm);
}

int log_format_request(const cJSON *o, char *out, size_t n, enum log_level *level,
                       char *id, size_t idn)
{
    char ts[16], acc[96], ttft[32], tok[48];
    if (!cJSON_IsObject(o))
        return -1;
    hhmmss(js_time(o, "ts"), ts, sizeof(ts));
    long long st = js_int(o, "status", 0);
    const char *an = js_str(o, "account");
    long long aid = js_int(o, "account_id", -1);
    if (an)
        snprintf(acc, sizeof(acc), "%s", an);
    else if (aid >= 0)
        snprintf(acc, sizeof(acc), "#%lld", aid);
    else
        snprintf(acc, sizeof(acc), "-");
    long long tt = js_int(o, "ttft_ms", -1);
    if (tt >= 0)
        snprintf(ttft, sizeof(ttft), " ttft %lldms", tt);
    else
        ttft[0] = '\0';
    long long pt = js_int(o, "prompt_tokens", -1), ct = js_int(o, "completion_tokens", -1);
    if (pt >= 0 || ct >= 0)
        snprintf(tok, sizeof(tok), " %lld+%lld tok", pt < 0 ? 0 : pt, ct < 0 ? 0 : ct);
    else
        tok[0] = '\0';
    const char *ek = js_str(o, "error_kind");
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(o, "stream");
    const char *dl = js_str(o, "dialect");
    snprintf(out, n, "%s %3lld %-9s %-22s %-16s %5lldms%s%s%s%s%s", ts, st, dl && *dl ? dl : "openai",
             nz(js_str(o, "model")), acc, js_int(o, "latency_ms", 0), ttft, tok,
             cJSON_IsTrue(stream) ? " stream" : "", ek ? " " : "", ek ? ek : "");
    if (level)
        *level = st >= 500 || st == 0 ? LOG_ERR : st >= 400 ? LOG_WARN : LOG_OK;
    if (id && idn)
        snprintf(id, idn, "%s", nz(js_str(o, "request_id")));
    return 0;
}

int log_format_account(const cJSON *o, char *out, size_t n)
{
    char ts[16];
    if (!cJSON_IsObject(o))
        return -1;
    int64_t t = js_time(o, "updated_at");
    hhmmss(t ? t : gg_now_ms(), ts, sizeof(ts));
    const char *reason = js_str(o, "reason");
    snprintf(out, n, "%s --- account #%lld %s is now %s%s%s", ts, js_int(o, "id", -1),
             nz(js_str(o, "name")), nz(js_str(o, "status")), reason ? ": " : "",
             reason ? reason : "");
    return 0;
}

/* ---- account table layout ---- */

/* optional columns are dropped (width 0) when the name would get fewer than
 * NAME_MIN_WITH_OPT columns */
#define NAME_MIN_WITH_OPT 12

static const struct { const char *title; int width; bool right, optional; } colspec[AC_NCOLS] = {
    [AC_ID] = { "ID", 4, true },
    [AC_NAME] = { "NAME", 0, false },
    [AC_STATUS] = { "STATUS", 8, false },
    [AC_UNTIL] = { "UNTIL", 8, false },
    [AC_LAST] = { "LAST USED", 10, false },
    [AC_REQ] = { "REQ", 6, true },
    [AC_ERR] = { "ERR", 5, true },
    [AC_INFL] = { "FLT", 3, true },
    [AC_SIGNIN] = { "SIGN-IN", 9, false, true },
    [AC_REFRESH] = { "RFR", 3, true, true },
    [AC_COOLING] = { "COOLING", 9, false, true },
};

int acct_columns(int cols, int w[AC_NCOLS])
{
    int fixed = 0, opt = 0;
    for (int c = 0; c < AC_NCOLS; c++) {
        w[c] = colspec[c].width;
        fixed += w[c] + 1; /* one space before each column */
        if (colspec[c].optional)
            opt += w[c] + 1;
    }
    if (cols - fixed < NAME_MIN_WITH_OPT) {
        fixed -= opt;
        for (int c = 0; c < AC_NCOLS; c++)
            if (colspec[c].optional)
                w[c] = 0;
    }
    w[AC_NAME] = cols - fixed;
    if (w[AC_NAME] < 6)
        w[AC_NAME] = 6;
    if (w[AC_NAME] > 60)
        w[AC_NAME] = 60 + (w[AC_NAME] - 60) / 2;
    return fixed + w[AC_NAME];
}

/* Append cell text fitted to width with one leading space. */
static void cell(char *out, size_t n, size_t *o, const char *s, int width, bool right)
{
    char buf[1024];
    if (*o + 2 >= n)
        return;
    out[(*o)++] = ' ';
    out[*o] = '\0';
    tx_fit(s, width, true, right, buf, sizeof(buf));
    size_t bl = strlen(buf);
    if (*o + bl + 1 > n)
        bl = n - *o - 1;
    memcpy(out + *o, buf, bl);
    *o += bl;
    out[*o] = '\0';
}

static void finish_line(char *out, size_t n, size_t *o, int used, int cols)
{
    while (used < cols && *o + 2 <= n) {
        out[(*o)++] = ' ';
        used++;
    }
    out[*o] = '\0';
}

void acct_format_header(int cols, enum acol sort, bool desc, char *out, size_t n,
                        int *sort_x, int *sort_w)
{
    int w[AC_NCOLS];
    char t[64];
    size_t o = 0;
    int x = 0;
    out[0] = '\0';
    acct_columns(cols, w);
    for (int c = 0; c < AC_NCOLS; c++) {
        if (!w[c])
            continue;
        if (c == (int)sort)
            snprintf(t, sizeof(t), colspec[c].right ? "%s%s" : "%s%s", colspec[c].title,
                     desc ? "v" : "^");
        else
            snprintf(t, sizeof(t), "%s", colspec[c].title);
        if (c == (int)sort) {
            if (sort_x)
                *sort_x = x + 1;
            if (sort_w)
                *sort_w = w[c];
        }
        cell(out, n, &o, t, w[c], colspec[c].right);
        x += w[c] + 1;
    }
    finish_line(out, n, &o, x, cols);
    /* a table wider than the screen is cut, never wrapped */
    char cut[2048];
    tx_fit(out, cols, true, false, cut, sizeof(cut));
    snprintf(out, n, "%s", cut);
}

void acct_format_row(const struct acct *a, int64_t now_ms, int cols, char *out, size_t n,
                     int *status_x, int *status_w)
{
    int w[AC_NCOLS];
    char t[64];
    size_t o = 0;
    int x = 0;
    out[0] = '\0';
    acct_columns(cols, w);
    for (int c = 0; c < AC_NCOLS; c++) {
        const char *s = t;
        if (!w[c])
            continue;
        switch ((enum acol)c) {
        case AC_ID: snprintf(t, sizeof(t), "%lld", a->id); break;
        case AC_NAME: s = a->name; break;
        case AC_STATUS:
            s = a->status;
            if (status_x)
                *status_x = x + 1;
            if (status_w)
                *status_w = w[c];
            break;
        case AC_UNTIL: tx_until(a->until_ms, now_ms, t, sizeof(t)); break;
        case AC_LAST: tx_ago(a->last_used_ms, now_ms, t, sizeof(t)); break;
        case AC_REQ: snprintf(t, sizeof(t), "%lld", a->req); break;
        case AC_ERR: snprintf(t, sizeof(t), "%lld", a->err); break;
        case AC_INFL: snprintf(t, sizeof(t), "%lld", a->inflight); break;
        case AC_SIGNIN: tx_ago(a->last_signin_ms, now_ms, t, sizeof(t)); break;
        case AC_REFRESH: snprintf(t, sizeof(t), "%lld", a->refresh_count); break;
        case AC_COOLING: acct_cooldowns_format(a, now_ms, true, t, sizeof(t)); break;
        case AC_NCOLS: break;
        }
        cell(out, n, &o, s, w[c], colspec[c].right);
        x += w[c] + 1;
    }
    finish_line(out, n, &o, x, cols);
    char cut[4096];
    tx_fit(out, cols, true, false, cut, sizeof(cut));
    snprintf(out, n, "%s", cut);
}
