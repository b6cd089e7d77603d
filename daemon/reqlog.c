/* reqlog.c -- see reqlog.h */
#include "reqlog.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_buf.h"
#include "gg_time.h"
#include "http.h"
#include "store.h"
#include "storeq.h"

#define RING 2000
#define MINUTES 60
#define SUB_MAX_BACKLOG (1u << 20)
#define REPLAY 50

struct rec {
    char request_id[40], dialect[16], model[48], account[64], error_kind[24];
    int64_t ts, account_id, latency_ms, ttft_ms, pt, ct, bytes_out;
    int status, tool_calls;
    bool stream, used;
};

struct reqlog_sub {
    pthread_mutex_t mu;
    struct MHD_Connection *conn;
    struct gg_buf out;
    bool suspended, gone, closed;
    int refs;
    struct reqlog_sub *next;
    int64_t last_ms;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct rec ring[RING];
static size_t ring_next;
static struct { int64_t minute; int64_t requests, errors; } minutes[MINUTES];
static struct storeq *queue;
static struct reqlog_sub *subs;

void reqlog_init(struct storeq *q)
{
    queue = q;
}

static void sub_put(struct reqlog_sub *s)
{
    pthread_mutex_lock(&s->mu);
    bool dead = --s->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (dead) {
        gg_buf_free(&s->out);
        pthread_mutex_destroy(&s->mu);
        free(s);
    }
}

void reqlog_shutdown(void)
{
    /* wake every subscriber so MHD can close them */
    pthread_mutex_lock(&mu);
    for (struct reqlog_sub *s = subs; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        s->closed = true;
        http_unpark(s->conn, &s->suspended, s->gone);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&mu);
}

static cJSON *rec_json(const struct rec *r)
{
    char t[40];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "request_id", r->request_id);
    gg_rfc3339(r->ts, t, sizeof(t));
    cJSON_AddStringToObject(o, "ts", t);
    cJSON_AddStringToObject(o, "dialect", r->dialect[0] ? r->dialect : "openai");
    cJSON_AddStringToObject(o, "model", r->model);
    if (r->account_id >= 0)
        cJSON_AddNumberToObject(o, "account_id", (double)r->account_id);
    else
        cJSON_AddNullToObject(o, "account_id");
    cJSON_AddStringToObject(o, "account", r->account);
    cJSON_AddNumberToObject(o, "status", r->status);
    if (r->error_kind[0])
        cJSON_AddStringToObject(o, "error_kind", r->error_kind);
    else
        cJSON_AddNullToObject(o, "error_kind");
    cJSON_AddNumberToObject(o, "latency_ms", (double)r->latency_ms);
    if (r->ttft_ms >= 0)
        cJSON_AddNumberToObject(o, "ttft_ms", (double)r->ttft_ms);
    else
        cJSON_AddNullToObject(o, "ttft_ms");
    cJSON_AddNumberToObject(o, "bytes_out", (double)r->bytes_out);
    cJSON_AddNumberToObject(o, "prompt_tokens", (double)r->pt);
    cJSON_AddNumberToObject(o, "completion_tokens", (double)r->ct);
    cJSON_AddBoolToObject(o, "stream", r->stream);
    cJSON_AddNumberToObject(o, "tool_calls", r->tool_calls);
    return o;
}

static void broadcast(const char *event, const char *data)
{
    pthread_mutex_lock(&mu);
    for (struct reqlog_sub *s = subs; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        if (!s->gone && !s->closed) {
            if (s->out.len > SUB_MAX_BACKLOG) {
                s->closed = true;
            } else {
                gg_buf_printf(&s->out, "event: %s\ndata: %s\n\n", event, data);
            }
            http_unpark(s->conn, &s->suspended, s->gone);
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&mu);
}

void reqlog_record(const struct reqlog_entry *e)
{
    struct rec r;
    memset(&r, 0, sizeof(r));
    snprintf(r.request_id, sizeof(r.request_id), "%s", e->request_id ? e->request_id : "");
    snprintf(r.dialect, sizeof(r.dialect), "%s", e->dialect ? e->dialect : "");
    snprintf(r.model, sizeof(r.model), "%s", e->model ? e->model : "");
    snprintf(r.account, sizeof(r.account), "%s", e->account ? e->account : "");
    snprintf(r.error_kind, sizeof(r.error_kind), "%s", e->error_kind ? e->error_kind : "");
    r.ts = gg_now_ms() - e->latency_ms;
    r.account_id = e->account_id;
    r.latency_ms = e->latency_ms;
    r.ttft_ms = e->ttft_ms;
    r.pt = e->prompt_tokens;
    r.ct = e->completion_tokens;
    r.bytes_out = e->bytes_out;
    r.status = e->status;
    r.stream = e->stream;
    r.tool_calls = e->tool_calls;
    r.used = true;
    int64_t minute = gg_now_ms() / 60000;
    pthread_mutex_lock(&mu);
    ring[ring_next % RING] = r;
    ring_next++;
    int mi = (int)(minute % MINUTES);
    if (minutes[mi].minute != minute) {
        minutes[mi].minute = minute;
        minutes[mi].requests = minutes[mi].errors = 0;
    }
    minutes[mi].requests++;
    if (e->status >= 400 || e->error_kind)
        minutes[mi].errors++;
    bool watched = subs != NULL;    /* the feed's JSON is built only for a subscriber */
    pthread_mutex_unlock(&mu);
    if (queue) {
        struct store_reqlog row = {
            .request_id = r.request_id, .ts = r.ts, .model = r.model,
            .account_id = r.account_id > 0 ? r.account_id : 0, .status = r.status,
            .error_kind = r.error_kind[0] ? r.error_kind : NULL, .latency_ms = r.latency_ms,
            .ttft_ms = r.ttft_ms, .bytes_out = r.bytes_out, .prompt_tokens = r.pt,
            .completion_tokens = r.ct, .stream = r.stream,
            .dialect = r.dialect[0] ? r.dialect : NULL, .tool_calls = r.tool_calls,
        };
        storeq_put_reqlog(queue, &row);
    }
    if (!watched)
        return;
    cJSON *j = rec_json(&r);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (s) {
        broadcast("request", s);
        free(s);
    }
}

static void rec_from_row(struct rec *r, const struct store_reqlog *x, const char *account)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->request_id, sizeof(r->request_id), "%s", x->request_id ? x->request_id : "");
    snprintf(r->dialect, sizeof(r->dialect), "%s", x->dialect ? x->dialect : "");
    snprintf(r->model, sizeof(r->model), "%s", x->model ? x->model : "");
    snprintf(r->account, sizeof(r->account), "%s", account ? account : "");
    snprintf(r->error_kind, sizeof(r->error_kind), "%s", x->error_kind ? x->error_kind : "");
    r->ts = x->ts;
    r->account_id = x->account_id;
    r->latency_ms = x->latency_ms;
    r->ttft_ms = x->ttft_ms;
    r->pt = x->prompt_tokens;
    r->ct = x->completion_tokens;
    r->bytes_out = x->bytes_out;
    r->status = x->status;
    r->stream = x->stream;
    r->tool_calls = x->tool_calls > INT32_MAX ? INT32_MAX : (int)x->tool_calls;
    r->used = true;
}

int reqlog_preload(struct store *st, void (*name_of)(int64_t id, char *buf, size_t n))
{
    struct store_reqlog_filter f = {.limit = RING};
    struct store_reqlog *rows = NULL;
    size_t n = 0;
    if (!st || store_reqlog_query(st, &f, &rows, &n) != STORE_OK)
        return -1;
    int64_t now_min = gg_now_ms() / 60000;
    pthread_mutex_lock(&mu);
    for (size_t i = n; i-- > 0;) {          /* rows come newest first */
        const struct store_reqlog *x = &rows[i];
        char name[64] = "";
        if (x->account_id > 0 && name_of)
            name_of(x->account_id, name, sizeof(name));
        struct rec r;
        rec_from_row(&r, x, name);
        ring[ring_next % RING] = r;
        ring_next++;
        int64_t minute = (x->ts + x->latency_ms) / 60000;
        if (minute <= now_min - MINUTES || minute > now_min)
            continue;
        int mi = (int)(minute % MINUTES);
        if (minutes[mi].minute != minute) {
            minutes[mi].minute = minute;
            minutes[mi].requests = minutes[mi].errors = 0;
        }
        minutes[mi].requests++;
        if (x->status >= 400 || x->error_kind)
            minutes[mi].errors++;
    }
    pthread_mutex_unlock(&mu);
    store_reqlog_list_free(rows, n);
    return (int)n;
}

cJSON *reqlog_row_json(const struct store_reqlog *x, const char *account)
{
    struct rec r;
    rec_from_row(&r, x, account);
    return rec_json(&r);
}

void reqlog_account_event(cJSON *account)
{
    char *s = cJSON_PrintUnformatted(account);
    cJSON_Delete(account);
    if (s) {
        broadcast("account", s);
        free(s);
    }
}

cJSON *reqlog_recent(int limit, const char *model, int64_t account_id, int status_min, int status_max,
                     int64_t since_ms)
{
    cJSON *arr = cJSON_CreateArray();
    if (limit <= 0)
        limit = 100;
    pthread_mutex_lock(&mu);
    size_t n = ring_next < RING ? ring_next : RING;
    for (size_t k = 0; k < n && cJSON_GetArraySize(arr) < limit; k++) {
        const struct rec *r = &ring[(ring_next - 1 - k) % RING];
        if (model && *model && strcmp(model, r->model) != 0)
            continue;
        if (account_id > 0 && r->account_id != account_id)
            continue;
        if (status_min && (r->status < status_min || r->status > status_max))
            continue;
        if (since_ms && r->ts < since_ms)
            continue;
        cJSON_AddItemToArray(arr, rec_json(r));
    }
    pthread_mutex_unlock(&mu);
    return arr;
}

cJSON *reqlog_per_minute(void)
{
    cJSON *arr = cJSON_CreateArray();
    int64_t now_min = gg_now_ms() / 60000;
    pthread_mutex_lock(&mu);
    for (int64_t m = now_min - MINUTES + 1; m <= now_min; m++) {
        int mi = (int)(m % MINUTES);
        cJSON *o = cJSON_CreateObject();
        char t[40];
        gg_rfc3339(m * 60000, t, sizeof(t));
        cJSON_AddStringToObject(o, "t", t);
        bool cur = minutes[mi].minute == m;
        cJSON_AddNumberToObject(o, "requests", cur ? (double)minutes[mi].requests : 0);
        cJSON_AddNumberToObject(o, "errors", cur ? (double)minutes[mi].errors : 0);
        cJSON_AddItemToArray(arr, o);
    }
    pthread_mutex_unlock(&mu);
    return arr;
}

void reqlog_rates(double *rpm, double *error_rate)
{
    int64_t now_min = gg_now_ms() / 60000;
    int64_t req = 0, err = 0;
    pthread_mutex_lock(&mu);
    for (int64_t m = now_min - 4; m <= now_min; m++) {
        int mi = (int)(((m % MINUTES) + MINUTES) % MINUTES);
        if (minutes[mi].minute == m) {
            req += minutes[mi].requests;
            err += minutes[mi].errors;
        }
    }
    pthread_mutex_unlock(&mu);
    *rpm = (double)req / 5.0;
    *error_rate = req ? (double)err / (double)req : 0.0;
}

uint64_t reqlog_store_dropped(void)
{
    return queue ? storeq_dropped(queue) : 0;
}

bool reqlog_store_ok(void)
{
    return queue ? storeq_store_ok(queue) : false;
}

void reqlog_tick(void)
{
    int64_t now = gg_mono_ms();
    pthread_mutex_lock(&mu);
    for (struct reqlog_sub *s = subs; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        if (!s->gone && now - s->last_ms >= 15000) {
            gg_buf_adds(&s->out, ": ping\n\n");
            s->last_ms = now;
            http_unpark(s->conn, &s->suspended, s->gone);
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&mu);
}

ssize_t reqlog_sub_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct reqlog_sub *s = cls;
    pthread_mutex_lock(&s->mu);
    if (s->out.len) {
        size_t n = s->out.len < max ? s->out.len : max;
        memcpy(buf, s->out.p, n);
        gg_buf_consume(&s->out, n);
        s->last_ms = gg_mono_ms();
        pthread_mutex_unlock(&s->mu);
        return (ssize_t)n;
    }
    if (s->closed) {
        pthread_mutex_unlock(&s->mu);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    http_park(s->conn, &s->suspended);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void reqlog_sub_release(void *cls)
{
    sub_put(cls);
}

struct reqlog_sub *reqlog_sub_open(struct MHD_Connection *conn)
{
    struct reqlog_sub *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->conn = conn;
    s->refs = 2; /* the response and the request context */
    s->last_ms = gg_mono_ms();
    gg_buf_init(&s->out, SUB_MAX_BACKLOG * 2);
    gg_buf_adds(&s->out, "retry: 2000\n\n");
    /* replay recent requests, oldest first */
    pthread_mutex_lock(&mu);
    size_t n = ring_next < REPLAY ? ring_next : REPLAY;
    for (size_t k = n; k > 0; k--) {
        const struct rec *r = &ring[(ring_next - k) % RING];
        cJSON *j = rec_json(r);
        char *js = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (js) {
            gg_buf_printf(&s->out, "event: request\ndata: %s\n\n", js);
            free(js);
        }
    }
    s->next = subs;
    subs = s;
    pthread_mutex_unlock(&mu);
    return s;
}

void reqlog_sse_close(struct reqlog_sub *s)
{
    pthread_mutex_lock(&mu);
    for (struct reqlog_sub **pp = &subs; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    pthread_mutex_unlock(&mu);
    pthread_mutex_lock(&s->mu);
    s->gone = true;
    s->suspended = false;
    pthread_mutex_unlock(&s->mu);
    sub_put(s);
}

int reqlog_dialect_counts(int64_t since_ms, char names[][16], int64_t *counts, int max)
{
    int n = 0;
    pthread_mutex_lock(&mu);
    size_t have = ring_next < RING ? ring_next : RING;
    for (size_t k = 0; k < have; k++) {
        const struct rec *r = &ring[(ring_next - 1 - k) % RING];
        if (!r->used || r->ts < since_ms)
            continue;
        const char *d = r->dialect[0] ? r->dialect : "openai";
        int i = 0;
        while (i < n && strcmp(names[i], d) != 0)
            i++;
        if (i == n) {
            if (n == max)
                continue;
            snprintf(names[n], 16, "%s", d);
            counts[n++] = 0;
        }
        counts[i]++;
    }
    pthread_mutex_unlock(&mu);
    return n;
}
