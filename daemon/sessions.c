/* sessions.c -- see sessions.h
 *
 * The cache is one anonymous mapping of cap fixed-size slots (SESS_SLOT
 * bytes: header, then key, session and model inline), reserved at first
 * use and touched only as slots are used, so its pages are never
 * interleaved with per-call buffers in malloc's arenas (they do not pin
 * freed memory after a burst) and it never grows past cap * SESS_SLOT.
 * Slots are linked by 32-bit index (0 = none): a hash chain per bucket and
 * one LRU list (head = most recent, tail = next to go).  Free slots form a
 * LIFO list, so a working set below the cap keeps reusing the same pages.
 */
#include "sessions.h"

#include "credsave.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "config.h"
#include "gg_log.h"
#include "gg_time.h"
#include "store.h"
#include "storeq.h"

struct entry {
    uint32_t hnext;            /* next slot in the bucket's chain */
    uint32_t prev, next;       /* LRU neighbours (prev = more recent) */
    uint32_t hash;
    int64_t account_id;
    int64_t used_ms;
    uint8_t klen, slen, mlen;  /* string lengths; mlen 255 = no model */
    char data[];               /* key \0 session \0 [model \0] */
};

#define NO_MODEL 255
#define DATA_MAX (SESS_SLOT - sizeof(struct entry))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *slots;   /* cap slots; slot i (1-based) at slots + (i - 1) * SESS_SLOT */
static uint32_t *buckets;      /* nbuckets heads */
static size_t map_bytes;
static uint32_t cap, nbuckets, fresh; /* fresh: slots handed out so far */
static uint32_t free_head, lru_head, lru_tail;
static size_t count;
static bool table_failed;
static struct store *store;
static struct storeq *queue;

static struct entry *E(uint32_t i)
{
    return (struct entry *)(void *)(slots + (size_t)(i - 1) * SESS_SLOT);
}

static uint32_t hash_of(const char *key)
{
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

/* Reserve the table at first use (cfg.session_cache_max slots). */
static bool table_locked(void)
{
    if (slots)
        return true;
    if (table_failed)
        return false;
    int64_t want = cfg.session_cache_max;
    if (want <= 0)
        return false;
    if (want > SESS_CACHE_LIMIT)
        want = SESS_CACHE_LIMIT;
    uint32_t nb = 1024;
    while (nb < (uint64_t)want)
        nb <<= 1;
    size_t bytes = (size_t)want * SESS_SLOT + (size_t)nb * sizeof(uint32_t);
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        table_failed = true;
        GG_WARN("sessions: cannot map the conversation cache (%zu bytes): only the store keeps conversations",
                bytes);
        return false;
    }
    slots = m;
    cap = (uint32_t)want;
    buckets = (uint32_t *)(void *)(slots + (size_t)cap * SESS_SLOT);
    nbuckets = nb;
    map_bytes = bytes;
    fresh = free_head = lru_head = lru_tail = 0;
    count = 0;
    return true;
}

static void lru_unlink(uint32_t i)
{
    struct entry *e = E(i);
    if (e->prev)
        E(e->prev)->next = e->next;
    else
        lru_head = e->next;
    if (e->next)
        E(e->next)->prev = e->prev;
    else
        lru_tail = e->prev;
    e->prev = e->next = 0;
}

static void lru_push_head(uint32_t i)
{
    struct entry *e = E(i);
    e->prev = 0;
    e->next = lru_head;
    if (lru_head)
        E(lru_head)->prev = i;
    lru_head = i;
    if (!lru_tail)
        lru_tail = i;
}

/* Unlink slot i from its chain and the LRU list and free it. */
static void remove_locked(uint32_t i)
{
    struct entry *e = E(i);
    uint32_t *pp = &buckets[e->hash & (nbuckets - 1)];
    while (*pp && *pp != i)
        pp = &E(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(i);
    e->hnext = free_head;
    free_head = i;
    count--;
}

static uint32_t find_locked(const char *key, uint32_t h)
{
    for (uint32_t i = buckets[h & (nbuckets - 1)]; i; i = E(i)->hnext) {
        struct entry *e = E(i);
        if (e->hash == h && strcmp(e->data, key) == 0)
            return i;
    }
    return 0;
}

static int64_t ttl_ms(void)
{
    return cfg.session_ttl * 1000;
}

/* Drop expired entries from the tail (the LRU order is the order of use). */
static void expire_locked(int64_t now)
{
    while (lru_tail && now - E(lru_tail)->used_ms >= ttl_ms())
        remove_locked(lru_tail);
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
    if (slots)
        munmap(slots, map_bytes);
    slots = NULL;
    buckets = NULL;
    cap = nbuckets = fresh = free_head = lru_head = lru_tail = 0;
    count = 0;
    table_failed = false;
    store = NULL;
    queue = NULL;
    pthread_mutex_unlock(&lock);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int sessions_take(const char *key, int64_t *account_id, char **session, char **model)
{
    int64_t now = gg_now_ms();
    uint32_t h = hash_of(key);
    pthread_mutex_lock(&lock);
    uint32_t i = slots ? find_locked(key, h) : 0;
    if (i) {
        struct entry *e = E(i);
        int rc = -1;
        if (cfg.session_ttl > 0 && now - e->used_ms < ttl_ms()) {
            const char *s = e->data + e->klen + 1;
            char *sd = dup_n(s, e->slen);
            char *md = e->mlen == NO_MODEL ? NULL : dup_n(s + e->slen + 1, e->mlen);
            if (sd && (e->mlen == NO_MODEL || md)) {
                *account_id = e->account_id;
                *session = sd;
                *model = md;
                rc = 0;
            } else {
                free(sd);
                free(md);
            }
        }
        bool stored = e->account_id > 0;   /* the environment account (0) has no store rows */
        remove_locked(i);
        pthread_mutex_unlock(&lock);
        if (queue && stored)
            storeq_put_session_delete(queue, key);
        return rc;
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

/* Keep the mapping in memory; false when it does not fit a slot or the
 * cache is off (the store still has it). */
static bool cache_put(const char *key, uint32_t h, int64_t account_id, const char *session, const char *model,
                      int64_t now)
{
    size_t kl = strlen(key), sl = strlen(session), ml = model ? strlen(model) : 0;
    if (kl > 254 || sl > 254 || ml > 254 || kl + sl + ml + 3 > DATA_MAX)
        return false;
    pthread_mutex_lock(&lock);
    if (!table_locked()) {
        pthread_mutex_unlock(&lock);
        return false;
    }
    uint32_t i = find_locked(key, h);
    if (i)
        remove_locked(i);
    expire_locked(now);
    if (free_head) {
        i = free_head;
        free_head = E(i)->hnext;
    } else if (fresh < cap) {
        i = ++fresh;
    } else {
        i = lru_tail;              /* full: the least recently used goes */
        remove_locked(i);
        free_head = E(i)->hnext;
    }
    struct entry *e = E(i);
    e->hash = h;
    e->account_id = account_id;
    e->used_ms = now;
    e->klen = (uint8_t)kl;
    e->slen = (uint8_t)sl;
    e->mlen = model ? (uint8_t)ml : NO_MODEL;
    memcpy(e->data, key, kl + 1);
    memcpy(e->data + kl + 1, session, sl + 1);
    if (model)
        memcpy(e->data + kl + 1 + sl + 1, model, ml + 1);
    uint32_t *b = &buckets[h & (nbuckets - 1)];
    e->hnext = *b;
    *b = i;
    lru_push_head(i);
    count++;
    pthread_mutex_unlock(&lock);
    return true;
}

void sessions_put(const char *key, int64_t account_id, const char *session, const char *model)
{
    if (cfg.session_ttl <= 0 || !session || !key)
        return;
    int64_t now = gg_now_ms();
    bool cached = cache_put(key, hash_of(key), account_id, session, model, now);
    bool persist = queue && account_id > 0;  /* the store keeps mappings of stored accounts only */
    if (!cached && !persist)
        GG_DEBUG("sessions: a conversation was not kept (cache off or strings over %zu bytes)", DATA_MAX);
    if (persist) {
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
    for (uint32_t i = lru_head; i;) {
        uint32_t n = E(i)->next;
        if (E(i)->account_id == account_id)
            remove_locked(i);
        i = n;
    }
    pthread_mutex_unlock(&lock);
}

void sessions_expire(void)
{
    int64_t now = gg_now_ms();
    pthread_mutex_lock(&lock);
    if (slots)
        expire_locked(now);
    pthread_mutex_unlock(&lock);
}

size_t sessions_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = count;
    pthread_mutex_unlock(&lock);
    return n;
}

size_t sessions_capacity(void)
{
    pthread_mutex_lock(&lock);
    size_t n = cap;
    pthread_mutex_unlock(&lock);
    return n;
}
