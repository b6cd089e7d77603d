/* net.h -- the UI side of the network for gemctl-tui: submits requests to
 * the async admin client, schedules the periodic refresh (overview +
 * accounts), keeps the connection state with its retry timer, follows the
 * live log stream, and delivers every result to the callback stored with
 * its request.  It knows no view: stream events go to app_broadcast().
 *
 * Ownership: a completion callback gets the result for the duration of the
 * call; it may take r->json (set it to NULL) and then owns it.  `desc` and
 * `acct_id` are copied at submit time.
 * Failure: net_submit returns -1 (and shows why in the status line) when
 * 64 requests are already in flight or memory runs out; the callback is
 * then never called.  Every other request gets exactly one callback, with
 * r->err.kind != GG_ADMIN_OK on any failure, unless the program exits first
 * (gg_admin_async_free drops what is still queued).
 * UI thread only; never blocks.
 */
#ifndef TUI_NET_H
#define TUI_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"

/* What a completion callback learns about its request. */
struct net_req {
    long id;
    long long acct_id;        /* caller's account id, -1 = none */
    char desc[128];           /* caller's description ("disable #3 alpha") */
};

typedef void (*net_done_fn)(struct app *a, const struct net_req *rq, struct gg_admin_result *r);

/* Start the worker threads; a->net stays NULL on failure. */
void net_start(struct app *a);
/* Periodic refresh and connection probes; call once per loop pass. */
void net_tick(struct app *a, int64_t now);
/* Deliver waiting results (bounded per call so the UI stays responsive). */
void net_process(struct app *a);
/* Queue a request; done(a, rq, result) runs on the UI thread later.
 * slow selects the long timeout (test, import).  Returns the id or -1. */
long net_submit(struct app *a, const char *method, const char *path, const char *body,
                size_t len, const char *ctype, bool slow, net_done_fn done, long long acct_id,
                const char *desc);
/* Refresh now (and probe now when disconnected). */
void net_refresh_now(struct app *a);
/* When net_tick next has work (mono ms). */
int64_t net_next_due(struct app *a, int64_t now);
/* Connection problem for the status line ("" when connected). */
void net_status_text(struct app *a, int64_t now, char *out, size_t n, enum role *r);

#endif
