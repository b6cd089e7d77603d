/* keys.c -- see keys.h */
#include "keys.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gg_time.h"
#include "keys_int.h"
#include "gg_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct key **keys;
static size_t n_keys, cap_keys;
static struct key *buckets[NBUCKETS];
static struct key *idbuckets[NBUCKETS];
static int64_t next_id = 1;
static struct key_hooks hooks;

void keys_set_hooks(const struct key_hooks *h)
{
    pthread_mutex_lock(&lock);
    if (h)
        hooks = *h;
    else
        memset(&hooks, 0, sizeof(hooks));
    pthread_mutex_unlock(&lock);
}

/* Copy a NUL-terminated string into a buffer of n bytes (truncating). */
static void scopy(char *dst, size_t n, const char *src)
{
    size_t l = strlen(src);
    if (l >= n)
        l = n - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

/* ---- table --------------------------------------------------------------- */

static unsigned bucket_of(const char *hash)
{
    unsigned v = 0;
    for (int i = 0; i < 8 && hash[i]; i++)
        v = v * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : (hash[i] | 0x20) - 'a' + 10);
    return v % NBUCKETS;
}

static unsigned idbucket_of(int64_t id)
{
    return (unsigned)((uint64_t)id % NBUCKETS);
}

static void index_add(struct key *k)
{
    unsigned b = bucket_of(k->info.hash);
    k->next_hash = buckets[b];
    buckets[b] = k;
    b = idbucket_of(k->info.id);
    k->next_byid = idbuckets[b];
    idbuckets[b] = k;
}

static void index_del(struct key *k)
{
    struct key **pp = &buckets[bucket_of(k->info.hash)];
    while (*pp && *pp != k)
        pp = &(*pp)->next_hash;
    if (*pp)
        *pp = k->next_hash;
    pp = &idbuckets[idbucket_of(k->info.id)];
    while (*pp && *pp != k)
        pp = &(*pp)->next_byid;
    if (*pp)
        *pp = k->next_byid;
}

static struct key *find_id(int64_t id)
{
    for (struct key *k = idbuckets[idbucket_of(id)]; k; k = k->next_byid)
        if (k->info.id == id)
            return k;
    return NULL;
}

static void key_free(struct key *k)
{
    if (k) {
        free(k->ring);
        free(k);
    }
}

static int insert_locked(const struct key_info *info)
{
    struct key *k = calloc(1, sizeof(*k));
    if (!k)
        return -1;
    k->info = *info;
    if (kw_size_ring(k) != 0) {
        key_free(k);
        return -1;
    }
    if (n_keys == cap_keys) {
        size_t nc = cap_keys ? cap_keys * 2 : 16;
        struct key **nk = realloc(keys, nc * sizeof(*nk));
        if (!nk) {
            key_free(k);
            return -1;
        }
        keys = nk;
        cap_keys = nc;
    }
    keys[n_keys++] = k;
    index_add(k);
    if (info->id >= next_id)
        next_id = info->id + 1;
    return 0;
}

int keys_load(const struct key_info *rows, size_t n)
{
    int rc = 0;
    pthread_mutex_lock(&lock);
    /* keep the runtime counters of keys that survive */
    for (size_t i = 0; i < n; i++) {
        struct key *k = find_id(rows[i].id);
        if (k) {
            bool rehash = strcmp(k->info.hash, rows[i].hash) != 0;
            if (rehash)
                index_del(k);
            k->info = rows[i];
            if (rehash)
                index_add(k);
            if (kw_size_ring(k) != 0)
                rc = -1;
        } else if (insert_locked(&rows[i]) != 0) {
            rc = -1;
        }
    }
    for (size_t i = 0; i < n_keys;) {
        bool keep = false;
        for (size_t j = 0; j < n && !keep; j++)
            keep = rows[j].id == keys[i]->info.id;
        if (keep) {
            i++;
            continue;
        }
        index_del(keys[i]);
        key_free(keys[i]);
        keys[i] = keys[--n_keys];
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static int check_limits(const struct key_limits *lim, char *err, size_t errlen)
{
    if (lim->rpm < 0 || lim->tpm < 0 || lim->tokens_day < 0 || lim->tokens_month < 0 || lim->max_concurrent < 0) {
        snprintf(err, errlen, "limits must be 0 (unlimited) or positive");
        return -1;
    }
    for (const char *p = lim->group; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.')) {
            snprintf(err, errlen, "group: letters, digits, '-', '_' and '.' only");
            return -1;
        }
    return 0;
}

static int check_name(const char *name, char *err, size_t errlen)
{
    if (!name || !*name || strlen(name) >= sizeof(((struct key_info *)0)->name)) {
        snprintf(err, errlen, "name: required, at most 63 bytes");
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "name: control characters are not allowed");
            return -1;
        }
    return 0;
}

int keys_create(const char *name, const char *note, int64_t expires_at, const struct key_limits *lim,
                struct key_info *out, char *secret, char *err, size_t errlen)
{
    struct key_limits none = {0};
    if (!lim)
        lim = &none;
    if (check_name(name, err, errlen) != 0 || check_limits(lim, err, errlen) != 0)
        return -1;
    if (note && strlen(note) >= sizeof(out->note)) {
        snprintf(err, errlen, "note: at most 255 bytes");
        return -1;
    }
    char hex[41];
    gg_random_hex(hex, 20);
    snprintf(secret, KEY_SECRET_LEN + 1, "gk-%s", hex);
    struct key_info k = {0};
    snprintf(k.name, sizeof(k.name), "%s", name);
    snprintf(k.note, sizeof(k.note), "%s", note ? note : "");
    snprintf(k.prefix, sizeof(k.prefix), "%.*s", KEY_PREFIX_LEN, secret);
    gg_sha256_hex(secret, strlen(secret), k.hash);
    k.created_at = gg_now_ms();
    k.expires_at = expires_at;
    k.enabled = true;
    k.lim = *lim;
    pthread_mutex_lock(&lock);
    int (*ins)(struct key_info *) = hooks.insert;
    int (*save)(const struct key_info *) = hooks.save;
    pthread_mutex_unlock(&lock);
    if (ins) {
        /* the store assigns the id (unique across instances on a shared store) */
        if (ins(&k) != 0) {
            snprintf(err, errlen, "the store refused the key");
            return -1;
        }
        save = NULL;
    }
    pthread_mutex_lock(&lock);
    if (!ins)
        k.id = next_id;
    int rc = find_id(k.id) ? 0 : insert_locked(&k);
    pthread_mutex_unlock(&lock);
    if (rc != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (save && save(&k) != 0) {
        keys_delete(k.id);
        snprintf(err, errlen, "the store refused the key");
        return -1;
    }
    if (out)
        *out = k;
    return 0;
}

int keys_update(int64_t id, const char *name, const char *note, const int64_t *expires_at, const bool *enabled,
                const struct key_limits *lim, char *err, size_t errlen)
{
    if ((name && check_name(name, err, errlen) != 0) || (lim && check_limits(lim, err, errlen) != 0))
        return -1;
    if (note && strlen(note) >= sizeof(((struct key_info *)0)->note)) {
        snprintf(err, errlen, "note: at most 255 bytes");
        return -1;
    }
    pthread_mutex_lock(&lock);
    struct key *k = find_id(id);
    if (!k) {
        pthread_mutex_unlock(&lock);
        snprintf(err, errlen, "no key %lld", (long long)id);
        return -1;
    }
    struct key_info before = k->info;
    if (name)
        snprintf(k->info.name, sizeof(k->info.name), "%s", name);
    if (note)
        snprintf(k->info.note, sizeof(k->info.note), "%s", note);
    if (expires_at)
        k->info.expires_at = *expires_at;
    if (enabled)
        k->info.enabled = *enabled;
    if (lim)
        k->info.lim = *lim;
    if (kw_size_ring(k) != 0) {
        k->info = before;
        pthread_mutex_unlock(&lock);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct key_info now = k->info;
    int (*save)(const struct key_info *) = hooks.save;
    pthread_mutex_unlock(&lock);
    if (save && save(&now) != 0) {
        snprintf(err, errlen, "the store refused the change");
        return -1;
    }
    return 0;
}

int keys_delete(int64_t id)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_keys; i++) {
        if (keys[i]->info.id != id)
            continue;
        index_del(keys[i]);
        key_free(keys[i]);
        keys[i] = keys[--n_keys];
        int (*rm)(int64_t) = hooks.remove;
        pthread_mutex_unlock(&lock);
        if (rm)
            rm(id);
        return 0;
    }
    pthread_mutex_unlock(&lock);
    return -1;
}

static enum key_verdict deny(struct key_denial *d, enum key_verdict v, int status, int retry, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* rpm / tpm / max_concurrent with the other instances' counts added (cluster
 * sync); true and *d filled when over.  Retry after one sync period. */
static bool cluster_over(struct key *k, int64_t now, struct key_denial *d)
{
    const struct key_info *ki = &k->info;
    if (k->rem_until <= now)
        return false;
    if (ki->lim.max_concurrent > 0 && k->inflight + k->rem_inflight >= ki->lim.max_concurrent)
        deny(d, KEY_CONCURRENCY, 429, 1, "key '%s': %lld concurrent requests already running", ki->name,
             (long long)ki->lim.max_concurrent);
    else if (ki->lim.rpm > 0 && kw_minute_requests(k, now) + k->rem_req >= ki->lim.rpm)
        deny(d, KEY_RPM, 429, 2, "key '%s': rate limit of %lld requests per minute reached", ki->name,
             (long long)ki->lim.rpm);
    else if (ki->lim.tpm > 0 && kw_minute_tokens(k, now) + k->rem_tok >= ki->lim.tpm)
        deny(d, KEY_TPM, 429, 2, "key '%s': rate limit of %lld tokens per minute reached", ki->name,
             (long long)ki->lim.tpm);
    else
        return false;
    return true;
}

void keys_set_remote(int64_t key_id, int64_t minute_requests, int64_t minute_tokens, int inflight,
                     int64_t valid_until)
{
    pthread_mutex_lock(&lock);
    struct key *k = find_id(key_id);
    if (k) {
        k->rem_req = minute_requests;
        k->rem_tok = minute_tokens;
        k->rem_inflight = inflight;
        k->rem_until = valid_until;
    }
    pthread_mutex_unlock(&lock);
}

static void usage_of(struct key *k, int64_t now, struct key_usage_now *u)
{
    kw_roll(k, now);
    u->minute_requests = kw_minute_requests(k, now);
    u->minute_tokens = kw_minute_tokens(k, now);
    u->day_tokens = k->day_tokens;
    u->month_tokens = k->month_tokens;
    u->day_requests = k->day_requests;
    u->day_errors = k->day_errors;
    u->inflight = k->inflight;
    bool rem = k->rem_until > now;
    u->cluster_minute_requests = rem ? k->rem_req : 0;
    u->cluster_minute_tokens = rem ? k->rem_tok : 0;
    u->cluster_inflight = rem ? k->rem_inflight : 0;
    u->total_requests = (int64_t)k->tot_requests;
    u->total_errors = (int64_t)k->tot_errors;
    u->total_in = (int64_t)k->tot_in;
    u->total_out = (int64_t)k->tot_out;
}

int keys_get(int64_t id, struct key_info *out, struct key_usage_now *use)
{
    pthread_mutex_lock(&lock);
    struct key *k = find_id(id);
    if (k) {
        if (out)
            *out = k->info;
        if (use)
            usage_of(k, gg_now_ms(), use);
    }
    pthread_mutex_unlock(&lock);
    return k ? 0 : -1;
}

int keys_list(struct key_info **out, struct key_usage_now **use, size_t *n)
{
    pthread_mutex_lock(&lock);
    size_t m = n_keys;
    struct key_info *o = calloc(m ? m : 1, sizeof(*o));
    struct key_usage_now *u = use ? calloc(m ? m : 1, sizeof(*u)) : NULL;
    if (!o || (use && !u)) {
        pthread_mutex_unlock(&lock);
        free(o);
        free(u);
        return -1;
    }
    int64_t now = gg_now_ms();
    for (size_t i = 0; i < m; i++) {
        o[i] = keys[i]->info;
        if (u)
            usage_of(keys[i], now, &u[i]);
    }
    pthread_mutex_unlock(&lock);
    *out = o;
    if (use)
        *use = u;
    *n = m;
    return 0;
}

size_t keys_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = n_keys;
    pthread_mutex_unlock(&lock);
    return n;
}

/* ---- admission ----------------------------------------------------------- */

static bool shaped(const char *secret)
{
    if (!secret || strncmp(secret, "gk-", 3) != 0 || strlen(secret) != KEY_SECRET_LEN)
        return false;
    for (const char *p = secret + 3; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static struct key *find_secret_locked(const char *secret)
{
    if (!shaped(secret))
        return NULL;
    char h[65];
    gg_sha256_hex(secret, strlen(secret), h);
    for (struct key *k = buckets[bucket_of(h)]; k; k = k->next_hash)
        if (gg_ct_equal(k->info.hash, 64, h, 64))
            return k;
    return NULL;
}

bool keys_is_client_key(const char *secret)
{
    pthread_mutex_lock(&lock);
    bool r = find_secret_locked(secret) != NULL;
    pthread_mutex_unlock(&lock);
    return r;
}

static enum key_verdict deny(struct key_denial *d, enum key_verdict v, int status, int retry, const char *fmt, ...)
{
    d->verdict = v;
    d->status = status;
    d->retry_after = retry;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof(d->message), fmt, ap);
    va_end(ap);
    return v;
}

enum key_verdict keys_check_model(const struct key_ticket *t, const char *model, struct key_denial *d)
{
    if (!t || t->key_id == 0)
        return KEY_OK;
    pthread_mutex_lock(&lock);
    struct key *k = find_id(t->key_id);
    bool ok = !k || keys_model_allowed(k->info.lim.models, model);
    pthread_mutex_unlock(&lock);
    if (ok)
        return KEY_OK;
    return deny(d, KEY_MODEL, 403, 0, "model '%s' is not allowed for key '%s'", model ? model : "", t->name);
}

enum key_verdict keys_admit(const char *secret, const char *model, int64_t now, struct key_ticket *t,
                            struct key_denial *d)
{
    memset(t, 0, sizeof(*t));
    memset(d, 0, sizeof(*d));
    char when[40];
    pthread_mutex_lock(&lock);
    struct key *k = find_secret_locked(secret);
    enum key_verdict v = KEY_OK;
    if (!k) {
        v = deny(d, KEY_UNKNOWN, 401, 0, "invalid API key");
        goto out;
    }
    const struct key_info *ki = &k->info;
    if (!ki->enabled) {
        v = deny(d, KEY_DISABLED, 401, 0, "API key '%s' is disabled", ki->name);
        goto out;
    }
    if (ki->expires_at && ki->expires_at <= now) {
        v = deny(d, KEY_EXPIRED, 401, 0, "API key '%s' has expired", ki->name);
        goto out;
    }
    if (model && !keys_model_allowed(ki->lim.models, model)) {
        v = deny(d, KEY_MODEL, 403, 0, "model '%s' is not allowed for key '%s'", model, ki->name);
        goto out;
    }
    kw_roll(k, now);
    if (cluster_over(k, now, d)) {
        v = d->verdict;
        goto out;
    }
    if (ki->lim.max_concurrent > 0 && k->inflight >= ki->lim.max_concurrent) {
        v = deny(d, KEY_CONCURRENCY, 429, 1, "key '%s': %lld concurrent requests already running", ki->name,
                 (long long)ki->lim.max_concurrent);
        goto out;
    }
    if (k->ring_n) {
        int64_t oldest = k->ring[k->ring_pos]; /* the slot this request would reuse */
        if (oldest && oldest > now - 60000) {
            int ra = (int)((oldest + 60000 - now + 999) / 1000);
            v = deny(d, KEY_RPM, 429, ra > 0 ? ra : 1, "key '%s': rate limit of %lld requests per minute reached",
                     ki->name, (long long)ki->lim.rpm);
            goto out;
        }
    }
    if (ki->lim.tpm > 0) {
        int64_t used = kw_minute_tokens(k, now);
        if (used >= ki->lim.tpm) {
            /* the first second whose expiry brings the window under the limit */
            int64_t s = now / 1000, left = used;
            int ra = 60;
            for (int back = 59; back >= 0; back--) {
                int64_t sec = s - back;
                int slot = (int)(((sec % 60) + 60) % 60);
                if (k->tok_stamp[slot] == sec)
                    left -= k->tok_sec[slot];
                if (left < ki->lim.tpm) {
                    ra = 60 - back;
                    break;
                }
            }
            v = deny(d, KEY_TPM, 429, ra, "key '%s': rate limit of %lld tokens per minute reached", ki->name,
                     (long long)ki->lim.tpm);
            goto out;
        }
    }
    if (ki->lim.tokens_day > 0 && k->day_tokens >= ki->lim.tokens_day) {
        int64_t reset = (kw_day_of(now) + 1) * 86400000;
        struct tm tm;
        time_t tt = (time_t)(reset / 1000);
        gmtime_r(&tt, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        v = deny(d, KEY_DAY, 429, (int)((reset - now + 999) / 1000),
                 "key '%s': daily token quota of %lld exhausted; it resets at %s", ki->name,
                 (long long)ki->lim.tokens_day, when);
        goto out;
    }
    if (ki->lim.tokens_month > 0 && k->month_tokens >= ki->lim.tokens_month) {
        int64_t reset = kw_next_month_ms(now);
        struct tm tm;
        time_t tt = (time_t)(reset / 1000);
        gmtime_r(&tt, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        v = deny(d, KEY_MONTH, 429, (int)((reset - now + 999) / 1000),
                 "key '%s': monthly token quota of %lld exhausted; it resets at %s", ki->name,
                 (long long)ki->lim.tokens_month, when);
        goto out;
    }
    /* admitted: count it now, in the same critical section as the checks */
    if (k->ring_n) {
        k->ring[k->ring_pos] = now;
        k->ring_pos = (k->ring_pos + 1) % k->ring_n;
    }
    k->inflight++;
    k->day_requests++;
    int64_t sec = now / 1000;
    int slot = (int)(sec % 60);
    if (k->req_stamp[slot] != sec) {
        k->req_stamp[slot] = sec;
        k->req_sec[slot] = 0;
    }
    k->req_sec[slot]++;
    t->key_id = ki->id;
    scopy(t->name, sizeof(t->name), ki->name);
    scopy(t->group, sizeof(t->group), ki->lim.group);
out:
    pthread_mutex_unlock(&lock);
    return v;
}

void keys_finish(struct key_ticket *t, const char *model, int64_t tokens_in, int64_t tokens_out, bool error,
                 int64_t now)
{
    if (!t || t->key_id == 0)
        return;
    int64_t tokens = (tokens_in > 0 ? tokens_in : 0) + (tokens_out > 0 ? tokens_out : 0);
    void (*usage)(int64_t, const char *, const char *, int64_t, int64_t, bool);
    pthread_mutex_lock(&lock);
    struct key *k = find_id(t->key_id);
    if (k) {
        kw_roll(k, now);
        if (k->inflight > 0)
            k->inflight--;
        int64_t s = now / 1000;
        int slot = (int)(s % 60);
        if (k->tok_stamp[slot] != s) {
            k->tok_stamp[slot] = s;
            k->tok_sec[slot] = 0;
        }
        k->tok_sec[slot] += tokens;
        k->day_tokens += tokens;
        k->month_tokens += tokens;
        if (error)
            k->day_errors++;
        k->tot_requests++;
        k->tot_errors += error ? 1 : 0;
        k->tot_in += (uint64_t)(tokens_in > 0 ? tokens_in : 0);
        k->tot_out += (uint64_t)(tokens_out > 0 ? tokens_out : 0);
    }
    usage = hooks.usage;
    pthread_mutex_unlock(&lock);
    if (usage) {
        char day[16];
        time_t tt = (time_t)(now / 1000);
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        usage(t->key_id, day, model ? model : "", tokens_in, tokens_out, error);
    }
    t->key_id = 0;
}

static void raise_to(int64_t *v, int64_t at_least)
{
    if (*v < at_least)
        *v = at_least;
}

void keys_merge_usage(int64_t key_id, int64_t day_tokens, int64_t month_tokens, int64_t day_requests,
                      int64_t day_errors, int64_t now)
{
    pthread_mutex_lock(&lock);
    struct key *k = find_id(key_id);
    if (k) {
        kw_roll(k, now);
        raise_to(&k->day_tokens, day_tokens);
        raise_to(&k->month_tokens, month_tokens);
        raise_to(&k->day_requests, day_requests);
        raise_to(&k->day_errors, day_errors);
    }
    pthread_mutex_unlock(&lock);
}

enum key_verdict keys_authenticate(const char *secret, int64_t now, struct key_ticket *t, struct key_denial *d)
{
    memset(t, 0, sizeof(*t));
    memset(d, 0, sizeof(*d));
    enum key_verdict v = KEY_OK;
    pthread_mutex_lock(&lock);
    struct key *k = find_secret_locked(secret);
    if (!k)
        v = deny(d, KEY_UNKNOWN, 401, 0, "invalid API key");
    else if (!k->info.enabled)
        v = deny(d, KEY_DISABLED, 401, 0, "API key '%s' is disabled", k->info.name);
    else if (k->info.expires_at && k->info.expires_at <= now)
        v = deny(d, KEY_EXPIRED, 401, 0, "API key '%s' has expired", k->info.name);
    if (k && v == KEY_OK) {
        t->key_id = k->info.id;
        snprintf(t->name, sizeof(t->name), "%s", k->info.name);
        snprintf(t->group, sizeof(t->group), "%s", k->info.lim.group);
    }
    pthread_mutex_unlock(&lock);
    return v;
}

bool keys_shaped(const char *secret)
{
    return shaped(secret);
}

void keys_free(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_keys; i++)
        key_free(keys[i]);
    free(keys);
    keys = NULL;
    n_keys = cap_keys = 0;
    memset(buckets, 0, sizeof(buckets));
    memset(idbuckets, 0, sizeof(idbuckets));
    pthread_mutex_unlock(&lock);
}
