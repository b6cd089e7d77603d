/* auth.c -- see auth.h */
#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "store.h"

#define MAX_KEYS 64
#define LOCK_FAILS 5
#define LOCK_WINDOW_MS (10 * 60 * 1000)
#define LOCK_TIME_MS (15 * 60 * 1000)
#define LOCK_SLOTS 256

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static char *api_keys[MAX_KEYS];
static int n_api;
static char *admin_key;            /* plaintext, or NULL when only the hash is known */
static char admin_hash[65];        /* sha256 hex of the admin key */

struct fail_slot { char ip[64]; int fails; int64_t first_ms, locked_until; };
static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fail_slot slots[LOCK_SLOTS];

void auth_free(void)
{
    pthread_rwlock_wrlock(&lock);
    for (int i = 0; i < n_api; i++) {
        free(api_keys[i]);
        api_keys[i] = NULL;
    }
    n_api = 0;
    free(admin_key);
    admin_key = NULL;
    pthread_rwlock_unlock(&lock);
}

int auth_reload(struct store *st)
{
    char *keys[MAX_KEYS];
    int n = 0;
    if (cfg.api_key && *cfg.api_key) {
        char *copy = strdup(cfg.api_key), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t && n < MAX_KEYS; t = strtok_r(NULL, ",", &save)) {
            t = gg_trim(t);
            if (*t)
                keys[n++] = strdup(t);
        }
        free(copy);
    }
    char *adm = NULL;
    char hash[65] = "";
    if (cfg.admin_key && *cfg.admin_key)
        adm = strdup(cfg.admin_key);
    else if (n > 0)
        adm = strdup(keys[0]);
    if (adm) {
        gg_sha256_hex(adm, strlen(adm), hash);
    } else {
        char *stored = NULL;
        if (st && store_kv_get(st, "admin_key_sha256", &stored) == STORE_OK && stored && strlen(stored) == 64) {
            snprintf(hash, sizeof(hash), "%s", stored);
            GG_INFO("admin key: using the generated key stored (hashed) in the database");
        } else {
            char gen[49];
            gg_random_hex(gen, 24);
            char key[64];
            snprintf(key, sizeof(key), "gga-%s", gen);
            gg_sha256_hex(key, strlen(key), hash);
            if (st)
                store_kv_put(st, "admin_key_sha256", hash);
            /* printed once, on purpose: this is how the operator learns it */
            fprintf(stderr, "\n  gemgate: no ADMIN_KEY or API_KEY set; generated admin key: %s\n"
                            "  (stored hashed; it will not be shown again)\n\n", key);
        }
        free(stored);
    }
    pthread_rwlock_wrlock(&lock);
    for (int i = 0; i < n_api; i++)
        free(api_keys[i]);
    for (int i = 0; i < n; i++)
        api_keys[i] = keys[i];
    n_api = n;
    free(admin_key);
    admin_key = adm;
    memcpy(admin_hash, hash, sizeof(admin_hash));
    pthread_rwlock_unlock(&lock);
    if (n == 0)
        GG_WARN("API_KEY is not set: the OpenAI API accepts requests without a key");
    return 0;
}

bool auth_api_required(void)
{
    pthread_rwlock_rdlock(&lock);
    bool r = n_api > 0;
    pthread_rwlock_unlock(&lock);
    return r;
}

bool auth_check_api(const char *token, char key_id[24])
{
    bool ok = false;
    pthread_rwlock_rdlock(&lock);
    if (n_api == 0) {
        ok = true;
        snprintf(key_id, 24, "anonymous");
    } else if (token) {
        size_t tl = strlen(token);
        for (int i = 0; i < n_api; i++)
            if (gg_ct_equal(token, tl, api_keys[i], strlen(api_keys[i]))) {
                ok = true;
                char h[65];
                gg_sha256_hex(api_keys[i], strlen(api_keys[i]), h);
                snprintf(key_id, 24, "k%.16s", h);
            }
    }
    pthread_rwlock_unlock(&lock);
    return ok;
}

static struct fail_slot *slot_for(const char *ip, bool create)
{
    struct fail_slot *free_s = NULL, *oldest = &slots[0];
    for (int i = 0; i < LOCK_SLOTS; i++) {
        if (strcmp(slots[i].ip, ip) == 0)
            return &slots[i];
        if (!slots[i].ip[0] && !free_s)
            free_s = &slots[i];
        if (slots[i].first_ms < oldest->first_ms)
            oldest = &slots[i];
    }
    if (!create)
        return NULL;
    struct fail_slot *s = free_s ? free_s : oldest;
    memset(s, 0, sizeof(*s));
    snprintf(s->ip, sizeof(s->ip), "%s", ip);
    return s;
}

int auth_check_admin(const char *token, const char *ip)
{
    int64_t now = gg_mono_ms();
    if (!ip)
        ip = "";
    pthread_mutex_lock(&fail_mu);
    struct fail_slot *s = slot_for(ip, false);
    if (s && s->locked_until > now) {
        int left = (int)((s->locked_until - now + 999) / 1000);
        pthread_mutex_unlock(&fail_mu);
        return left;
    }
    pthread_mutex_unlock(&fail_mu);
    bool ok = false;
    if (token && *token) {
        char h[65];
        gg_sha256_hex(token, strlen(token), h);
        pthread_rwlock_rdlock(&lock);
        ok = gg_ct_equal(h, 64, admin_hash, strlen(admin_hash));
        pthread_rwlock_unlock(&lock);
    }
    pthread_mutex_lock(&fail_mu);
    if (ok) {
        s = slot_for(ip, false);
        if (s)
            memset(s, 0, sizeof(*s));
        pthread_mutex_unlock(&fail_mu);
        return 0;
    }
    s = slot_for(ip, true);
    if (now - s->first_ms > LOCK_WINDOW_MS) {
        s->first_ms = now;
        s->fails = 0;
    }
    if (++s->fails >= LOCK_FAILS) {
        s->locked_until = now + LOCK_TIME_MS;
        GG_WARN("admin: %s locked out for %d s after %d bad keys", ip, LOCK_TIME_MS / 1000, s->fails);
    }
    pthread_mutex_unlock(&fail_mu);
    return -1;
}
