/* sessions.c -- see sessions.h */
#include "sessions.h"

#include "credsave.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_log.h"
#include "gg_time.h"
#include "store.h"
#include "storeq.h"

#define NBUCKETS 4096
#define MAX_ENTRIES 200000

struct entry {
    char key[65];
    int64_t account_id;
    char *session, *model;
    int64_t used_ms;
    struct entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[NBUCKETS];
static size_t count;
static struct store *store;
static struct storeq *queue;

static unsigned bucket_of(const char *key)
{
    unsigned h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % NBUCKETS;
}

static void free_entry(struct entry *e)
{
    free(e->session);
    free(e->model);
    free(e);
}

void sessions_init(struct store *st, struct storeq *q)
{
    store = st;
    queue = q;
    /* the cookie saver shares this store hook (credsave.h) */
    if (credsave_start(st) != 0)
        GG_WARN("cannot start the cookie saver: refreshed cookies will not persist");
}

void sessions_shutdown(void)
{
    credsave_stop();
    pthread_mutex_lock(&lock);
    for (int i = 0; i < NBUCKETS; i++) {
        struct entry *e = buckets[i];
        while (e) {
            struct entry *n = e->next;
            free_entry(e);
            e = n;
        }
        buckets[i] = NULL;
    }
    count = 0;
    pthread_mutex_unlock(&lock);
}

static int64_t ttl_ms(void)
{
    return cfg.session_ttl * 1000;
}

int sessions_take(const char *key, int64_t *account_id, char **session, char **model)
{
    int64_t now = gg_now_ms();
    unsigned b = bucket_of(key);
    pthread_mutex_lock(&lock);
    struct entry **pp = &buckets[b];
    while (*pp) {
        struct entry *e = *pp;
        if (strcmp(e->key, key) == 0) {
            *pp = e->next;
            count--;
            pthread_mutex_unlock(&lock);
            int rc = -1;
            if (cfg.session_ttl > 0 && now - e->used_ms < ttl_ms()) {
                *account_id = e->account_id;
                *session = e->session;
                *model = e->model;
                e->session = e->model = NULL;
                rc = 0;
            }
            free_entry(e);
            if (queue)
                storeq_put_session_delete(queue, key);
            return rc;
        }
        pp = &e->next;
    }
    pthread_mutex_unlock(&lock);
    if (!store || cfg.session_ttl <= 0)
        return -1;
    struct store_session ss;
    memset(&ss, 0, sizeof(ss));
    if (store_session_get(store, key, &ss) != STORE_OK)
        return -1;
    int rc = -1;
    if (now - ss.updated_at < ttl_ms() && ss.session_name) {
        *account_id = ss.account_id;
        *session = ss.session_name;
        *model = ss.model;
        ss.session_name = ss.model = NULL;
        rc = 0;
    }
    store_session_clear(&ss);
    if (queue)
        storeq_put_session_delete(queue, key);
    return rc;
}

/* Drop expired entries, and while above 90% of the cap, any entry: one
 * O(n) pass frees room for MAX_ENTRIES/10 puts (amortised O(1)). */
static void evict_locked(int64_t now)
{
    for (int i = 0; i < NBUCKETS; i++) {
        struct entry **pp = &buckets[i];
        while (*pp) {
            struct entry *e = *pp;
            if (now - e->used_ms >= ttl_ms() || count > MAX_ENTRIES / 10 * 9) {
                *pp = e->next;
                free_entry(e);
                count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

void sessions_put(const char *key, int64_t account_id, const char *session, const char *model)
{
    if (cfg.session_ttl <= 0 || !session)
        return;
    int64_t now = gg_now_ms();
    struct entry *e = calloc(1, sizeof(*e));
    if (!e)
        return;
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->account_id = account_id;
    e->session = strdup(session);
    e->model = model ? strdup(model) : NULL;
    if (!e->session || (model && !e->model)) {
        free_entry(e);               /* not remembered: the next turn starts a new session */
        return;
    }
    e->used_ms = now;
    unsigned b = bucket_of(key);
    pthread_mutex_lock(&lock);
    if (count >= MAX_ENTRIES)
        evict_locked(now);
    e->next = buckets[b];
    buckets[b] = e;
    count++;
    pthread_mutex_unlock(&lock);
    if (queue) {
        struct store_session ss = {
            .conv_key = (char *)key, .account_id = account_id, .session_name = (char *)session,
            .model = (char *)model, .turns = 1, .updated_at = now,
        };
        storeq_put_session(queue, &ss);
    }
}

void sessions_drop_account(int64_t account_id)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < NBUCKETS; i++) {
        struct entry **pp = &buckets[i];
        while (*pp) {
            struct entry *e = *pp;
            if (e->account_id == account_id) {
                *pp = e->next;
                free_entry(e);
                count--;
            } else {
                pp = &e->next;
            }
        }
    }
    pthread_mutex_unlock(&lock);
}

size_t sessions_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = count;
    pthread_mutex_unlock(&lock);
    return n;
}
