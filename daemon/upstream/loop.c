/* loop.c -- see upstream.h and up.h: the upstream event loops.  Each loop
 * is one thread with its own curl multi handle, epoll set (curl's sockets
 * + an eventfd other threads write after queueing a command), command
 * queue, active list and tick; a call is given to the least loaded loop at
 * submit and stays there.  curl's timer gives the epoll timeout; a tick
 * every TICK_MS while calls are active polls suspended clients for
 * hang-ups, sends keep-alive pings, starts download retries and enforces
 * the upstream deadlines and the drain deadline.  Loop 0 also runs the
 * expiry watch and gives memory back to the system once the gateway is
 * idle after a busy period (malloc_trim). */
#include "upstream.h"
#include "up.h"

#include <errno.h>
#include <malloc.h>
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

enum cmd_kind { CMD_SUBMIT, CMD_CANCEL, CMD_UNPAUSE, CMD_RESOLVED, CMD_AUTH };
struct cmd {
    enum cmd_kind kind;
    struct call *call;
    struct media_resolved *res;  /* CMD_RESOLVED, owned */
    struct up_auth_note auth;    /* CMD_AUTH */
    struct cmd *next;
};

struct up_loop {
    int idx;
    pthread_t thr;
    bool started;
    CURLM *multi;
    pthread_mutex_t qmu;
    struct cmd *qhead, *qtail;
    struct call *active_head;    /* loop thread only */
    int active_n;                /* loop thread only */
    atomic_int load;             /* submitted and not yet done: the balancer's view */
    int ep;                      /* epoll set: curl sockets + wake_fd */
    int wake_fd;                 /* eventfd: commands are waiting */
    int64_t curl_deadline;       /* curl's timer, monotonic ms */
    struct pollfd *pfd;          /* tick: suspended clients */
    struct call **pc;
    size_t pcap;
    struct up_loop_auth auth;    /* oxsrf.c: sign-ins in flight, key cache */
    int peak_now, peak_prev;     /* most active calls in this and the last window */
    int64_t peak_since;          /* this window's start, monotonic ms */
    long conn_cap;               /* CURLMOPT_MAXCONNECTS as last set */
};

#define MAX_LOOPS 64
#define TRIM_BUSY_ABOVE 64       /* active calls that make a later idle moment worth a trim */
#define TRIM_IDLE_MS 1000
#define TRIM_PEAK_MIN 256        /* under steady load: trim once the active count ... */
#define TRIM_PEAK_FRACTION 8     /* ... stays below peak / 8 ... */
#define TRIM_CALM_MS 2000        /* ... for this long after a pile-up of at least TRIM_PEAK_MIN */
#define CONN_WINDOW_MS 5000      /* the connection cap follows the peak of the last 5-10 s ... */
#define CONN_SPARE 2             /* ... plus a quarter and this many, ... */
#define CONN_CAP_MAX 256         /* ... up to this many per loop */

static struct up_loop *loops;
static int n_loops;
static atomic_uint rr;
static atomic_int stop_flag;
static _Atomic int64_t drain_deadline;    /* 0 = not draining */
static atomic_bool trim_pending;          /* busy since the last trim */
static __thread struct up_loop *cur;      /* the loop of this thread (NULL elsewhere) */

static void wake(struct up_loop *L)
{
    uint64_t one = 1;
    if (L->wake_fd >= 0) {
        ssize_t w = write(L->wake_fd, &one, sizeof(one));
        (void)w;
    }
}

/* ---- command queue ------------------------------------------------------- */

static void enqueue(struct up_loop *L, struct cmd *m)
{
    pthread_mutex_lock(&L->qmu);
    if (L->qtail)
        L->qtail->next = m;
    else
        L->qhead = m;
    L->qtail = m;
    pthread_mutex_unlock(&L->qmu);
    wake(L);
}

/* The least loaded loop, ties broken round robin. */
static struct up_loop *pick_loop(void)
{
    unsigned start = atomic_fetch_add_explicit(&rr, 1, memory_order_relaxed);
    struct up_loop *best = NULL;
    int best_load = 0;
    for (int i = 0; i < n_loops; i++) {
        struct up_loop *L = &loops[(start + (unsigned)i) % (unsigned)n_loops];
        int ld = atomic_load_explicit(&L->load, memory_order_relaxed);
        if (!best || ld < best_load) {
            best = L;
            best_load = ld;
        }
    }
    return best;
}

static void post(enum cmd_kind k, struct call *c)
{
    if (k == CMD_SUBMIT) {
        struct up_loop *L = pick_loop();
        c->up_loop = L;                     /* before the call is visible to the loop */
        atomic_fetch_add(&L->load, 1);
    }
    struct up_loop *L = c->up_loop;
    struct cmd *m = calloc(1, sizeof(*m));
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
        if (k == CMD_SUBMIT) {
            atomic_fetch_sub(&L->load, 1);
            call_put(c);                    /* the upstream's reference */
        }
        return;
    }
    m->kind = k;
    m->call = c;
    if (k != CMD_SUBMIT) {
        pthread_mutex_lock(&c->mu);
        c->refs++;
        pthread_mutex_unlock(&c->mu);
    }
    enqueue(L, m);
}

void upstream_submit(struct call *c) { post(CMD_SUBMIT, c); }
void upstream_cancel(struct call *c) { post(CMD_CANCEL, c); }
void upstream_unpause(struct call *c) { post(CMD_UNPAUSE, c); }

int upstream_active(void)
{
    int n = 0;
    for (int i = 0; i < n_loops; i++)
        n += atomic_load_explicit(&loops[i].load, memory_order_relaxed);
    return n;
}

int upstream_loops(void) { return n_loops; }

int up_curl_add(CURL *e) { return curl_multi_add_handle(cur->multi, e) == CURLM_OK ? 0 : -1; }
void up_curl_remove(CURL *e) { curl_multi_remove_handle(cur->multi, e); }
int up_active_count(void) { return cur->active_n; }
bool up_draining(void) { return drain_deadline != 0; }
struct up_loop_auth *up_auth_here(void) { return &cur->auth; }
bool up_call_here(const struct call *c) { return c->up_loop == cur; }

/* oxsrf.c, on the loop that owns a sign-in: tell a waiting call of another
 * loop how it ended (the call's reference travels with the command). */
void up_post_auth(struct call *c, const struct up_auth_note *note)
{
    struct cmd *m = calloc(1, sizeof(*m));
    if (!m) {
        /* the call stays in S_JWT; its first-byte deadline ends it */
        GG_ERROR("[%s] out of memory passing a sign-in result between loops", c->request_id);
        call_put(c);
        return;
    }
    m->kind = CMD_AUTH;
    m->call = c;
    m->auth = *note;
    enqueue(c->up_loop, m);
}

/* ---- active list ---------------------------------------------------------- */

static void active_add(struct call *c)
{
    c->act_prev = NULL;
    c->act_next = cur->active_head;
    if (cur->active_head)
        cur->active_head->act_prev = c;
    cur->active_head = c;
    cur->active_n++;
}

void up_active_del(struct call *c)
{
    if (c->act_prev)
        c->act_prev->act_next = c->act_next;
    else if (cur->active_head == c)
        cur->active_head = c->act_next;
    if (c->act_next)
        c->act_next->act_prev = c->act_prev;
    c->act_prev = c->act_next = NULL;
    cur->active_n--;
    atomic_fetch_sub(&cur->load, 1);
}

/* ---- commands, ticks, loop ------------------------------------------------ */

static void cancel_call(struct call *c)
{
    if (c->step == S_DONE)
        return;
    up_oxsrf_unwait(c);
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
    pthread_mutex_lock(&cur->qmu);
    struct cmd *m = cur->qhead;
    cur->qhead = cur->qtail = NULL;
    pthread_mutex_unlock(&cur->qmu);
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
        case CMD_AUTH:
            up_oxsrf_resume(c, &m->auth);
            call_put(c);
            break;
        case CMD_UNPAUSE: {
            pthread_mutex_lock(&c->mu);
            bool do_it = c->upstream_paused && c->step == S_STREAM;
            c->upstream_paused = false;
            c->unpause_posted = false;
            pthread_mutex_unlock(&c->mu);
            if (do_it && c->xfer) {
                /* libcurl may hand over the data it kept while paused right here */
                curl_easy_pause(((struct xfer *)c->xfer)->easy, CURLPAUSE_CONT);
                answer_release_held();
            }
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
    while ((msg = curl_multi_info_read(cur->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode res = msg->data.result;
        if (!x)
            continue;
        x->done_ok = res == CURLE_OK;
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
    struct up_loop *L = cur;
    size_t np = 0;
    for (struct call *c = L->active_head, *next; c; c = next) {
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
            if (np == L->pcap) {
                size_t nc = L->pcap ? L->pcap * 2 : 256;
                struct pollfd *a = realloc(L->pfd, nc * sizeof(*L->pfd));
                struct call **b = a ? realloc(L->pc, nc * sizeof(*L->pc)) : NULL;
                if (a) L->pfd = a;
                if (b) L->pc = b;
                if (!a || !b)
                    continue;
                L->pcap = nc;
            }
            L->pfd[np].fd = fd;
            L->pfd[np].events = POLLRDHUP;
            L->pfd[np].revents = 0;
            L->pc[np++] = c;
        }
    }
    if (np && poll(L->pfd, np, 0) > 0) {
        for (size_t i = 0; i < np; i++) {
            if (L->pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
                struct call *c = L->pc[i];
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
        if (up_oxsrf_probe(a, wall, idle_ms))
            GG_DEBUG("expiry watch: probing account %lld", (long long)a->id);
        pool_put(a);
    }
}

/* ---- memory back to the system after a burst ------------------------------
 * glibc keeps freed memory in its arenas; after thousands of streams the
 * RSS would stay at its peak.  Any loop that sees many calls marks the
 * gateway busy; loop 0 trims once every loop has been idle TRIM_IDLE_MS,
 * or, under steady load, once after a pile-up (TRIM_PEAK_MIN calls or more)
 * when the active count has stayed below a TRIM_PEAK_FRACTION of that peak
 * for TRIM_CALM_MS.  A trim takes the arena locks for a few milliseconds,
 * so it runs once per pile-up, never periodically. */

static void trim_watch(int64_t now)
{
    static int64_t idle_since, calm_since;
    static int peak;
    int act = upstream_active();
    if (act > peak)
        peak = act;
    if (!atomic_load_explicit(&trim_pending, memory_order_relaxed))
        return;
    bool calm = peak >= TRIM_PEAK_MIN && act > 0 && act <= peak / TRIM_PEAK_FRACTION;
    if (!calm)
        calm_since = 0;
    else if (!calm_since)
        calm_since = now;
    if (act > 0)
        idle_since = 0;
    else if (!idle_since)
        idle_since = now;
    bool go = (idle_since && now - idle_since >= TRIM_IDLE_MS) || (calm_since && now - calm_since >= TRIM_CALM_MS);
    if (!go)
        return;
    atomic_store(&trim_pending, false);
    idle_since = calm_since = 0;
    peak = act;
    int64_t t0 = gg_mono_us();
    malloc_trim(0);
    GG_DEBUG("idle after a busy period: malloc_trim took %lld us", (long long)(gg_mono_us() - t0));
}

/* ---- event loop: curl's socket API on one epoll set per loop ------------- */

/* What the epoll set holds for a socket is kept in curl's per-socket
 * pointer (curl_multi_assign): SOCK_IN_SET | the events.  A socket curl
 * has just started to watch has none, so it is added at once (no MOD that
 * fails first), and a change of nothing costs no syscall.  curl forgets the
 * pointer when it stops watching the socket, when it is deleted here. */
#define SOCK_IN_SET (1u << 31)

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    struct up_loop *L = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(L->ep, EPOLL_CTL_DEL, s, NULL);   /* may already be closed */
        return 0;
    }
    uint32_t want = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    uintptr_t have = (uintptr_t)socketp;
    if (have && (uint32_t)(have & ~(uintptr_t)SOCK_IN_SET) == want)
        return 0;
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = want;
    ev.data.fd = s;
    int op = have ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(L->ep, op, s, &ev) != 0) {
        /* out of step (an fd number reused after a close): the other op */
        if (op == EPOLL_CTL_ADD && errno == EEXIST)
            epoll_ctl(L->ep, EPOLL_CTL_MOD, s, &ev);
        else if (op == EPOLL_CTL_MOD && errno == ENOENT)
            epoll_ctl(L->ep, EPOLL_CTL_ADD, s, &ev);
    }
    curl_multi_assign(L->multi, s, (void *)(uintptr_t)(want | SOCK_IN_SET));
    return 0;
}

/* libcurl keeps a finished transfer's connection for reuse while the loop
 * holds fewer than CURLMOPT_MAXCONNECTS connections, busy ones included;
 * above it, each returned connection closes the oldest idle one.  A fixed
 * cap either closes connections about to be reused (low) or keeps the idle
 * sockets of the largest pile-up since start (high: they all stay in use
 * now and then, so they never reach libcurl's idle age).  The cap follows
 * the recent peak of active calls instead: it rises with the active count
 * at once (no connection of a growing load is closed) and falls back to
 * the load within two windows. */
static void conn_cap_watch(struct up_loop *L, int64_t now)
{
    bool rolled = now - L->peak_since >= CONN_WINDOW_MS;
    if (L->active_n <= L->peak_now && !rolled)
        return;
    if (L->active_n > L->peak_now)
        L->peak_now = L->active_n;
    int peak = L->peak_now > L->peak_prev ? L->peak_now : L->peak_prev;
    if (rolled) {               /* lower only when a window ends */
        L->peak_prev = L->peak_now;
        L->peak_now = L->active_n;
        L->peak_since = now;
    }
    long cap = peak + peak / 4 + CONN_SPARE;   /* a quarter: calls with a second transfer */
    if (cap > CONN_CAP_MAX)
        cap = CONN_CAP_MAX;
    if (cap != L->conn_cap && curl_multi_setopt(L->multi, CURLMOPT_MAXCONNECTS, cap) == CURLM_OK)
        L->conn_cap = cap;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    struct up_loop *L = userp;
    L->curl_deadline = timeout_ms < 0 ? -1 : gg_mono_ms() + timeout_ms;
    return 0;
}

static void *thread_main(void *arg)
{
    struct up_loop *L = arg;
    cur = L;
    char tn[16];
    snprintf(tn, sizeof(tn), "gg-loop-%d", L->idx);
    gg_thread_role(tn, false);
    int64_t last_tick = 0, idle_since = 0;
    struct epoll_event evs[256];
    while (!stop_flag) {
        int64_t now = gg_mono_ms();
        int64_t wait = 60000;
        if (L->curl_deadline >= 0)
            wait = L->curl_deadline > now ? L->curl_deadline - now : 0;
        if (L->active_n) {
            int64_t t = last_tick + TICK_MS - now;
            if (t < wait)
                wait = t > 0 ? t : 0;
        }
        if (L->idx == 0 && (cfg.expiry_watch_idle > 0 || trim_pending) && wait > WATCH_EVERY_MS)
            wait = WATCH_EVERY_MS;
        if (up_xfer_idle_count() && wait > TRIM_IDLE_MS)
            wait = TRIM_IDLE_MS;
        int n = epoll_wait(L->ep, evs, 256, (int)wait);
        int running = 0;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == L->wake_fd) {
                uint64_t v;
                ssize_t r = read(L->wake_fd, &v, sizeof(v));
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
            curl_multi_socket_action(L->multi, fd, flags, &running);
            answer_release_held();      /* one client wake-up per socket read */
        }
        now = gg_mono_ms();
        if (L->curl_deadline >= 0 && now >= L->curl_deadline) {
            L->curl_deadline = -1;
            curl_multi_socket_action(L->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            answer_release_held();
        }
        drain_done();
        drain_commands();
        if (L->active_n > TRIM_BUSY_ABOVE && !trim_pending)
            atomic_store(&trim_pending, true);
        conn_cap_watch(L, now);
        if (L->active_n && now - last_tick >= TICK_MS) {
            tick();
            last_tick = now;
        }
        /* reused easy handles go once the loop has been idle a while
         * (before loop 0's trim can see the memory free) */
        if (L->active_n || !up_xfer_idle_count())
            idle_since = 0;
        else if (!idle_since)
            idle_since = now;
        else if (now - idle_since >= TRIM_IDLE_MS / 2)
            up_xfer_idle_free();
        if (L->idx == 0) {
            expiry_watch(now);
            trim_watch(now);
        }
        drain_done();
    }
    /* shutdown: end whatever is left */
    drain_commands();
    while (L->active_head) {
        struct call *c = L->active_head;
        if (c->xfer) {
            up_xfer_free(c->xfer);
            c->xfer = NULL;
        }
        up_oxsrf_unwait(c);
        up_finish_err(c, 503, "shutting_down", 5, "upstream", "The gateway is shutting down.");
        up_call_done(c);
    }
    up_oxsrf_shutdown();
    up_xfer_idle_free();
    answer_cleanup();            /* this thread's scratch buffers */
    up_sinks_cleanup();
    cur = NULL;
    return NULL;
}

static void loop_free(struct up_loop *L)
{
    if (L->multi)
        curl_multi_cleanup(L->multi);
    if (L->ep >= 0)
        close(L->ep);
    if (L->wake_fd >= 0)
        close(L->wake_fd);
    L->multi = NULL;
    L->ep = L->wake_fd = -1;
    while (L->qhead) {
        struct cmd *n = L->qhead->next;
        free(L->qhead->res);
        free(L->qhead);
        L->qhead = n;
    }
    L->qtail = NULL;
    free(L->pfd);
    free(L->pc);
    L->pfd = NULL;
    L->pc = NULL;
    L->pcap = 0;
    pthread_mutex_destroy(&L->qmu);
}

static int loop_init(struct up_loop *L)
{
    L->multi = curl_multi_init();
    if (!L->multi)
        return -1;
    curl_multi_setopt(L->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    /* connections kept for reuse: conn_cap_watch moves this with the load */
    L->conn_cap = CONN_CAP_MAX;
    curl_multi_setopt(L->multi, CURLMOPT_MAXCONNECTS, L->conn_cap);
    L->ep = epoll_create1(EPOLL_CLOEXEC);
    L->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (L->ep < 0 || L->wake_fd < 0)
        return -1;
    struct epoll_event wev;
    memset(&wev, 0, sizeof(wev));
    wev.events = EPOLLIN;
    wev.data.fd = L->wake_fd;
    epoll_ctl(L->ep, EPOLL_CTL_ADD, L->wake_fd, &wev);
    curl_multi_setopt(L->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(L->multi, CURLMOPT_SOCKETDATA, L);
    curl_multi_setopt(L->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(L->multi, CURLMOPT_TIMERDATA, L);
    return 0;
}

int upstream_start(void)
{
    long n = cfg.upstream_loops;
    if (n <= 0)
        n = config_cpus();          /* the cores this process may run on (taskset, cpusets) */
    if (n > MAX_LOOPS)
        n = MAX_LOOPS;
    loops = calloc((size_t)n, sizeof(*loops));
    if (!loops)
        return -1;
    n_loops = (int)n;
    stop_flag = 0;
    for (int i = 0; i < n_loops; i++) {
        struct up_loop *L = &loops[i];
        L->idx = i;
        L->ep = L->wake_fd = -1;
        L->curl_deadline = -1;
        atomic_init(&L->load, 0);
        pthread_mutex_init(&L->qmu, NULL);
    }
    for (int i = 0; i < n_loops; i++) {
        if (loop_init(&loops[i]) != 0 ||
            pthread_create(&loops[i].thr, NULL, thread_main, &loops[i]) != 0) {
            upstream_stop();
            return -1;
        }
        loops[i].started = true;
    }
    GG_INFO("upstream: %d event loop(s)", n_loops);
    return 0;
}

void upstream_drain(int64_t deadline_ms)
{
    drain_deadline = deadline_ms;
    for (int i = 0; i < n_loops; i++)
        wake(&loops[i]);
}

void upstream_stop(void)
{
    if (!loops)
        return;
    stop_flag = 1;
    for (int i = 0; i < n_loops; i++)
        if (loops[i].started)
            wake(&loops[i]);
    for (int i = 0; i < n_loops; i++)
        if (loops[i].started)
            pthread_join(loops[i].thr, NULL);
    for (int i = 0; i < n_loops; i++)
        loop_free(&loops[i]);
    free(loops);
    loops = NULL;
    n_loops = 0;
}

/* resolver thread -> the call's loop (the call reference travels along) */
void up_resolved_cb(void *arg, struct media_resolved *res)
{
    struct call *c = arg;
    struct cmd *m = calloc(1, sizeof(*m));
    if (!m) {
        free(res);
        call_put(c);
        return;
    }
    m->kind = CMD_RESOLVED;
    m->call = c;
    m->res = res;
    enqueue(c->up_loop, m);
}
