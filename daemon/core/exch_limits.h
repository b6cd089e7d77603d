/* exch_limits.h -- stop sequences and max_tokens, applied once by the core to
 * the answer text of every dialect (the upstream knows neither).
 *
 * limits_feed() takes answer text in arrival order and hands on, through
 * `emit`, the text the client may see: text that could be the start of a
 * stop sequence is held back until it is known not to be one; the answer
 * ends before the stop sequence that completes first (as generation would
 * stop there; ties: the one that starts first), whatever the chunking (hit =
 * EXCH_FIN_STOP_SEQUENCE, `matched` names it), or when the estimated tokens
 * would pass max_tokens (hit = EXCH_FIN_LENGTH; the emitted text is the
 * longest UTF-8-complete prefix that fits).  Estimates are summed per
 * fragment, which never undercounts, so a fragmented answer may be cut a
 * little earlier than the same answer in one piece, never later.  It returns true once the answer is
 * complete: the caller then stops reading the upstream.  limits_flush() at
 * the natural end releases the held-back tail.
 *
 * Ownership: the stop strings are borrowed from the request and must
 * outlive the limits.  The hold buffer is capped (64 MiB); limits_free()
 * releases it.  Single-threaded (the upstream thread).
 */
#ifndef EXCH_LIMITS_H
#define EXCH_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exch.h"
#include "gg_buf.h"

struct exch_limits {
    const char *stop[EXCH_MAX_STOP];    /* borrowed, NULL-terminated when fewer */
    size_t stop_max;                    /* longest stop sequence */
    int64_t max_tokens;                 /* 0 = none */
    int64_t tokens;                     /* estimate of what was emitted */
    struct gg_buf hold;
    bool done;                          /* a limit was reached */
    enum exch_finish hit;               /* EXCH_FIN_STOP_SEQUENCE or EXCH_FIN_LENGTH when done */
    const char *matched;                /* the stop sequence that matched */
};

typedef void (*limits_emit_fn)(void *ctx, const char *s, size_t n);

void limits_init(struct exch_limits *l, const struct exch_request *req);
/* Take the stop sequences and max_tokens of req (NULL = none). */
void limits_configure(struct exch_limits *l, const struct exch_request *req);
void limits_reset(struct exch_limits *l);       /* a new attempt: nothing emitted yet */
void limits_free(struct exch_limits *l);
bool limits_feed(struct exch_limits *l, const char *s, size_t n, limits_emit_fn emit, void *ctx);
void limits_flush(struct exch_limits *l, limits_emit_fn emit, void *ctx);

#endif
