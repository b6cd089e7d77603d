/* results.c -- see results.h */
#include "results.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_time.h"

struct result {
    char *key_id, *id, *body, *session, *model;
    size_t len;
    int64_t account_id;
    int64_t expires_ms;
    struct result *prev, *next;     /* age order: head = oldest */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct result *head, *tail;
static size_t n_results, n_bytes;

static void unlink_r(struct result *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        tail = r->prev;
    n_results--;
    n_bytes -= r->len;
}

static void free_r(struct result *r)
{
    free(r->key_id);
    free(r->id);
    free(r->body);
    free(r->session);
    free(r->model);
    free(r);
}

/* Under lock: drop expired entries from the old end, then the oldest while
 * over budget. */
static void trim(int64_t now, size_t room)
{
    while (head && (head->expires_ms <= now || n_results >= RESULTS_MAX || n_bytes + room > RESULTS_MAX_BYTES)) {
        struct result *r = head;
        unlink_r(r);
        free_r(r);
    }
}

static struct result *find(const char *key_id, const char *id, int64_t now)
{
    for (struct result *r = tail; r; r = r->prev)
        if (r->expires_ms > now && strcmp(r->id, id) == 0 && strcmp(r->key_id, key_id) == 0)
            return r;
    return NULL;
}

static char *dup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

int results_put(const char *key_id, const char *id, const char *body, size_t len, int64_t account_id,
                const char *session, const char *model)
{
    if (!key_id || !id || !body || len > RESULTS_MAX_BYTES)
        return -1;
    struct result *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    r->key_id = strdup(key_id);
    r->id = strdup(id);
    r->body = malloc(len + 1);
    r->session = dup0(session);
    r->model = dup0(model);
    if (!r->key_id || !r->id || !r->body || (session && !r->session) || (model && !r->model)) {
        free_r(r);
        return -1;
    }
    memcpy(r->body, body, len);
    r->body[len] = '\0';
    r->len = len;
    r->account_id = account_id;
    int64_t now = gg_now_ms();
    int64_t ttl = cfg.session_ttl > 0 ? cfg.session_ttl : 3600;
    r->expires_ms = now + ttl * 1000;
    pthread_mutex_lock(&lock);
    struct result *old = find(key_id, id, now);
    if (old) {
        unlink_r(old);
        free_r(old);
    }
    trim(now, len);
    r->prev = tail;
    if (tail)
        tail->next = r;
    else
        head = r;
    tail = r;
    n_results++;
    n_bytes += len;
    pthread_mutex_unlock(&lock);
    return 0;
}

int results_get(const char *key_id, const char *id, char **body, size_t *len)
{
    int rc = -1;
    pthread_mutex_lock(&lock);
    struct result *r = find(key_id, id, gg_now_ms());
    if (r && (*body = malloc(r->len + 1))) {
        memcpy(*body, r->body, r->len + 1);
        *len = r->len;
        rc = 0;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

int results_session(const char *key_id, const char *id, int64_t *account_id, char **session, char **model)
{
    int rc = -1;
    pthread_mutex_lock(&lock);
    struct result *r = find(key_id, id, gg_now_ms());
    if (r) {
        *account_id = r->account_id;
        *session = dup0(r->session);
        *model = dup0(r->model);
        rc = (r->session && !*session) || (r->model && !*model) ? -1 : 0;
        if (rc != 0) {
            free(*session);
            free(*model);
            *session = *model = NULL;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

int results_delete(const char *key_id, const char *id)
{
    pthread_mutex_lock(&lock);
    struct result *r = find(key_id, id, gg_now_ms());
    if (r) {
        unlink_r(r);
        free_r(r);
    }
    pthread_mutex_unlock(&lock);
    return r ? 0 : -1;
}

size_t results_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = n_results;
    pthread_mutex_unlock(&lock);
    return n;
}

void results_clear(void)
{
    pthread_mutex_lock(&lock);
    while (head) {
        struct result *r = head;
        unlink_r(r);
        free_r(r);
    }
    pthread_mutex_unlock(&lock);
}
