/* upstream.h -- the upstream event loops: every Gemini Business exchange
 * (getoxsrf, JWT signing, widgetCreateSession, widgetStreamAssist, uploads,
 * generated-file downloads, attachment fetches) runs on one of
 * UPSTREAM_LOOPS threads (default: one per core), each owning a libcurl
 * multi handle driven through its own epoll set.  upstream_submit() gives a
 * call to the least loaded loop (ties round robin) and the call stays there
 * to its end: its cancel / unpause commands go to that loop's queue and
 * eventfd, so the hot path takes no lock shared between loops (only the
 * call's own mutex).  Other threads never touch an easy handle.
 *
 * Shared between loops: the pool (its own mutex) and each account's
 * sign-in state.  getoxsrf runs once per account however many loops need
 * it: the first loop to find the key missing owns the sign-in, calls of
 * every loop wait on the account, and when it ends the owner resumes its
 * own waiters and notifies the other loops, which resume theirs (oxsrf.c).
 * Each loop keeps a snapshot cache of the keys so that signing a JWT does
 * not lock.  Loop 0 also runs the expiry watch and returns freed memory to
 * the system (malloc_trim) once no call is active after a busy period.
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
 * upstream_start() returns 0 or -1 (thread or curl init failure; nothing
 * left running).  upstream_stop() cancels everything still running and
 * joins the threads.
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
int upstream_active(void);                  /* calls in flight (all loops) */
int upstream_loops(void);                   /* loops running (0 before start) */

#endif
