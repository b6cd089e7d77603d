/* exch_limits.c -- see exch_limits.h */
#include "exch_limits.h"

#include <string.h>

#include "gg_util.h"
#include "tokens.h"

void limits_init(struct exch_limits *l, const struct exch_request *req)
{
    memset(l, 0, sizeof(*l));
    gg_buf_init(&l->hold, 64u << 20);
    limits_configure(l, req);
}

void limits_configure(struct exch_limits *l, const struct exch_request *req)
{
    memset(l->stop, 0, sizeof(l->stop));
    l->stop_max = 0;
    int k = 0;
    for (int i = 0; i < EXCH_MAX_STOP && req && req->stop[i]; i++) {
        if (!*req->stop[i])
            continue;
        l->stop[k++] = req->stop[i];
        if (strlen(req->stop[i]) > l->stop_max)
            l->stop_max = strlen(req->stop[i]);
    }
    l->max_tokens = req ? req->max_tokens : 0;
}

void limits_reset(struct exch_limits *l)
{
    gg_buf_reset(&l->hold);
    l->tokens = 0;
    l->done = false;
    l->hit = EXCH_FIN_STOP;
    l->matched = NULL;
}

void limits_free(struct exch_limits *l)
{
    gg_buf_free(&l->hold);
}

static void emit_some(limits_emit_fn emit, void *ctx, const char *s, size_t n)
{
    if (n)
        emit(ctx, s, n);
}

/* The longest UTF-8-complete prefix of s[0..n) whose estimate fits `room`
 * (the estimate never shrinks as a prefix grows: a binary search). */
static size_t fit_prefix(const char *s, size_t n, int64_t room)
{
    size_t lo = 0, hi = n;   /* prefix(lo) fits; prefix(hi + 1..) is unknown */
    if (room <= 0)
        return 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2, p = gg_utf8_complete_prefix(s, mid);
        if (exch_estimate_tokens(s, p) <= room)
            lo = mid;
        else
            hi = mid - 1;
    }
    return gg_utf8_complete_prefix(s, lo);
}

bool limits_feed(struct exch_limits *l, const char *s, size_t n, limits_emit_fn emit, void *ctx)
{
    if (l->done)
        return true;
    bool at_length = false;
    if (l->max_tokens > 0) {
        int64_t t = exch_estimate_tokens(s, n);
        if (l->tokens + t > l->max_tokens) {
            n = fit_prefix(s, n, l->max_tokens - l->tokens);
            at_length = true;
        }
        l->tokens += exch_estimate_tokens(s, n);
    }
    if (l->stop_max == 0) {
        emit_some(emit, ctx, s, n);
    } else {
        if (gg_buf_add(&l->hold, s, n) != 0) {
            /* the hold cap: what is held cannot be checked further; end here */
            at_length = true;
        }
        const char *h = l->hold.p ? l->hold.p : "";
        /* the stop sequence that completes first (as generation would stop
         * there; ties: the one that starts first), whatever the chunking */
        size_t hl = l->hold.len, best = SIZE_MAX, best_end = SIZE_MAX;
        const char *which = NULL;
        for (int i = 0; i < EXCH_MAX_STOP && l->stop[i]; i++) {
            size_t sl = strlen(l->stop[i]);
            const char *m = memmem(h, hl, l->stop[i], sl);
            size_t at = m ? (size_t)(m - h) : 0;
            if (m && (at + sl < best_end || (at + sl == best_end && at < best))) {
                best = at;
                best_end = at + sl;
                which = l->stop[i];
            }
        }
        if (which) {
            emit_some(emit, ctx, h, best);
            gg_buf_reset(&l->hold);
            l->done = true;
            l->hit = EXCH_FIN_STOP_SEQUENCE;
            l->matched = which;
            return true;
        }
        size_t keep_back = l->stop_max - 1;
        size_t out = at_length ? hl : hl > keep_back ? gg_utf8_complete_prefix(h, hl - keep_back) : 0;
        emit_some(emit, ctx, h, out);
        gg_buf_consume(&l->hold, out);
    }
    if (at_length) {
        l->done = true;
        l->hit = EXCH_FIN_LENGTH;
    }
    return l->done;
}

void limits_flush(struct exch_limits *l, limits_emit_fn emit, void *ctx)
{
    if (l->hold.len && !l->done)
        emit_some(emit, ctx, l->hold.p, l->hold.len);
    gg_buf_reset(&l->hold);
}
