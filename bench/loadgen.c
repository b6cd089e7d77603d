/* loadgen.c -- open/closed-loop HTTP/1.1 load generator for gemgate benchmarks.
 *
 * One thread, epoll, non-blocking sockets, keep-alive connections, 127.0.0.1
 * only.  Targets:
 *   gw         POST /v1/chat/completions on gemgated (new conversation)
 *   gw-cont    the same, continuing a primed conversation (gateway sends only
 *              streamAssist upstream; the priming requests are not measured)
 *   direct     straight to the fake: widgetCreateSession + widgetStreamAssist
 *              on one keep-alive connection (what gemgated does per new
 *              conversation; JWT signed here with daemon/jwt.c)
 *   direct-sa  straight to the fake: widgetStreamAssist only, on one session
 *              created at start (what gemgated does for a continuing one)
 * The direct targets ask for what gemgated asks by default: no gzip
 * (--gzip 1 asks for it, and the answers are inflated here).
 *
 * Open loop (--rate R): request i is due at t0 + i/R; latency is measured
 * from that due time, so a late send or a queue for a free connection counts
 * against the target (no coordinated omission).  Closed loop (--closed): each
 * of --conns connections sends the next request as soon as the previous one
 * completes; latency from the actual send.  Every run stops by itself:
 * --count/--duration bound the schedule, --drain bounds the wait for the
 * last answers, --timeout bounds each request.
 *
 * Per request: time to the first answer content (the --marker bytes seen in
 * the decoded body: SSE for the gateway, inflated JSON for the fake) and the
 * completion time.  Latencies are kept exactly (µs) and sorted for
 * percentiles.  --pid samples VmRSS and utime+stime of other processes.
 * Output: one JSON object on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "jwt.h"
#include "loadgen.h"

/* ---------------------------------------------------------------- connections */

enum { CH_SIZE, CH_DATA, CH_DATA_CRLF, CH_TRAILER, CH_DONE };

struct conn {
    int fd;
    bool connected, busy, want_out;
    long job;                 /* request index, -1 when idle */
    int64_t due_us, sent_us, first_us;
    int step;                 /* direct: 0 createSession, 1 streamAssist */
    bool prime;
    char session[256];
    struct sbuf wbuf;
    size_t woff;
    /* response */
    struct sbuf head;
    bool in_body, chunked, gzip, close_after, until_close;
    int status;
    long long clen, crem;
    int cstate;
    char cline[64];
    size_t cline_len;
    z_stream zs;
    bool zinit;
    struct sbuf cap;          /* captured body (createSession) */
    char tail[32];
    size_t tail_len;
    char dtail[32];
    size_t dtail_len;
    bool marker_seen, done_seen;
    uint64_t body_bytes;      /* decoded bytes */
    int idle_next;
};

static struct conn *conns;
static int nconns_open, epfd;
static int *idle_stack, n_idle;

/* results */
static int64_t *lat, *ttft;
static size_t n_lat, n_ttft, cap_lat, cap_ttft;
static long n_ok, n_fail, n_started, fail_status, fail_conn, fail_timeout, fail_incomplete;
static uint64_t wire_bytes, body_total;
int active, peak_active;
static int64_t t0, t_last_done;
static long sched_next;
static long *pending;           /* open loop: due jobs waiting for a connection */
static long pend_head, pend_tail;
static bool priming;
static long prime_next, prime_done, prime_fail;


static void ep_mod(struct conn *c, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.u32 = (uint32_t)(c - conns)};
    c->want_out = out;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        nconns_open--;
    }
    c->fd = -1;
    c->connected = false;
}

static int conn_open(struct conn *c)
{
    c->fd = tcp_connect(opt.port, true);
    if (c->fd < 0)
        return -1;
    nconns_open++;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.u32 = (uint32_t)(c - conns)};
    c->want_out = true;
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

static void resp_reset(struct conn *c)
{
    c->head.len = 0;
    c->in_body = c->chunked = c->gzip = c->close_after = c->until_close = false;
    c->status = 0;
    c->clen = -1;
    c->cstate = CH_SIZE;
    c->crem = 0;
    c->cline_len = 0;
    if (c->zinit) {
        inflateEnd(&c->zs);
        c->zinit = false;
    }
    c->cap.len = 0;
    c->dtail_len = 0;
    c->done_seen = false;
}

static const char *done_marker(const struct conn *c)
{
    if (c->prime)
        return "\"finish_reason\"";
    switch (opt.target) {
    case T_GW: case T_GW_CONT:
        return opt.stream ? "data: [DONE]" : "\"finish_reason\"";
    default:
        return c->step == 0 ? NULL : "SUCCEEDED";
    }
}

static void send_step(struct conn *c)
{
    c->wbuf.len = 0;
    c->woff = 0;
    resp_reset(c);
    if (opt.target == T_GW || opt.target == T_GW_CONT)
        build_gw(&c->wbuf, c->job, c->prime);
    else if (opt.target == T_DIRECT && c->step == 0)
        build_create_session(&c->wbuf, false);
    else
        build_stream_assist(&c->wbuf, opt.target == T_DIRECT ? c->session : g_session, opt.msg);
    if (c->fd < 0 && conn_open(c) != 0)
        return; /* the caller sees fd < 0 */
    if (c->connected)
        ep_mod(c, true);
}

static void start_job(struct conn *c, long job, int64_t due, bool prime)
{
    c->busy = true;
    c->job = job;
    c->prime = prime;
    c->due_us = due;
    c->sent_us = now_us();
    if (!c->prime && opt.closed)
        c->due_us = c->sent_us;
    c->first_us = 0;
    c->marker_seen = false;
    c->tail_len = 0;
    c->body_bytes = 0;
    c->step = (opt.target == T_DIRECT) ? 0 : 1;
    if (!prime) {
        n_started++;
        active++;
        if (active > peak_active)
            peak_active = active;
    }
    send_step(c);
    if (c->fd < 0) { /* no socket (fd limit): count it, park the connection, no recursion */
        c->busy = false;
        if (prime) {
            prime_fail++;
        } else {
            active--;
            n_fail++;
            fail_conn++;
        }
        idle_stack[n_idle++] = (int)(c - conns);
    }
}

static void job_finished(struct conn *c, bool ok, int why);

static void assign_idle(struct conn *c);


static FILE *dump_f;
static long dump_job = -1;

static void sink(struct conn *c, const char *d, size_t n)
{
    c->body_bytes += n;
    if (dump_f && c->step == 1 && !c->prime && (dump_job < 0 || dump_job == c->job)) {
        dump_job = c->job; /* the decoded body of the first answer, for inspection */
        fwrite(d, 1, n, dump_f);
    }
    if (opt.target == T_DIRECT && c->step == 0 && c->cap.len < 65536)
        sb_add(&c->cap, d, n);
    if (c->step == 1 && !c->prime && !c->marker_seen) {
        marker_scan(c->tail, &c->tail_len, opt.marker, d, n, &c->marker_seen);
        if (c->marker_seen)
            c->first_us = now_us();
    }
    const char *dm = done_marker(c);
    if (dm && !c->done_seen)
        marker_scan(c->dtail, &c->dtail_len, dm, d, n, &c->done_seen);
}

static int body_data(struct conn *c, const char *d, size_t n)
{
    if (!c->gzip) {
        sink(c, d, n);
        return 0;
    }
    if (!c->zinit) {
        memset(&c->zs, 0, sizeof c->zs);
        if (inflateInit2(&c->zs, 15 + 16) != Z_OK)
            return -1;
        c->zinit = true;
    }
    char out[65536];
    c->zs.next_in = (Bytef *)d;
    c->zs.avail_in = (uInt)n;
    do {
        c->zs.next_out = (Bytef *)out;
        c->zs.avail_out = sizeof out;
        int r = inflate(&c->zs, Z_NO_FLUSH);
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
            return -1;
        size_t got = sizeof out - c->zs.avail_out;
        if (got)
            sink(c, out, got);
        if (r == Z_STREAM_END || (r == Z_BUF_ERROR && got == 0))
            break;
    } while (c->zs.avail_in > 0 || c->zs.avail_out == 0);
    return 0;
}

static int parse_head(struct conn *c)
{
    char *h = c->head.p;
    if (strncmp(h, "HTTP/1.", 7) != 0)
        return -1;
    c->status = atoi(h + 9);
    bool v10 = h[7] == '0';
    c->close_after = v10;
    for (char *line = strstr(h, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        char *l = line + 2;
        if (!strncasecmp(l, "content-length:", 15))
            c->clen = atoll(l + 15);
        else if (!strncasecmp(l, "transfer-encoding:", 18) && strcasestr(l, "chunked") &&
                 strcasestr(l, "chunked") < strstr(l, "\r\n"))
            c->chunked = true;
        else if (!strncasecmp(l, "content-encoding:", 17) && strcasestr(l, "gzip") &&
                 strcasestr(l, "gzip") < strstr(l, "\r\n"))
            c->gzip = true;
        else if (!strncasecmp(l, "connection:", 11)) {
            char *e = strstr(l, "\r\n");
            char *cl = strcasestr(l, "close");
            if (cl && cl < e)
                c->close_after = true;
            char *ka = strcasestr(l, "keep-alive");
            if (ka && ka < e)
                c->close_after = false;
        }
    }
    if (!c->chunked && c->clen < 0)
        c->until_close = true;
    return 0;
}

/* Feed received bytes; returns 1 when the response is complete, 0 for more,
 * -1 on a protocol error.  *used tells how many bytes were consumed. */
static int resp_feed(struct conn *c, const char *d, size_t n, size_t *used)
{
    size_t i = 0;
    if (!c->in_body) {
        size_t old = c->head.len;
        sb_add(&c->head, d, n);
        char *e = memmem(c->head.p, c->head.len, "\r\n\r\n", 4);
        if (!e) {
            *used = n;
            return c->head.len > 65536 ? -1 : 0;
        }
        size_t hl = (size_t)(e - c->head.p) + 4;
        c->head.p[hl - 2] = 0; /* keep one CRLF after the last header */
        c->head.len = hl;
        if (parse_head(c) != 0)
            return -1;
        c->in_body = true;
        i = hl - old;
        if (c->status == 100) { /* interim; start over */
            resp_reset(c);
            size_t u2 = 0;
            int r = resp_feed(c, d + i, n - i, &u2);
            *used = i + u2;
            return r;
        }
        if (!c->chunked && c->clen == 0) {
            *used = i;
            return 1;
        }
    }
    while (i < n) {
        if (!c->chunked) {
            size_t take = n - i;
            if (c->clen >= 0) {
                long long left = c->clen - c->crem;
                if ((long long)take > left)
                    take = (size_t)left;
            }
            if (body_data(c, d + i, take) != 0)
                return -1;
            c->crem += (long long)take;
            i += take;
            if (c->clen >= 0 && c->crem >= c->clen) {
                *used = i;
                return 1;
            }
            continue;
        }
        switch (c->cstate) {
        case CH_SIZE:
        case CH_TRAILER: {
            char ch = d[i++];
            if (c->cline_len < sizeof c->cline - 1)
                c->cline[c->cline_len++] = ch;
            if (ch != '\n')
                break;
            c->cline[c->cline_len] = 0;
            if (c->cstate == CH_SIZE) {
                c->crem = strtoll(c->cline, NULL, 16);
                c->cline_len = 0;
                c->cstate = c->crem ? CH_DATA : CH_TRAILER;
            } else {
                bool empty = c->cline_len <= 2;
                c->cline_len = 0;
                if (empty) {
                    c->cstate = CH_DONE;
                    *used = i;
                    return 1;
                }
            }
            break;
        }
        case CH_DATA: {
            size_t take = n - i;
            if ((long long)take > c->crem)
                take = (size_t)c->crem;
            if (body_data(c, d + i, take) != 0)
                return -1;
            c->crem -= (long long)take;
            i += take;
            if (c->crem == 0) {
                c->cstate = CH_DATA_CRLF;
                c->cline_len = 0;
            }
            break;
        }
        case CH_DATA_CRLF:
            if (d[i++] == '\n')
                c->cstate = CH_SIZE;
            break;
        }
    }
    *used = i;
    return 0;
}

static void response_done(struct conn *c)
{
    if (c->status != 200) {
        job_finished(c, false, 1);
        return;
    }
    if (opt.target == T_DIRECT && c->step == 0) {
        if (json_field(c->cap.p ? c->cap.p : "", "name", c->session, sizeof c->session) != 0) {
            job_finished(c, false, 3);
            return;
        }
        if (c->close_after)
            conn_close(c);
        c->step = 1;
        send_step(c);
        return;
    }
    job_finished(c, c->done_seen, 3);
}

static void conn_readable(struct conn *c)
{
    char buf[65536];
    for (;;) {
        ssize_t r = read(c->fd, buf, sizeof buf);
        if (r > 0) {
            wire_bytes += (uint64_t)r;
            if (!c->busy) { /* unsolicited bytes on an idle connection */
                conn_close(c);
                return;
            }
            size_t off = 0;
            while (off < (size_t)r && c->busy) {
                size_t used = 0;
                int st = resp_feed(c, buf + off, (size_t)r - off, &used);
                off += used;
                if (st < 0) {
                    job_finished(c, false, 3);
                    conn_close(c);
                    return;
                }
                if (st == 1) {
                    response_done(c);
                    if (c->fd < 0)
                        return;
                    if (off < (size_t)r) /* pipelined garbage: drop the connection */
                        break;
                } else {
                    break;
                }
            }
            if ((size_t)r < sizeof buf)
                return;
            continue;
        }
        if (r == 0) {
            bool was_busy = c->busy;
            if (was_busy && c->in_body && c->until_close) {
                conn_close(c);
                response_done(c);
                return;
            }
            conn_close(c);
            if (was_busy)
                job_finished(c, false, 2);
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EINTR)
            continue;
        bool was_busy = c->busy;
        conn_close(c);
        if (was_busy)
            job_finished(c, false, 2);
        return;
    }
}

static void conn_writable(struct conn *c)
{
    if (!c->connected) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            bool was_busy = c->busy;
            conn_close(c);
            if (was_busy)
                job_finished(c, false, 2);
            return;
        }
        c->connected = true;
    }
    if (!c->busy || c->woff >= c->wbuf.len) {
        ep_mod(c, false);
        return;
    }
    while (c->woff < c->wbuf.len) {
        ssize_t w = send(c->fd, c->wbuf.p + c->woff, c->wbuf.len - c->woff, MSG_NOSIGNAL);
        if (w > 0) {
            c->woff += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_close(c);
        job_finished(c, false, 2);
        return;
    }
    ep_mod(c, false);
}

static bool accepting_new(void);

static void job_finished(struct conn *c, bool ok, int why)
{
    int64_t t = now_us();
    if (!c->busy)
        return;
    c->busy = false;
    if (c->prime) {
        if (ok)
            prime_done++;
        else
            prime_fail++;
    } else {
        active--;
        if (ok) {
            n_ok++;
            push_lat(&lat, &n_lat, &cap_lat, t - c->due_us);
            if (c->marker_seen)
                push_lat(&ttft, &n_ttft, &cap_ttft, c->first_us - c->due_us);
            body_total += c->body_bytes;
            t_last_done = t;
        } else {
            n_fail++;
            if (why == 1) {
                fail_status++;
                if (n_fail <= 3)
                    fprintf(stderr, "loadgen: HTTP %d: %.300s\n", c->status, c->head.p ? c->head.p : "");
            } else if (why == 2) {
                fail_conn++;
            } else if (why == 4) {
                fail_timeout++;
            } else {
                fail_incomplete++;
            }
        }
    }
    if (c->fd >= 0 && (c->close_after || !ok))
        conn_close(c);
    assign_idle(c);
}

/* A connection became free: give it the next job or park it. */
static void assign_idle(struct conn *c)
{
    int64_t t = now_us();
    if (priming) {
        if (prime_next < opt.count) {
            long j = prime_next++;
            start_job(c, j, t, true);
            return;
        }
    } else if (opt.closed) {
        if (accepting_new()) {
            start_job(c, sched_next++, t, false);
            return;
        }
    } else if (pend_head < pend_tail) {
        long j = pending[pend_head++];
        start_job(c, j, t0 + (int64_t)((double)j * 1e6 / opt.rate), false);
        return;
    }
    idle_stack[n_idle++] = (int)(c - conns);
}

static bool accepting_new(void)
{
    if (opt.count > 0 && sched_next >= opt.count)
        return false;
    if (opt.duration > 0 && now_us() - t0 >= (int64_t)(opt.duration * 1e6))
        return false;
    return true;
}

static struct conn *get_idle(void)
{
    if (n_idle == 0)
        return NULL;
    return &conns[idle_stack[--n_idle]];
}

static void sweep_timeouts(void)
{
    int64_t t = now_us(), lim = (int64_t)(opt.timeout * 1e6);
    for (int i = 0; i < opt.conns; i++) {
        struct conn *c = &conns[i];
        if (c->busy && t - c->sent_us > lim) {
            conn_close(c);
            job_finished(c, false, 4);
        }
    }
}

static void loop_events(int64_t wait_us)
{
    struct epoll_event evs[512];
    if (wait_us < 0)
        wait_us = 0;
    struct timespec ts = {.tv_sec = wait_us / 1000000, .tv_nsec = (wait_us % 1000000) * 1000};
    int n = epoll_pwait2(epfd, evs, 512, &ts, NULL);
    for (int i = 0; i < n; i++) {
        struct conn *c = &conns[evs[i].data.u32];
        if (c->fd < 0)
            continue;
        if (evs[i].events & EPOLLOUT)
            conn_writable(c);
        if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            conn_readable(c);
    }
}

/* ---------------------------------------------------------------- process sampling */

static void dump_raw(void)
{
    if (!opt.raw)
        return;
    FILE *f = fopen(opt.raw, "w");
    if (!f)
        return;
    for (size_t i = 0; i < n_lat; i++)
        fprintf(f, "%lld\n", (long long)lat[i]);
    fclose(f);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (opt.npids < 4) {        /* its own CPU too: the third process on the cores */
        opt.pids[opt.npids] = (int)getpid();
        opt.pid_names[opt.npids++] = "loadgen";
    }
    signal(SIGPIPE, SIG_IGN);
    if (opt.dump && !(dump_f = fopen(opt.dump, "w")))
        die("cannot open --dump file");
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if ((rlim_t)opt.conns + 32 > rl.rlim_cur)
            opt.conns = (int)rl.rlim_cur - 32;
    }
    if (opt.target == T_DIRECT || opt.target == T_DIRECT_SA)
        direct_setup();

    epfd = epoll_create1(EPOLL_CLOEXEC);
    conns = calloc((size_t)opt.conns, sizeof *conns);
    idle_stack = calloc((size_t)opt.conns, sizeof *idle_stack);
    pending = calloc((size_t)(opt.count > 0 ? opt.count : 1), sizeof *pending);
    if (!conns || !idle_stack || !pending)
        die("out of memory");
    for (int i = opt.conns - 1; i >= 0; i--) {
        conns[i].fd = -1;
        conns[i].job = -1;
        idle_stack[n_idle++] = i;
    }

    /* priming (gw-cont): create the conversations to continue, not measured */
    int64_t prime_us = 0;
    if (opt.target == T_GW_CONT) {
        int64_t ps0 = now_us();
        priming = true;
        int pc = opt.prime_conns < opt.conns ? opt.prime_conns : opt.conns;
        for (int k = 0; k < pc && prime_next < opt.count; k++) {
            struct conn *c = get_idle();
            start_job(c, prime_next++, now_us(), true);
        }
        int64_t plim = ps0 + (int64_t)((opt.count / 200.0 + 60) * 1e6);
        while (prime_done + prime_fail < opt.count && now_us() < plim) {
            loop_events(10000);
            sweep_timeouts();
        }
        priming = false;
        prime_us = now_us() - ps0;
        if (prime_fail)
            fprintf(stderr, "loadgen: %ld priming requests failed\n", prime_fail);
        /* re-park every idle connection (assign_idle parked them already) */
    }

    sample_pids(true, false);
    t0 = now_us();
    int64_t last_sample = t0, last_sweep = t0;
    int64_t sched_end_lim = (int64_t)((opt.duration > 0 ? opt.duration : opt.count / (opt.rate > 0 ? opt.rate : 1)) * 1e6);
    if (opt.closed) {
        for (int k = 0; k < opt.conns && accepting_new(); k++) {
            struct conn *c = get_idle();
            if (!c)
                break;
            start_job(c, sched_next++, now_us(), false);
        }
    }
    int64_t drain_deadline = 0;
    for (;;) {
        int64_t t = now_us();
        /* open loop: release due jobs */
        if (!opt.closed) {
            while (sched_next < opt.count) {
                int64_t due = t0 + (int64_t)((double)sched_next * 1e6 / opt.rate);
                if (due > t)
                    break;
                long j = sched_next++;
                struct conn *c = get_idle();
                if (c)
                    start_job(c, j, due, false);
                else
                    pending[pend_tail++] = j;
            }
        }
        bool sched_over = opt.closed ? !accepting_new() : sched_next >= opt.count;
        if (sched_over) {
            if (!drain_deadline)
                drain_deadline = t + (int64_t)(opt.drain * 1e6);
            if (active == 0 && pend_head == pend_tail)
                break;
            if (t > drain_deadline)
                break;
        }
        if (t - last_sample >= 100000) {
            sample_pids(false, false);
            last_sample = t;
        }
        if (t - last_sweep >= 100000) {
            sweep_timeouts();
            last_sweep = t;
        }
        int64_t wait = 100000;
        if (!opt.closed && sched_next < opt.count) {
            int64_t due = t0 + (int64_t)((double)sched_next * 1e6 / opt.rate);
            wait = due - now_us();
        }
        loop_events(wait);
        (void)sched_end_lim;
    }
    int64_t t_end = now_us();
    sample_pids(false, true);
    long unfinished = active + (pend_tail - pend_head);
    int64_t span = (t_last_done > t0 ? t_last_done : t_end) - t0;

    printf("{\"label\":\"%s\",\"target\":\"%s\",\"mode\":\"%s\",\"rate\":%.1f,\"conns\":%d,\"stream\":%s",
           opt.label, opt.target == T_GW ? "gw" : opt.target == T_GW_CONT ? "gw-cont" : opt.target == T_DIRECT ? "direct" : "direct-sa",
           opt.closed ? "closed" : "open", opt.rate, opt.conns, opt.stream ? "true" : "false");
    printf(",\"scheduled\":%ld,\"started\":%ld,\"ok\":%ld,\"fail\":%ld,\"fail_status\":%ld,\"fail_conn\":%ld"
           ",\"fail_timeout\":%ld,\"fail_incomplete\":%ld,\"unfinished\":%ld,\"peak_active\":%d",
           opt.closed ? sched_next : opt.count, n_started, n_ok, n_fail, fail_status, fail_conn, fail_timeout,
           fail_incomplete, unfinished, peak_active);
    printf(",\"elapsed_s\":%.3f,\"span_s\":%.3f,\"rps\":%.1f,\"wire_MBps\":%.2f,\"body_MBps\":%.2f,\"answer_MBps\":%.2f",
           (double)(t_end - t0) / 1e6, (double)span / 1e6, span > 0 ? (double)n_ok * 1e6 / (double)span : 0,
           span > 0 ? (double)wire_bytes / (double)span : 0, span > 0 ? (double)body_total / (double)span : 0,
           span > 0 ? opt.answer_bytes * (double)n_ok / (double)span : 0);
    if (opt.target == T_GW_CONT)
        printf(",\"primed\":%ld,\"prime_fail\":%ld,\"prime_s\":%.2f", prime_done, prime_fail, (double)prime_us / 1e6);
    dump_raw();
    print_pcts("latency_us", lat, n_lat);
    print_pcts("ttft_us", ttft, n_ttft);
    printf(",\"procs\":{");
    for (int i = 0; i < opt.npids; i++)
        printf("%s\"%s\":{\"rss_start_kb\":%ld,\"rss_max_kb\":%ld,\"rss_end_kb\":%ld,\"cpu_s\":%.2f}", i ? "," : "",
               opt.pid_names[i], ps[i].rss_start, ps[i].rss_max, ps[i].rss_end, ps[i].cpu_end - ps[i].cpu_start);
    printf("}}\n");
    if (dump_f)
        fclose(dump_f);
    return 0;
}
