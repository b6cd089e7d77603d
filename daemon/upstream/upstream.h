/* upstream.h -- the upstream I/O thread: every Gemini Business exchange
 * (getoxsrf, JWT signing, widgetCreateSession, widgetStreamAssist, uploads,
 * generated-file downloads, attachment fetches) runs on one thread owning a
 * libcurl multi handle driven through one epoll set.  Other threads talk to
 * it only through a command queue (submit / cancel / unpause) and an
 * eventfd that wakes the thread; they never touch an easy handle.
 * (Modules: see up.h.)
 *
 * For each submitted call it picks an account (pool), makes sure the
 * account has a fresh JWT (one getoxsrf per account at a time, waiters
 * queued), creates or reuses the upstream session, streams the answer
 * through the splitter and translator as neutral events into core/answer.c
 * (which applies stop / max_tokens and the client's dialect), fails over to
 * another account on failures before the first content byte, sends keep-alive pings, enforces the upstream
 * deadlines, watches client sockets for hang-ups, and pauses the transfer
 * when the client reads slower than the upstream writes.
 *
 * upstream_start() returns 0 or -1 (thread or curl init failure).
 * upstream_stop() cancels everything still running and joins the thread.
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stdint.h>

struct call;

int upstream_start(void);
void upstream_stop(void);
void upstream_submit(struct call *c);       /* takes over the upstream reference */
void upstream_cancel(struct call *c);       /* client went away */
void upstream_unpause(struct call *c);      /* client drained the output */
/* Graceful shutdown: stop new work, give running streams until the
 * deadline, then end them with an error frame. */
void upstream_drain(int64_t deadline_ms);
int upstream_active(void);                  /* calls in flight */

#endif
