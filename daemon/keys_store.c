/* keys_store.c -- see keys_store.h */
#include "keys_store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acct_tags.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "keys.h"
#include "store_internal.h"
#include "storeq.h"

#define KEY_COLS "id, name, note, prefix, hash, created_at, expires_at, enabled, models, rpm, tpm, " \
    "tokens_day, tokens_month, max_concurrent, grp"

static struct store *st;
static struct storeq *sq;
static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;   /* a sync vs. local writes */
static pthread_mutex_t thr_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t thr_cv = PTHREAD_COND_INITIALIZER;
static pthread_t thr;
static bool thr_on, thr_stop;
static bool cluster_mode;
static char instance[33];                  /* this process in key_rates */
static int64_t *published;                 /* keys with non-zero rows of ours */
static size_t n_published;
static bool rates_warned;                  /* sync thread (and start-up) only */

static int q(const char *sql, const char *const *p, int n, struct store_rows *rows)
{
    if (!st || !st->ops->query) {
        store_set_error("no store");
        return STORE_ERR;
    }
    return st->ops->query(st->be, sql, p, n, rows);
}

static int64_t num(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static void fmt(char b[24], int64_t v)
{
    snprintf(b, 24, "%lld", (long long)v);
}

void keys_store_begin(void)
{
    pthread_mutex_lock(&sync_mu);
}

void keys_store_end(void)
{
    pthread_mutex_unlock(&sync_mu);
}

/* ---- hooks (called inside keys_store_begin/end) ------------------------- */

/* Parameters $1..$14 of a key row (no id). */
static void key_params(const struct key_info *k, char nb[8][24], const char *v[14])
{
    v[0] = k->name;
    v[1] = k->note;
    v[2] = k->prefix;
    v[3] = k->hash;
    fmt(nb[0], k->created_at);
    v[4] = nb[0];
    fmt(nb[1], k->expires_at);
    v[5] = k->expires_at ? nb[1] : NULL;
    v[6] = k->enabled ? "1" : "0";
    v[7] = k->lim.models;
    fmt(nb[2], k->lim.rpm);
    v[8] = nb[2];
    fmt(nb[3], k->lim.tpm);
    v[9] = nb[3];
    fmt(nb[4], k->lim.tokens_day);
    v[10] = nb[4];
    fmt(nb[5], k->lim.tokens_month);
    v[11] = nb[5];
    fmt(nb[6], k->lim.max_concurrent);
    v[12] = nb[6];
    v[13] = k->lim.group;
}

static int h_insert(struct key_info *k)
{
    char nb[8][24];
    const char *v[14];
    struct store_rows rows = {0};
    key_params(k, nb, v);
    int rc = q("INSERT INTO client_keys (name, note, prefix, hash, created_at, expires_at, enabled, models, rpm, "
               "tpm, tokens_day, tokens_month, max_concurrent, grp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
               "$10, $11, $12, $13, $14) RETURNING id",
               v, 14, &rows);
    if (rc != STORE_OK || rows.nrows != 1 || !rows.cell[0]) {
        GG_WARN("keys: cannot store a new key: %s", rc != STORE_OK ? store_last_error() : "no id returned");
        store_rows_free(&rows);
        return -1;
    }
    k->id = num(rows.cell[0]);
    store_rows_free(&rows);
    return k->id > 0 ? 0 : -1;
}

static int h_save(const struct key_info *k)
{
    char nb[8][24], idb[24];
    const char *v[15];
    key_params(k, nb, v);
    fmt(idb, k->id);
    v[14] = idb;
    int rc = q("UPDATE client_keys SET name = $1, note = $2, prefix = $3, hash = $4, created_at = $5, "
               "expires_at = $6, enabled = $7, models = $8, rpm = $9, tpm = $10, tokens_day = $11, "
               "tokens_month = $12, max_concurrent = $13, grp = $14 WHERE id = $15",
               v, 15, NULL);
    if (rc != STORE_OK)
        GG_WARN("keys: cannot save key %lld: %s", (long long)k->id, store_last_error());
    return rc == STORE_OK ? 0 : -1;
}

static int h_remove(int64_t id)
{
    char idb[24];
    const char *v[1] = {idb};
    fmt(idb, id);
    int rc = q("DELETE FROM client_keys WHERE id = $1", v, 1, NULL);
    if (rc != STORE_OK)
        GG_WARN("keys: cannot delete key %lld: %s", (long long)id, store_last_error());
    return rc == STORE_OK ? 0 : -1;
}

static void h_usage(int64_t key_id, const char *day, const char *model, int64_t tin, int64_t tout, bool error)
{
    storeq_put_key_usage(sq, key_id, day, model, 1, error ? 1 : 0, tin > 0 ? tin : 0, tout > 0 ? tout : 0);
}

/* ---- loading ------------------------------------------------------------- */

static void copy(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

static int load_keys(void)
{
    struct store_rows rows = {0};
    if (q("SELECT " KEY_COLS " FROM client_keys ORDER BY id", NULL, 0, &rows) != STORE_OK) {
        GG_WARN("keys: cannot read client keys: %s", store_last_error());
        return -1;
    }
    struct key_info *ki = calloc(rows.nrows ? rows.nrows : 1, sizeof(*ki));
    if (!ki) {
        store_rows_free(&rows);
        return -1;
    }
    for (size_t r = 0; r < rows.nrows; r++) {
        char **c = &rows.cell[r * rows.ncols];
        struct key_info *k = &ki[r];
        k->id = num(c[0]);
        copy(k->name, sizeof(k->name), c[1]);
        copy(k->note, sizeof(k->note), c[2]);
        copy(k->prefix, sizeof(k->prefix), c[3]);
        copy(k->hash, sizeof(k->hash), c[4]);
        k->created_at = num(c[5]);
        k->expires_at = num(c[6]);
        k->enabled = c[7] && (c[7][0] == '1' || c[7][0] == 't');
        copy(k->lim.models, sizeof(k->lim.models), c[8]);
        k->lim.rpm = num(c[9]);
        k->lim.tpm = num(c[10]);
        k->lim.tokens_day = num(c[11]);
        k->lim.tokens_month = num(c[12]);
        k->lim.max_concurrent = num(c[13]);
        copy(k->lim.group, sizeof(k->lim.group), c[14]);
    }
    int rc = keys_load(ki, rows.nrows);
    free(ki);
    store_rows_free(&rows);
    return rc;
}

static void utc_day(int64_t ms, char out[11], bool month_start)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (month_start)
        tm.tm_mday = 1;
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int load_usage(void)
{
    int64_t now = gg_now_ms();
    char today[11], month[11];
    utc_day(now, today, false);
    utc_day(now, month, true);
    const char *v[2] = {today, month};
    struct store_rows rows = {0};
    if (q("SELECT key_id, SUM(CASE WHEN day = $1 THEN tokens_in + tokens_out ELSE 0 END), "
          "SUM(tokens_in + tokens_out), SUM(CASE WHEN day = $1 THEN requests ELSE 0 END), "
          "SUM(CASE WHEN day = $1 THEN errors ELSE 0 END) FROM key_usage WHERE day >= $2 AND day <= $1 "
          "GROUP BY key_id",
          v, 2, &rows) != STORE_OK) {
        GG_WARN("keys: cannot read usage totals: %s", store_last_error());
        return -1;
    }
    for (size_t r = 0; r < rows.nrows; r++) {
        char **c = &rows.cell[r * rows.ncols];
        keys_merge_usage(num(c[0]), num(c[1]), num(c[2]), num(c[3]), num(c[4]), now);
    }
    store_rows_free(&rows);
    return 0;
}

static int load_tags(void)
{
    struct store_rows rows = {0};
    if (q("SELECT id, tags FROM gemini_accounts", NULL, 0, &rows) != STORE_OK) {
        GG_WARN("keys: cannot read account tags: %s", store_last_error());
        return -1;
    }
    int64_t *ids = calloc(rows.nrows ? rows.nrows : 1, sizeof(*ids));
    const char **tags = calloc(rows.nrows ? rows.nrows : 1, sizeof(*tags));
    int rc = -1;
    if (ids && tags) {
        for (size_t r = 0; r < rows.nrows; r++) {
            ids[r] = num(rows.cell[r * rows.ncols]);
            tags[r] = rows.cell[r * rows.ncols + 1];
        }
        rc = acct_tags_load(ids, tags, rows.nrows);
    }
    free(ids);
    free(tags);
    store_rows_free(&rows);
    return rc;
}

static bool was_published(int64_t id)
{
    for (size_t i = 0; i < n_published; i++)
        if (published[i] == id)
            return true;
    return false;
}

/* Cluster rates: write this instance's rolling-minute counts and in-flight
 * requests of every key that has any (and a zero row for keys that had),
 * then hand every key the sum of the other instances' fresh rows. */
static int sync_rates(void)
{
    struct key_info *ks;
    struct key_usage_now *us;
    size_t n;
    int64_t now = gg_now_ms();
    if (keys_list(&ks, &us, &n) != 0)
        return -1;
    int rc = 0;
    int64_t *pub = calloc(n ? n : 1, sizeof(*pub));
    size_t npub = 0;
    for (size_t i = 0; pub && i < n; i++) {
        bool busy = us[i].minute_requests || us[i].minute_tokens || us[i].inflight;
        if (!busy && !was_published(ks[i].id))
            continue;
        char b[5][24];
        fmt(b[0], ks[i].id);
        fmt(b[1], us[i].minute_requests);
        fmt(b[2], us[i].minute_tokens);
        fmt(b[3], us[i].inflight);
        fmt(b[4], now);
        const char *v[6] = {instance, b[0], b[1], b[2], b[3], b[4]};
        if (q("INSERT INTO key_rates (instance, key_id, minute_requests, minute_tokens, inflight, updated_at) "
              "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (instance, key_id) DO UPDATE SET minute_requests = "
              "excluded.minute_requests, minute_tokens = excluded.minute_tokens, inflight = excluded.inflight, "
              "updated_at = excluded.updated_at",
              v, 6, NULL) != STORE_OK)
            rc = -1;
        else if (busy)
            pub[npub++] = ks[i].id;
    }
    free(published);
    published = pub;
    n_published = npub;
    char since[24], old[24];
    fmt(since, now - 3 * KEYS_SYNC_MS);
    fmt(old, now - 3600000);
    const char *v[2] = {instance, since};
    struct store_rows rows = {0};
    if (q("SELECT key_id, SUM(minute_requests), SUM(minute_tokens), SUM(inflight) FROM key_rates "
          "WHERE instance <> $1 AND updated_at > $2 GROUP BY key_id",
          v, 2, &rows) != STORE_OK) {
        rc = -1;
    } else {
        for (size_t i = 0; i < n; i++) {
            int64_t r = 0, t = 0, f = 0;
            for (size_t j = 0; j < rows.nrows; j++)
                if (num(rows.cell[j * rows.ncols]) == ks[i].id) {
                    r = num(rows.cell[j * rows.ncols + 1]);
                    t = num(rows.cell[j * rows.ncols + 2]);
                    f = num(rows.cell[j * rows.ncols + 3]);
                }
            keys_set_remote(ks[i].id, r, t, (int)f, now + 3 * KEYS_SYNC_MS);
        }
    }
    store_rows_free(&rows);
    const char *vo[1] = {old};
    q("DELETE FROM key_rates WHERE updated_at < $1", vo, 1, NULL);   /* instances long gone */
    free(ks);
    free(us);
    return rc;
}

int keys_store_sync(void)
{
    pthread_mutex_lock(&sync_mu);
    int rc = load_keys();
    if (load_tags() != 0)
        rc = -1;
    pthread_mutex_unlock(&sync_mu);
    if (load_usage() != 0)
        rc = -1;
    if (cluster_mode) {
        if (sync_rates() != 0) {
            if (!rates_warned)        /* once per failure streak */
                GG_WARN("keys: cannot share the rate counters with the cluster: %s", store_last_error());
            rates_warned = true;
            rc = -1;
        } else {
            rates_warned = false;
        }
    }
    return rc;
}

static void *sync_thread(void *arg)
{
    (void)arg;
    gg_thread_role("gg-keys", true);
    pthread_mutex_lock(&thr_mu);
    while (!thr_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += KEYS_SYNC_MS / 1000;
        ts.tv_nsec += (long)(KEYS_SYNC_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&thr_cv, &thr_mu, &ts);
        if (thr_stop)
            break;
        pthread_mutex_unlock(&thr_mu);
        keys_store_sync();
        pthread_mutex_lock(&thr_mu);
    }
    pthread_mutex_unlock(&thr_mu);
    return NULL;
}

int keys_store_start(struct store *s, struct storeq *queue, int cluster)
{
    st = s;
    sq = queue;
    cluster_mode = cluster != 0;
    gg_random_hex(instance, 16);
    int rc = keys_store_sync();
    struct key_hooks h = {.insert = h_insert, .save = h_save, .remove = h_remove, .usage = h_usage};
    keys_set_hooks(&h);
    GG_INFO("keys: %zu client key(s) loaded%s", keys_count(), cluster ? "; synced with the cluster every 2 s" : "");
    if (cluster) {
        thr_stop = false;
        if (pthread_create(&thr, NULL, sync_thread, NULL) == 0)
            thr_on = true;
        else
            GG_WARN("keys: cannot start the cluster sync thread");
    }
    return rc;
}

void keys_store_stop(void)
{
    if (thr_on) {
        pthread_mutex_lock(&thr_mu);
        thr_stop = true;
        pthread_cond_broadcast(&thr_cv);
        pthread_mutex_unlock(&thr_mu);
        pthread_join(thr, NULL);
        thr_on = false;
    }
    if (cluster_mode && st) {
        const char *v[1] = {instance};
        q("DELETE FROM key_rates WHERE instance = $1", v, 1, NULL);
    }
    cluster_mode = false;
    free(published);
    published = NULL;
    n_published = 0;
    keys_set_hooks(NULL);
    st = NULL;
    sq = NULL;
}

/* ---- queries ------------------------------------------------------------- */

int keys_store_usage(int64_t id, int days, struct key_day_usage **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (days < 1)
        days = 1;
    char idb[24], since[11];
    fmt(idb, id);
    utc_day(gg_now_ms() - (int64_t)(days - 1) * 86400000LL, since, false);
    const char *v[2] = {idb, since};
    if (sq)
        storeq_flush(sq, 2000);
    struct store_rows rows = {0};
    if (q("SELECT day, model, requests, errors, tokens_in, tokens_out FROM key_usage WHERE key_id = $1 "
          "AND day >= $2 ORDER BY day DESC, model",
          v, 2, &rows) != STORE_OK)
        return -1;
    struct key_day_usage *u = calloc(rows.nrows ? rows.nrows : 1, sizeof(*u));
    if (!u) {
        store_rows_free(&rows);
        return -1;
    }
    for (size_t r = 0; r < rows.nrows; r++) {
        char **c = &rows.cell[r * rows.ncols];
        copy(u[r].day, sizeof(u[r].day), c[0]);
        copy(u[r].model, sizeof(u[r].model), c[1]);
        u[r].requests = num(c[2]);
        u[r].errors = num(c[3]);
        u[r].tokens_in = num(c[4]);
        u[r].tokens_out = num(c[5]);
    }
    *out = u;
    *n = rows.nrows;
    store_rows_free(&rows);
    return 0;
}

int keys_store_set_account_tags(int64_t id, const char *tags)
{
    char idb[24];
    fmt(idb, id);
    const char *v[2] = {idb, tags ? tags : ""};
    pthread_mutex_lock(&sync_mu);     /* a sync must not bring back the old list */
    int rc = id > 0 ? q("UPDATE gemini_accounts SET tags = $2 WHERE id = $1", v, 2, NULL) : STORE_OK;
    if (rc != STORE_OK)
        GG_WARN("keys: cannot save the tags of account %lld: %s", (long long)id, store_last_error());
    else
        rc = acct_tags_set(id, tags ? tags : "");
    pthread_mutex_unlock(&sync_mu);
    return rc == STORE_OK ? 0 : -1;
}
