/* gg_admin_async.c -- the admin client's asynchronous front end
 * (gg_admin_client.h, layer 3): a job queue run by 1..8 worker threads over
 * gg_admin_call(), one optional stream thread following the log stream with
 * back-off, and the result queue signalled through a pipe.  Out of memory
 * drops a stream event (the stream continues) or fails a submit with -1;
 * nothing aborts.
 */
#include "gg_admin_client_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- asynchronous front end ---------------------------------------------- */

struct job {
    struct job *next;
    long id;
    int tag;
    char *method;
    char *path;
    char *body;
    size_t body_len;
    char *ctype;
    bool slow;
};

struct gg_admin_async {
    struct gg_admin_client cli;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* workers wait for jobs */
    pthread_cond_t sse_cv;      /* stream thread back-off wait */
    struct job *jhead, *jtail;
    struct gg_admin_result *rhead, *rtail;
    int pipefd[2];
    volatile int cancel;        /* read by curl progress callbacks */
    atomic_int stop;
    pthread_t th[8];
    int nth;
    pthread_t sse_th;
    bool sse_started;           /* a thread was created (needs join) */
    atomic_bool sse_running;
    long next_id;
    int pending;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->method);
    free(j->path);
    free(j->body);
    free(j->ctype);
    free(j);
}

void gg_admin_result_free(struct gg_admin_result *r)
{
    if (!r)
        return;
    free(r->event);
    cJSON_Delete(r->json);
    free(r);
}

/* Queue a result and wake the reader.  Takes ownership of r. */
static void post_result(struct gg_admin_async *a, struct gg_admin_result *r)
{
    pthread_mutex_lock(&a->mu);
    r->next = NULL;
    if (a->rtail)
        a->rtail->next = r;
    else
        a->rhead = r;
    a->rtail = r;
    pthread_mutex_unlock(&a->mu);
    char one = 1;
    ssize_t w = write(a->pipefd[1], &one, 1); /* EAGAIN: already readable */
    (void)w;
}

static void *worker_main(void *arg)
{
    struct gg_admin_async *a = arg;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        while (!atomic_load(&a->stop) && !a->jhead)
            pthread_cond_wait(&a->cv, &a->mu);
        if (atomic_load(&a->stop)) {
            pthread_mutex_unlock(&a->mu);
            break;
        }
        struct job *j = a->jhead;
        a->jhead = j->next;
        if (!a->jhead)
            a->jtail = NULL;
        pthread_mutex_unlock(&a->mu);

        struct gg_admin_result *r = calloc(1, sizeof(*r));
        if (r) {
            r->type = GG_ADMIN_RES_REPLY;
            r->id = j->id;
            r->tag = j->tag;
            r->json = gg_admin_call(&a->cli, j->method, j->path, j->body, j->body_len, j->ctype,
                                    j->slow, &a->cancel, &r->err);
            post_result(a, r);
        }
        job_free(j);
    }
    return NULL;
}

struct gg_admin_async *gg_admin_async_new(const struct gg_admin_client *c, int nthreads)
{
    struct gg_admin_async *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->pipefd[0] = a->pipefd[1] = -1;
    if (gg_admin_client_copy(&a->cli, c) < 0)
        goto fail;
    if (pipe(a->pipefd) < 0)
        goto fail;
    for (int i = 0; i < 2; i++) {
        fcntl(a->pipefd[i], F_SETFL, fcntl(a->pipefd[i], F_GETFL) | O_NONBLOCK);
        fcntl(a->pipefd[i], F_SETFD, FD_CLOEXEC);
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->sse_cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&a->stop, 0);
    atomic_init(&a->sse_running, false);
    a->next_id = 1;
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > 8)
        nthreads = 8;
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&a->th[i], NULL, worker_main, a) != 0)
            break;
        a->nth++;
    }
    if (a->nth == 0) {
        gg_admin_async_free(a);
        return NULL;
    }
    return a;
fail:
    if (a->pipefd[0] >= 0)
        close(a->pipefd[0]);
    if (a->pipefd[1] >= 0)
        close(a->pipefd[1]);
    gg_admin_client_free(&a->cli);
    free(a);
    return NULL;
}

void gg_admin_async_free(struct gg_admin_async *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    atomic_store(&a->stop, 1);
    a->cancel = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_cond_broadcast(&a->sse_cv);
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->nth; i++)
        pthread_join(a->th[i], NULL);
    if (a->sse_started)
        pthread_join(a->sse_th, NULL);
    while (a->jhead) {
        struct job *j = a->jhead;
        a->jhead = j->next;
        job_free(j);
    }
    while (a->rhead) {
        struct gg_admin_result *r = a->rhead;
        a->rhead = r->next;
        gg_admin_result_free(r);
    }
    pthread_cond_destroy(&a->cv);
    pthread_cond_destroy(&a->sse_cv);
    pthread_mutex_destroy(&a->mu);
    close(a->pipefd[0]);
    close(a->pipefd[1]);
    gg_admin_client_free(&a->cli);
    free(a);
}

int gg_admin_async_fd(const struct gg_admin_async *a)
{
    return a->pipefd[0];
}

void gg_admin_async_drain_fd(struct gg_admin_async *a)
{
    char buf[256];
    while (read(a->pipefd[0], buf, sizeof(buf)) > 0)
        ;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

long gg_admin_async_submit(struct gg_admin_async *a, const char *method, const char *path,
                           const char *body, size_t body_len, const char *content_type,
                           bool slow, int tag)
{
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return -1;
    j->method = strdup(method);
    j->path = strdup(path);
    if (body) {
        j->body = dup_n(body, body_len);
        j->body_len = body_len;
    }
    if (content_type)
        j->ctype = strdup(content_type);
    if (!j->method || !j->path || (body && !j->body) || (content_type && !j->ctype)) {
        job_free(j);
        return -1;
    }
    j->tag = tag;
    j->slow = slow;
    pthread_mutex_lock(&a->mu);
    j->id = a->next_id++;
    if (a->jtail)
        a->jtail->next = j;
    else
        a->jhead = j;
    a->jtail = j;
    a->pending++;
    long id = j->id;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return id;
}

int gg_admin_async_pending(struct gg_admin_async *a)
{
    pthread_mutex_lock(&a->mu);
    int n = a->pending;
    pthread_mutex_unlock(&a->mu);
    return n;
}

struct gg_admin_result *gg_admin_async_take(struct gg_admin_async *a)
{
    pthread_mutex_lock(&a->mu);
    struct gg_admin_result *r = a->rhead;
    if (r) {
        a->rhead = r->next;
        if (!a->rhead)
            a->rtail = NULL;
        r->next = NULL;
        if (r->type == GG_ADMIN_RES_REPLY && a->pending > 0)
            a->pending--;
    }
    pthread_mutex_unlock(&a->mu);
    return r;
}

static int sse_event_cb(void *ctx, const char *event, const char *data, size_t len)
{
    struct gg_admin_async *a = ctx;
    if (atomic_load(&a->stop))
        return 1;
    struct gg_admin_result *r = calloc(1, sizeof(*r));
    if (!r)
        return 0; /* drop the event, keep the stream */
    r->type = GG_ADMIN_RES_EVENT;
    r->event = strdup(event);
    if (!r->event) {
        free(r);
        return 0; /* as above: drop the event, keep the stream */
    }
    r->json = cJSON_ParseWithLength(data, len);
    post_result(a, r);
    return 0;
}

static void sse_open_cb(void *ctx)
{
    struct gg_admin_async *a = ctx;
    struct gg_admin_result *r = calloc(1, sizeof(*r));
    if (!r)
        return;
    r->type = GG_ADMIN_RES_STREAM_UP;
    post_result(a, r);
}

static void *stream_main(void *arg)
{
    struct gg_admin_async *a = arg;
    long backoff_ms = 1000;
    while (!atomic_load(&a->stop)) {
        struct gg_admin_error err;
        int64_t t0 = 0;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t0 = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        enum gg_admin_kind k = gg_admin_logs_stream(&a->cli, sse_event_cb, sse_open_cb, a,
                                                    &a->cancel, &err);
        if (atomic_load(&a->stop))
            break;
        bool give_up = (k == GG_ADMIN_E_AUTH || k == GG_ADMIN_E_LOCKED || k == GG_ADMIN_E_ARG);
        struct gg_admin_result *r = calloc(1, sizeof(*r));
        if (r) {
            r->type = GG_ADMIN_RES_STREAM_DOWN;
            r->err = err;
            if (k == GG_ADMIN_OK)
                snprintf(r->err.message, sizeof(r->err.message), "stream closed by server");
            r->stopped = give_up;
            post_result(a, r);
        }
        if (give_up)
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0 > 30000)
            backoff_ms = 1000; /* it was up for a while: reconnect quickly */
        /* wait backoff_ms or until stopped */
        struct timespec until = ts;
        until.tv_sec += backoff_ms / 1000;
        until.tv_nsec += (backoff_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&a->mu);
        while (!atomic_load(&a->stop)) {
            if (pthread_cond_timedwait(&a->sse_cv, &a->mu, &until) == ETIMEDOUT)
                break;
        }
        pthread_mutex_unlock(&a->mu);
        backoff_ms = backoff_ms * 2 > 15000 ? 15000 : backoff_ms * 2;
    }
    atomic_store(&a->sse_running, false);
    return NULL;
}

int gg_admin_async_stream_start(struct gg_admin_async *a)
{
    if (atomic_load(&a->sse_running))
        return 0;
    if (a->sse_started) {
        pthread_join(a->sse_th, NULL); /* finished: reap it */
        a->sse_started = false;
    }
    atomic_store(&a->sse_running, true);
    if (pthread_create(&a->sse_th, NULL, stream_main, a) != 0) {
        atomic_store(&a->sse_running, false);
        return -1;
    }
    a->sse_started = true;
    return 0;
}

bool gg_admin_async_stream_running(struct gg_admin_async *a)
{
    return atomic_load(&a->sse_running);
}
