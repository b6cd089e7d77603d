/* storeq.c -- bounded asynchronous write queue; see storeq.h.
 *
 * A ring of `capacity` records plus the batch the writer holds; a record is
 * admitted only while ring + held < capacity, otherwise it is dropped and
 * counted.  One writer thread takes up to STOREQ_BATCH records once that
 * many are queued, or STOREQ_WINDOW_MS after the oldest arrived, or at once
 * when someone flushes, and applies them with store_apply() (one
 * transaction).  On failure it pings the store: if the store answers, the
 * batch is bad data, so it is retried record by record and the records that
 * still fail are dropped (counted, logged without values); if the store is
 * down, the writer keeps the batch and retries with back-off (100 ms
 * doubling to 5 s) until it lands or the queue is stopped.
 *
 * Sequence numbers make storeq_flush exact: every admitted record gets the
 * next `enq_seq`; `done_seq` counts records written or dropped, in order.
 *
 * storeq_stop's deadline_ms: a value above 10^12 is taken as an absolute
 * wall-clock time (gg_now_ms() + n), anything else as a duration in ms.
 */
#include "storeq.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "store_internal.h"

#define STOREQ_BATCH 500
#define STOREQ_WINDOW_MS 200
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct storeq {
    struct store *s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;        /* writer: work, flush or stop */
    pthread_cond_t done;        /* flushers: done_seq advanced */
    struct store_rec *ring;
    size_t cap, head, count, held;
    uint64_t enq_seq, done_seq;
    int flushers;
    bool stop;
    int64_t stop_at;            /* mono ms: writer gives up retrying */
    int64_t first_at;           /* mono ms the oldest queued record arrived */
    struct store_rec batch[STOREQ_BATCH];
    _Atomic uint64_t dropped;
    _Atomic size_t depth;
    atomic_bool ok;
};

static void abstime(int64_t mono_ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(mono_ms / 1000);
    ts->tv_nsec = (long)(mono_ms % 1000) * 1000000L;
}

/* Wait on cv until mono deadline (mutex held). */
static void wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline)
{
    struct timespec ts;

    abstime(deadline, &ts);
    pthread_cond_timedwait(cv, mu, &ts);
}

/* Write one batch (mutex NOT held).  Returns how many were dropped. */
static uint64_t write_batch(struct storeq *q, struct store_rec *b, size_t n)
{
    int backoff = BACKOFF_MIN_MS;
    uint64_t dropped = 0;

    for (;;) {
        bool give_up;

        if (store_apply(q->s, b, n, NULL) == STORE_OK) {
            if (backoff > BACKOFF_MIN_MS)
                GG_INFO("storeq: store reachable again, %zu held records written", n);
            atomic_store(&q->ok, true);
            return dropped;
        }
        atomic_store(&q->ok, false);
        if (store_ping(q->s) == STORE_OK) {
            GG_WARN("storeq: batch of %zu failed (%s); retrying one by one", n,
                    store_last_error());
            for (size_t i = 0; i < n; i++) {
                if (store_apply(q->s, &b[i], 1, NULL) != STORE_OK) {
                    GG_WARN("storeq: dropping a record: %s", store_last_error());
                    dropped++;
                }
            }
            atomic_store(&q->ok, dropped < n);
            return dropped;
        }
        if (backoff == BACKOFF_MIN_MS)     /* once per outage, not per retry */
            GG_WARN("storeq: store unavailable (%s); holding %zu records, retrying",
                    store_last_error(), n);
        pthread_mutex_lock(&q->mu);
        give_up = q->stop && gg_mono_ms() >= q->stop_at;
        if (!give_up)
            wait_until(&q->wake, &q->mu, gg_mono_ms() + backoff);
        give_up = q->stop && gg_mono_ms() >= q->stop_at;
        pthread_mutex_unlock(&q->mu);
        if (give_up)
            return n;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
}

static void *writer(void *arg)
{
    struct storeq *q = arg;
    /* A flush must never delay a request: the writer runs in the idle
     * scheduling class (measured on a pinned gateway at 1,000 req/s: the
     * 200 ms flushes were its periodic p99 outliers even at nice +19, and
     * gone in the idle class).  When it falls behind (a quarter of the
     * queue waiting) or a caller waits for a flush, it runs as a normal
     * thread at nice +10 until it has caught up, where the system allows
     * it (CAP_SYS_NICE or RLIMIT_NICE >= 10; the systemd unit sets
     * LimitNICE=+10).  Otherwise it stays idle-class, which still gets
     * CPU time, and a full queue drops as before (counted). */
    gg_thread_role("gg-store", true);
    bool idle = gg_thread_idle(true), warned = false;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        uint64_t dropped;
        size_t k;

        while (q->count == 0 && !q->stop)
            pthread_cond_wait(&q->wake, &q->mu);
        if (q->count == 0 || (q->stop && gg_mono_ms() >= q->stop_at))
            break;
        while (!q->stop && q->flushers == 0 && q->count < STOREQ_BATCH &&
               gg_mono_ms() < q->first_at + STOREQ_WINDOW_MS)
            wait_until(&q->wake, &q->mu, q->first_at + STOREQ_WINDOW_MS);
        k = q->count < STOREQ_BATCH ? q->count : STOREQ_BATCH;
        for (size_t i = 0; i < k; i++) {
            q->batch[i] = q->ring[q->head];
            memset(&q->ring[q->head], 0, sizeof(q->ring[q->head]));
            q->head = (q->head + 1) % q->cap;
        }
        q->count -= k;
        q->held = k;
        q->first_at = gg_mono_ms();
        atomic_store(&q->depth, q->count + k);
        bool behind = q->count >= q->cap / 4 || q->flushers > 0;
        bool caught_up = q->count <= q->cap / 16 && q->flushers == 0;
        pthread_mutex_unlock(&q->mu);

        if (idle && behind) {
            if (gg_thread_idle(false))
                idle = false;
            else if (!warned) {
                warned = true;
                GG_WARN("store writer: behind, but may not leave the idle scheduling class (%s); "
                        "grant CAP_SYS_NICE or RLIMIT_NICE >= 10 (systemd: LimitNICE=+10)", strerror(errno));
            }
        } else if (!idle && caught_up) {
            idle = gg_thread_idle(true);
        }
        dropped = write_batch(q, q->batch, k);
        for (size_t i = 0; i < k; i++)
            store_rec_clear(&q->batch[i]);

        pthread_mutex_lock(&q->mu);
        atomic_fetch_add(&q->dropped, dropped);
        q->held = 0;
        q->done_seq += k;
        atomic_store(&q->depth, q->count);
        pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct storeq *storeq_start(struct store *s, size_t capacity)
{
    struct storeq *q = calloc(1, sizeof(*q));
    pthread_condattr_t ca;

    if (!q)
        return NULL;
    q->s = s;
    q->cap = capacity ? capacity : 1;
    q->ring = calloc(q->cap, sizeof(*q->ring));
    if (!q->ring) {
        free(q);
        return NULL;
    }
    atomic_init(&q->dropped, 0);
    atomic_init(&q->depth, 0);
    atomic_init(&q->ok, true);
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->wake, &ca);
    pthread_cond_init(&q->done, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&q->thread, NULL, writer, q) != 0) {
        pthread_cond_destroy(&q->wake);
        pthread_cond_destroy(&q->done);
        pthread_mutex_destroy(&q->mu);
        free(q->ring);
        free(q);
        return NULL;
    }
    return q;
}

/* Admit r (takes ownership of its strings either way). */
static void put(struct storeq *q, struct store_rec *r, bool complete)
{
    bool drop;

    if (!q) {
        store_rec_clear(r);
        return;
    }
    pthread_mutex_lock(&q->mu);
    drop = !complete || q->stop || q->count + q->held >= q->cap;
    if (!drop) {
        q->ring[(q->head + q->count) % q->cap] = *r;
        q->count++;
        q->enq_seq++;
        atomic_store(&q->depth, q->count + q->held);
        if (q->count == 1)
            q->first_at = gg_mono_ms();
        if (q->count == 1 || q->count == STOREQ_BATCH)
            pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->mu);
    if (drop) {
        atomic_fetch_add(&q->dropped, 1);
        store_rec_clear(r);
    }
}

void storeq_put_touch(struct storeq *q, int64_t account_id, int64_t last_used_at,
                      int64_t req_delta, int64_t err_delta)
{
    struct store_rec r;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_TOUCH;
    r.u.touch.account_id = account_id;
    r.u.touch.last_used_at = last_used_at;
    r.u.touch.req_delta = req_delta;
    r.u.touch.err_delta = err_delta;
    put(q, &r, true);
}

void storeq_put_state(struct storeq *q, int64_t account_id, const char *status,
                      const char *reason, int64_t cooldown_until, int64_t fail_count)
{
    struct store_rec r;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_STATE;
    r.u.state.account_id = account_id;
    r.u.state.status = gg_strdup0(status ? status : "active");
    r.u.state.reason = gg_strdup0(reason);
    r.u.state.cooldown_until = cooldown_until;
    r.u.state.fail_count = fail_count;
    r.u.state.updated_at = gg_now_ms();
    put(q, &r, r.u.state.status && (!reason || r.u.state.reason));
}

void storeq_put_reqlog(struct storeq *q, const struct store_reqlog *l)
{
    struct store_rec r;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_REQLOG;
    r.u.reqlog = *l;
    r.u.reqlog.request_id = gg_strdup0(l->request_id);
    r.u.reqlog.model = gg_strdup0(l->model);
    r.u.reqlog.error_kind = gg_strdup0(l->error_kind);
    r.u.reqlog.dialect = gg_strdup0(l->dialect);
    put(q, &r, r.u.reqlog.request_id && (!l->model || r.u.reqlog.model) &&
               (!l->error_kind || r.u.reqlog.error_kind) &&
               (!l->dialect || r.u.reqlog.dialect));
}

void storeq_put_session(struct storeq *q, const struct store_session *ss)
{
    struct store_rec r;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_SESSION;
    r.u.session = *ss;
    r.u.session.conv_key = gg_strdup0(ss->conv_key);
    r.u.session.session_name = gg_strdup0(ss->session_name);
    r.u.session.model = gg_strdup0(ss->model);
    if (!r.u.session.updated_at)
        r.u.session.updated_at = gg_now_ms();
    put(q, &r, r.u.session.conv_key && r.u.session.session_name &&
               (!ss->model || r.u.session.model));
}

void storeq_put_session_delete(struct storeq *q, const char *conv_key)
{
    struct store_rec r;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_SESSION_DEL;
    r.u.session.conv_key = gg_strdup0(conv_key);
    put(q, &r, r.u.session.conv_key != NULL);
}

void storeq_put_key_usage(struct storeq *q, int64_t key_id, const char *day, const char *model,
                          int64_t requests, int64_t errors, int64_t tokens_in, int64_t tokens_out)
{
    struct store_rec r;

    memset(&r, 0, sizeof(r));
    r.kind = STORE_REC_KEY_USAGE;
    r.u.key_usage.key_id = key_id;
    r.u.key_usage.day = gg_strdup0(day);
    r.u.key_usage.model = gg_strdup0(model ? model : "");
    r.u.key_usage.requests = requests;
    r.u.key_usage.errors = errors;
    r.u.key_usage.tokens_in = tokens_in;
    r.u.key_usage.tokens_out = tokens_out;
    put(q, &r, r.u.key_usage.day && r.u.key_usage.model);
}

int storeq_flush(struct storeq *q, int64_t timeout_ms)
{
    int64_t deadline = gg_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    uint64_t target;
    int rc;

    if (!q)
        return 0;
    pthread_mutex_lock(&q->mu);
    target = q->enq_seq;
    q->flushers++;
    pthread_cond_signal(&q->wake);
    while (q->done_seq < target && gg_mono_ms() < deadline)
        wait_until(&q->done, &q->mu, deadline);
    rc = q->done_seq >= target ? 0 : -1;
    q->flushers--;
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void storeq_stop(struct storeq *q, int64_t deadline_ms)
{
    int64_t budget;
    size_t left;

    if (!q)
        return;
    budget = deadline_ms > 1000000000000LL ? deadline_ms - gg_now_ms() : deadline_ms;
    if (budget < 0)
        budget = 0;
    pthread_mutex_lock(&q->mu);
    q->stop_at = gg_mono_ms() + budget;
    pthread_mutex_unlock(&q->mu);
    storeq_flush(q, budget);
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);

    left = q->count;
    for (size_t i = 0; i < left; i++)
        store_rec_clear(&q->ring[(q->head + i) % q->cap]);
    if (left)
        GG_WARN("storeq: stopped with %zu records unwritten (dropped)", left);
    atomic_fetch_add(&q->dropped, left);
    pthread_cond_destroy(&q->wake);
    pthread_cond_destroy(&q->done);
    pthread_mutex_destroy(&q->mu);
    free(q->ring);
    free(q);
}

uint64_t storeq_dropped(const struct storeq *q)
{
    return q ? atomic_load(&((struct storeq *)q)->dropped) : 0;
}

size_t storeq_depth(const struct storeq *q)
{
    return q ? atomic_load(&((struct storeq *)q)->depth) : 0;
}

bool storeq_store_ok(const struct storeq *q)
{
    return q ? atomic_load(&((struct storeq *)q)->ok) : false;
}
