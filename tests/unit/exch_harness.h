/* exch_harness.h -- drives an exch_dialect table the way the core does
 * (begin, events, finish or fail) into one output buffer, for the dialect
 * unit tests.  Header-only (static functions), test code only. */
#ifndef EXCH_HARNESS_H
#define EXCH_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "exch.h"
#include "gg_buf.h"

struct hx {
    const struct exch_dialect *d;
    struct exch_request req;
    struct exch_ctx x;
    struct gg_buf out;
    int parsed;     /* parse rc */
    struct exch_error err;
};

/* Parse `body` with d (path_model / path_stream for Gemini) and set up a
 * context for the encoders. */
static int hx_open(struct hx *h, const struct exch_dialect *d, const char *body, const char *path_model,
                   bool path_stream)
{
    memset(h, 0, sizeof(*h));
    h->d = d;
    gg_buf_init(&h->out, 16u << 20);
    struct exch_parse_in in = {.body = body, .len = strlen(body), .path_model = path_model,
                               .path_stream = path_stream, .key_id = "k1"};
    h->parsed = d->parse(&in, &h->req, &h->err);
    h->x.req = &h->req;
    h->x.id = "req-42.x";
    h->x.model = "gemini-2.5-flash";
    h->x.created_s = 1700000000;
    h->x.state = calloc(1, d->state_size ? d->state_size : 1);
    return h->parsed;
}

static void hx_close(struct hx *h)
{
    if (h->parsed == 0) {
        if (h->d->opts_free)
            h->d->opts_free(h->req.opts);
        h->req.opts = NULL;
        exch_request_free(&h->req);
    }
    free(h->x.state);
    gg_buf_free(&h->out);
}

static void hx_text(struct hx *h, enum exch_ev_kind k, const char *s)
{
    struct exch_event ev = {.kind = k, .text = s, .len = strlen(s)};
    h->d->event(&h->x, &ev, &h->out);
}

static void hx_call(struct hx *h, enum exch_ev_kind k, const struct exch_tool_call *c, int index)
{
    struct exch_event ev = {.kind = k, .call = c, .call_index = index};
    h->d->event(&h->x, &ev, &h->out);
}

#endif
