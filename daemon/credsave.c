/* credsave.c -- see credsave.h */
#include "credsave.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_log.h"
#include "gg_util.h"
#include "pool.h"
#include "secretbox.h"
#include "store.h"

#define CREDSAVE_MAX 64
#define ENV_KEY "env_cookies"

struct job {
    int64_t id;
    bool from_env;
    char *ses, *oses;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_t thr;
static bool running, stopping;
static struct store *store;
static struct job q[CREDSAVE_MAX];
static size_t qn;

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void job_clear(struct job *j)
{
    wipe_free(j->ses);
    wipe_free(j->oses);
    memset(j, 0, sizeof(*j));
}

static void env_hash(char out[65])
{
    const char *v = cfg.secure_c_ses ? cfg.secure_c_ses : "";
    gg_sha256_hex(v, strlen(v), out);
}

static void save_env(const struct job *j)
{
    char err[160], h[65];
    struct secretbox *box = secretbox_new(cfg.secret_key, cfg.secret_key_old, err, sizeof(err));
    char *ses = NULL, *oses = NULL;
    if (!box || secretbox_seal(box, j->ses, "env_cookies/ses", &ses, err, sizeof(err)) != 0 ||
        secretbox_seal(box, j->oses, "env_cookies/oses", &oses, err, sizeof(err)) != 0) {
        GG_WARN("refreshed cookies of the environment account not saved: %s", err);
        goto out;
    }
    env_hash(h);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "csesidx", cfg.csesidx ? cfg.csesidx : "");
    cJSON_AddStringToObject(o, "base", h);
    cJSON_AddStringToObject(o, "ses", ses);
    if (oses)
        cJSON_AddStringToObject(o, "oses", oses);
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!txt || store_kv_put(store, ENV_KEY, txt) != STORE_OK)
        GG_WARN("refreshed cookies of the environment account not saved: %s", txt ? store_last_error() : "out of memory");
    else
        GG_INFO("refreshed cookies of the environment account saved");
    wipe_free(txt);
out:
    wipe_free(ses);
    wipe_free(oses);
    secretbox_free(box);
}

static void save_row(const struct job *j)
{
    struct store_account row;
    memset(&row, 0, sizeof(row));
    if (store_account_get(store, j->id, &row) != STORE_OK) {
        GG_WARN("refreshed cookies of account %lld not saved: %s", (long long)j->id, store_last_error());
        return;
    }
    wipe_free(row.secure_c_ses);
    row.secure_c_ses = strdup(j->ses);
    if (j->oses) {
        wipe_free(row.host_c_oses);
        row.host_c_oses = strdup(j->oses);
    }
    if (!row.secure_c_ses || (j->oses && !row.host_c_oses))
        GG_WARN("refreshed cookies of account %lld not saved: out of memory", (long long)j->id);
    else if (store_account_update(store, &row) != STORE_OK)
        GG_WARN("refreshed cookies of account %lld not saved: %s", (long long)j->id, store_last_error());
    else
        GG_INFO("refreshed cookies of account %lld saved", (long long)j->id);
    store_account_clear(&row);
}

static void *worker(void *arg)
{
    (void)arg;
    gg_thread_role("gg-creds", true);
    pthread_mutex_lock(&mu);
    for (;;) {
        while (qn == 0 && !stopping)
            pthread_cond_wait(&cv, &mu);
        if (qn == 0)
            break;
        struct job j = q[0];
        memmove(&q[0], &q[1], (qn - 1) * sizeof(q[0]));
        qn--;
        pthread_mutex_unlock(&mu);
        if (j.from_env)
            save_env(&j);
        else
            save_row(&j);
        job_clear(&j);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* pool callback (upstream thread): queue, never block on the store */
static void on_cookies(const struct account *a, const char *ses, const char *oses)
{
    struct job j = {.id = a->id, .from_env = a->from_env};
    j.ses = strdup(ses);
    j.oses = oses ? strdup(oses) : NULL;
    if (!j.ses || (oses && !j.oses)) {
        job_clear(&j);
        GG_WARN("refreshed cookies of account %lld not saved: out of memory", (long long)a->id);
        return;
    }
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < qn; i++) {
        if (q[i].id == j.id && q[i].from_env == j.from_env) {
            job_clear(&q[i]);      /* the newest renewal wins */
            q[i] = j;
            pthread_mutex_unlock(&mu);
            return;
        }
    }
    if (qn == CREDSAVE_MAX || !running) {
        pthread_mutex_unlock(&mu);
        GG_WARN("refreshed cookies of account %lld not saved: queue full", (long long)a->id);
        job_clear(&j);
        return;
    }
    q[qn++] = j;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

/* The environment account's last renewal, when it still applies. */
static void restore_env(void)
{
    if (!cfg.secure_c_ses || !*cfg.secure_c_ses)
        return;
    char *txt = NULL;
    if (store_kv_get(store, ENV_KEY, &txt) != STORE_OK || !txt)
        return;
    cJSON *o = cJSON_Parse(txt);
    wipe_free(txt);
    char h[65], err[160];
    env_hash(h);
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "csesidx");
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(o, "base");
    const cJSON *ses = cJSON_GetObjectItemCaseSensitive(o, "ses");
    const cJSON *oses = cJSON_GetObjectItemCaseSensitive(o, "oses");
    if (!cJSON_IsString(cs) || !cJSON_IsString(base) || !cJSON_IsString(ses) || !cfg.csesidx ||
        strcmp(cs->valuestring, cfg.csesidx) != 0 || strcmp(base->valuestring, h) != 0) {
        cJSON_Delete(o);
        return;      /* another account, or SECURE_C_SES was changed since */
    }
    struct secretbox *box = secretbox_new(cfg.secret_key, cfg.secret_key_old, err, sizeof(err));
    char *ps = NULL, *po = NULL;
    if (box && secretbox_open(box, ses->valuestring, "env_cookies/ses", &ps, err, sizeof(err)) == 0 &&
        (!cJSON_IsString(oses) || secretbox_open(box, oses->valuestring, "env_cookies/oses", &po, err, sizeof(err)) == 0) && ps) {
        struct account *a = pool_get(0);
        if (a && a->from_env && pool_restore_cookies(a, ps, po) == 0)
            GG_INFO("environment account: using the cookies refreshed earlier");
        if (a)
            pool_put(a);
    } else {
        GG_WARN("environment account: saved refreshed cookies unreadable (%s); using SECURE_C_SES", err);
    }
    wipe_free(ps);
    wipe_free(po);
    secretbox_free(box);
    cJSON_Delete(o);
}

int credsave_start(struct store *st)
{
    if (!st || running)
        return 0;
    store = st;
    restore_env();
    stopping = false;
    if (pthread_create(&thr, NULL, worker, NULL) != 0)
        return -1;
    running = true;
    pool_set_cookie_cb(on_cookies);
    return 0;
}

void credsave_stop(void)
{
    if (!running)
        return;
    pool_set_cookie_cb(NULL);
    pthread_mutex_lock(&mu);
    stopping = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(thr, NULL);
    running = false;
    for (size_t i = 0; i < qn; i++)
        job_clear(&q[i]);
    qn = 0;
    store = NULL;
}
