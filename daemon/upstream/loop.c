/* loop.c -- see upstream.h and up.h: the upstream thread.  One epoll set
 * holds curl's sockets and an eventfd that other threads write after
 * queueing a command; curl's timer gives the epoll timeout; a tick every
 * TICK_MS while calls are active polls suspended clients for hang-ups,
 * sends keep-alive pings, starts download retries and enforces the upstream
 * deadlines and the drain deadline. */
#include "upstream.h"
#include "up.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "media.h"

enum cmd_kind { CMD_SUBMIT, CMD_CANCEL, CMD_UNPAUSE, CMD_RESOLVED };
struct cmd {
    enum cmd_kind kind;
    struct call *call;
    struct media_resolved *res;  /* CMD_RESOLVED, owned */
    struct cmd *next;
};

static pthread_t thr;
static CURLM *multi;
static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static struct cmd *qhead, *qtail;
static atomic_int stop_flag;
static _Atomic int64_t drain_deadline;    /* 0 = not draining */
static struct call *active_head;
static int active_n;
static atomic_int active_pub;
static int ep = -1;                      /* epoll set: curl sockets + wake_fd */
static int wake_fd = -1;                 /* eventfd: commands are waiting */
static int64_t curl_deadline = -1;       /* curl's timer, monotonic ms */

static void wake(void)
{
    uint64_t one = 1;
    if (wake_fd >= 0) {
        ssize_t w = write(wake_fd, &one, sizeof(one));
        (void)w;
    }
}

/* ---- command queue ------------------------------------------------------- */

static void enqueue(struct cmd *m)
{
    pthread_mutex_lock(&qmu);
    if (qtail)
        qtail->next = m;
    else
        qhead = m;
    qtail = m;
    pthread_mutex_unlock(&qmu);
    wake();
}

static void post(enum cmd_kind k, struct call *c)
{
    struct cmd *m = malloc(sizeof(*m));
    if (!m) {
        GG_ERROR("[%s] out of memory queueing a command for the upstream thread", c->request_id);
        pthread_mutex_lock(&c->mu);
        if (k == CMD_SUBMIT) {
            /* the upstream never sees this call: fail it here (nothing was sent yet) */
            exch_set_error(&c->err, 503, EXCH_ERR_OVERLOADED, NULL, "out_of_memory",
                           "The gateway is out of memory; retry later.");
            c->phase = PH_FAILED;
            c->final_status = 503;
            c->error_kind = "upstream";
            c->out_done = true;
            call_wake_locked(c);
        } else if (k == CMD_UNPAUSE) {
            c->unpause_posted = false;      /* the reader asks again */
        }
        pthread_mutex_unlock(&c->mu);
        if (k == CMD_SUBMIT)
            call_put(c);                    /* the upstream's reference */
        return;
    }
    m->kind = k;
    m->call = c;
    m->res = NULL;
    m->next = NULL;
    if (k != CMD_SUBMIT) {
        pthread_mutex_lock(&c->mu);
        c->refs++;
        pthread_mutex_unlock(&c->mu);
    }
    enqueue(m);
}

void upstream_submit(struct call *c) { post(CMD_SUBMIT, c); }
void upstream_cancel(struct call *c) { post(CMD_CANCEL, c); }
void upstream_unpause(struct call *c) { post(CMD_UNPAUSE, c); }
int upstream_active(void) { return active_pub; }

int up_curl_add(CURL *e) { return curl_multi_add_handle(multi, e) == CURLM_OK ? 0 : -1; }
void up_curl_remove(CURL *e) { curl_multi_remove_handle(multi, e); }
int up_active_count(void) { return active_n; }
bool up_draining(void) { return drain_deadline != 0; }

/* ---- active list ---------------------------------------------------------- */

static void active_add(struct call *c)
{
    c->act_prev = NULL;
    c->act_next = active_head;
    if (active_head)
        active_head->act_prev = c;
    active_head = c;
    active_n++;
    active_pub = active_n;
}

void up_active_del(struct call *c)
{
    if (c->act_prev)
        c->act_prev->act_next = c->act_next;
    else if (active_head == c)
        active_head = c->act_next;
    if (c->act_next)
        c->act_next->act_prev = c->act_prev;
    c->act_prev = c->act_next = NULL;
    active_n--;
    active_pub = active_n;
}

/* ---- commands, ticks, loop ------------------------------------------------ */

static void cancel_call(struct call *c)
{
    if (c->step == S_DONE)
        return;
    if (c->waiting_oxsrf && c->acct) {
        struct call **pp = (struct call **)&c->acct->upstream_waiters;
        while (*pp) {
            if (*pp == c) {
                *pp = c->next_waiter;
                break;
            }
            pp = &(*pp)->next_waiter;
        }
        c->waiting_oxsrf = false;
    }
    if (c->xfer) {
        up_xfer_free(c->xfer);
        c->xfer = NULL;
    }
    if (c->acct)
        pool_report(c->acct, OUT_CLIENT, "client disconnected");
    pthread_mutex_lock(&c->mu);
    if (!c->error_kind)
        c->error_kind = "client_abort";
    c->out_done = true;
    c->aborted = true;
    call_wake_locked(c);
    pthread_mutex_unlock(&c->mu);
    answer_usage(c);
    up_call_done(c);
}

static void drain_commands(void)
{
    pthread_mutex_lock(&qmu);
    struct cmd *m = qhead;
    qhead = qtail = NULL;
    pthread_mutex_unlock(&qmu);
    while (m) {
        struct cmd *n = m->next;
        struct call *c = m->call;
        switch (m->kind) {
        case CMD_SUBMIT:
            active_add(c);
            up_reset_attempt(c);
            c->last_out_ms = gg_mono_ms();
            if (drain_deadline) {
                up_finish_err(c, 503, "shutting_down", 5, "upstream", "The gateway is shutting down.");
                up_call_done(c);
            } else {
                c->att_i = 0;
                up_step_fetch(c);
            }
            break;
        case CMD_RESOLVED:
            if (c->step == S_FETCH && !c->xfer)
                up_fetch_resolved(c, m->res);
            free(m->res);
            call_put(c);
            break;
        case CMD_CANCEL:
            cancel_call(c);
            call_put(c);
            break;
        case CMD_UNPAUSE: {
            pthread_mutex_lock(&c->mu);
            bool do_it = c->upstream_paused && c->step == S_STREAM;
            c->upstream_paused = false;
            c->unpause_posted = false;
            pthread_mutex_unlock(&c->mu);
            if (do_it && c->xfer)
                curl_easy_pause(((struct xfer *)c->xfer)->easy, CURLPAUSE_CONT);
            call_put(c);
            break;
        }
        }
        free(m);
        m = n;
    }
}

static void drain_done(void)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode res = msg->data.result;
        if (!x)
            continue;
        switch (x->kind) {
        case X_OXSRF:
        case X_REFRESH:
            up_oxsrf_done(x, res);
            up_xfer_free(x);
            break;
        case X_SESSION:
            up_session_done(x, res);
            break;
        case X_STREAM:
            up_stream_done(x, res);
            break;
        case X_FETCH:
            up_fetch_done(x, res);
            break;
        case X_UPLOAD:
            up_upload_done(x, res);
            break;
        case X_LIST:
            up_list_done(x, res);
            break;
        case X_DOWNLOAD:
            up_download_done(x, res);
            break;
        }
    }
}

static void tick(void)
{
    int64_t now = gg_mono_ms();
    /* collect client fds of suspended connections for a hang-up check */
    static struct pollfd *pfd;
    static struct call **pc;
    static size_t pcap;
    size_t np = 0;
    for (struct call *c = active_head, *next; c; c = next) {
        next = c->act_next;
        /* keep-alive pings for streams */
        /* (none while fetching: a bad URL still gets its 400) */
        if (c->req.stream && cfg.ping_interval > 0 && c->kind == CALL_CHAT && c->step != S_FETCH &&
            now - c->last_out_ms >= cfg.ping_interval * 1000)
            answer_ping(c);
        /* download back-off, file-list polls */
        if (c->step == S_MEDIA && !c->xfer && c->retry_at_ms && now >= c->retry_at_ms) {
            c->retry_at_ms = 0;
            if (c->poll_until_ms && c->n_gen == 0)
                up_step_media(c);
            else
                up_step_download(c);
            continue;
        }
        /* deadlines (video renders in long silences: its own idle limit) */
        if (c->step == S_STREAM) {
            const char *why = NULL;
            bool video = up_work_kind(c) == WK_VIDEO;
            int64_t idle = video && cfg.up_video_idle_timeout > cfg.up_idle_timeout ? cfg.up_video_idle_timeout
                                                                                   : cfg.up_idle_timeout;
            int64_t first = video && cfg.up_video_idle_timeout > cfg.up_first_byte_timeout
                                ? cfg.up_video_idle_timeout : cfg.up_first_byte_timeout;
            int64_t total = video && cfg.up_video_idle_timeout > cfg.up_total_timeout ? cfg.up_video_idle_timeout
                                                                                     : cfg.up_total_timeout;
            if (c->last_elem_ms == 0 && now - c->stream_start_ms > first * 1000)
                why = "no upstream data before the first-byte deadline";
            else if (c->last_elem_ms && now - c->last_elem_ms > idle * 1000)
                why = "upstream idle too long between elements";
            else if (now - c->stream_start_ms > total * 1000)
                why = "upstream exceeded the total deadline";
            if (why) {
                if (c->xfer) {
                    up_xfer_free(c->xfer);
                    c->xfer = NULL;
                }
                if (c->content_sent) {
                    pool_report(c->acct, OUT_NETWORK, why);
                    up_finish_err(c, 504, "upstream_timeout", 0, "upstream", "%s", why);
                    up_call_done(c);
                } else {
                    up_failover(c, OUT_NETWORK, why);
                }
                continue;
            }
        }
        if (drain_deadline && gg_now_ms() > drain_deadline) {
            if (c->xfer) {
                up_xfer_free(c->xfer);
                c->xfer = NULL;
            }
            if (c->acct)
                pool_report(c->acct, OUT_CLIENT, "gateway shutdown");
            up_finish_err(c, 503, "shutting_down", 5, "upstream",
                       "The gateway is shutting down; the stream was closed.");
            up_call_done(c);
            continue;
        }
        pthread_mutex_lock(&c->mu);
        int fd = c->suspended && !c->conn_gone ? c->client_fd : -1;
        pthread_mutex_unlock(&c->mu);
        if (fd >= 0) {
            if (np == pcap) {
                size_t nc = pcap ? pcap * 2 : 256;
                struct pollfd *a = realloc(pfd, nc * sizeof(*pfd));
                struct call **b = a ? realloc(pc, nc * sizeof(*pc)) : NULL;
                if (a) pfd = a;
                if (b) pc = b;
                if (!a || !b)
                    continue;
                pcap = nc;
            }
            pfd[np].fd = fd;
            pfd[np].events = POLLRDHUP;
            pfd[np].revents = 0;
            pc[np++] = c;
        }
    }
    if (np && poll(pfd, np, 0) > 0) {
        for (size_t i = 0; i < np; i++) {
            if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
                struct call *c = pc[i];
                GG_DEBUG("[%s] client hung up", c->request_id);
                cancel_call(c);
            }
        }
    }
}

/* ---- expiry watch ----------------------------------------------------------
 * Accounts idle for EXPIRY_WATCH_IDLE get a getoxsrf (no quota): a cookie
 * that expired or needs a refresh is found before a user request meets it. */

#define WATCH_EVERY_MS 1000
#define WATCH_BATCH 32

static void expiry_watch(int64_t now_ms)
{
    static int64_t last, started;
    if (!started)
        started = now_ms;
    if (cfg.expiry_watch_idle <= 0 || drain_deadline || now_ms - last < WATCH_EVERY_MS)
        return;
    last = now_ms;
    int64_t idle_ms = cfg.expiry_watch_idle * 1000, ids[WATCH_BATCH];
    if (now_ms - started < idle_ms)
        return;          /* after a start, every account is idle for the first period */
    size_t n = pool_idle_accounts(idle_ms, ids, WATCH_BATCH);
    int64_t wall = gg_now_ms();
    for (size_t i = 0; i < n; i++) {
        struct account *a = pool_get(ids[i]);
        if (!a)
            continue;
        if (!a->upstream_oxsrf_busy && (!a->upstream_probe_ms || wall - a->upstream_probe_ms >= idle_ms)) {
            GG_DEBUG("expiry watch: probing account %lld", (long long)a->id);
            up_oxsrf_probe(a);
        }
        pool_put(a);
    }
}

/* ---- event loop: curl's socket API on one epoll set ---------------------- */

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e; (void)userp; (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL);   /* may already be closed */
        return 0;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = s;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
        epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m; (void)userp;
    curl_deadline = timeout_ms < 0 ? -1 : gg_mono_ms() + timeout_ms;
    return 0;
}

static void *thread_main(void *arg)
{
    (void)arg;
    int64_t last_tick = 0;
    struct epoll_event evs[256];
    while (!stop_flag) {
        int64_t now = gg_mono_ms();
        int64_t wait = 60000;
        if (curl_deadline >= 0)
            wait = curl_deadline > now ? curl_deadline - now : 0;
        if (active_n) {
            int64_t t = last_tick + TICK_MS - now;
            if (t < wait)
                wait = t > 0 ? t : 0;
        }
        if (cfg.expiry_watch_idle > 0 && wait > WATCH_EVERY_MS)
            wait = WATCH_EVERY_MS;
        int n = epoll_wait(ep, evs, 256, (int)wait);
        int running = 0;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == wake_fd) {
                uint64_t v;
                ssize_t r = read(wake_fd, &v, sizeof(v));
                (void)r;
                continue;
            }
            int flags = 0;
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
                flags |= CURL_CSELECT_IN;
            if (evs[i].events & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
            if (evs[i].events & EPOLLERR)
                flags |= CURL_CSELECT_ERR;
            curl_multi_socket_action(multi, fd, flags, &running);
        }
        now = gg_mono_ms();
        if (curl_deadline >= 0 && now >= curl_deadline) {
            curl_deadline = -1;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        drain_done();
        drain_commands();
        if (active_n && now - last_tick >= TICK_MS) {
            tick();
            last_tick = now;
        }
        expiry_watch(now);
        drain_done();
    }
    /* shutdown: end whatever is left */
    drain_commands();
    while (active_head) {
        struct call *c = active_head;
        if (c->xfer) {
            up_xfer_free(c->xfer);
            c->xfer = NULL;
        }
        if (c->acct && c->waiting_oxsrf)
            c->acct->upstream_waiters = NULL;
        up_finish_err(c, 503, "shutting_down", 5, "upstream", "The gateway is shutting down.");
        up_call_done(c);
    }
    up_oxsrf_shutdown();
    return NULL;
}

int upstream_start(void)
{
    multi = curl_multi_init();
    if (!multi)
        return -1;
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    /* idle connections kept for reuse: bounded, or idle sockets pile up next
     * to thousands of live streams and exhaust the descriptor limit */
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 256L);
    ep = epoll_create1(EPOLL_CLOEXEC);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep < 0 || wake_fd < 0) {
        curl_multi_cleanup(multi);
        multi = NULL;
        return -1;
    }
    struct epoll_event wev;
    memset(&wev, 0, sizeof(wev));
    wev.events = EPOLLIN;
    wev.data.fd = wake_fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, wake_fd, &wev);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    if (pthread_create(&thr, NULL, thread_main, NULL) != 0) {
        curl_multi_cleanup(multi);
        multi = NULL;
        return -1;
    }
    return 0;
}

void upstream_drain(int64_t deadline_ms)
{
    drain_deadline = deadline_ms;
    wake();
}

void upstream_stop(void)
{
    if (!multi)
        return;
    stop_flag = 1;
    wake();
    pthread_join(thr, NULL);
    curl_multi_cleanup(multi);
    multi = NULL;
    close(ep);
    close(wake_fd);
    ep = wake_fd = -1;
    answer_cleanup();
    pthread_mutex_lock(&qmu);
    while (qhead) {
        struct cmd *n = qhead->next;
        free(qhead);
        qhead = n;
    }
    qtail = NULL;
    pthread_mutex_unlock(&qmu);
}

/* resolver thread -> upstream thread (the call reference travels along) */
void up_resolved_cb(void *arg, struct media_resolved *res)
{
    struct call *c = arg;
    struct cmd *m = malloc(sizeof(*m));
    if (!m) {
        free(res);
        call_put(c);
        return;
    }
    m->kind = CMD_RESOLVED;
    m->call = c;
    m->res = res;
    m->next = NULL;
    enqueue(m);
}
