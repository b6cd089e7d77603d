/* fuzz_limits.c -- libFuzzer harness for stop sequences and max_tokens
 * (daemon/core/exch_limits.c: limits_feed, limits_flush).
 *
 * Input: byte 0 = max_tokens (0 = none), byte 1 = chunking seed, then up
 * to EXCH_MAX_STOP stop sequences, each ended by a NUL, then a second NUL
 * (or the end) and the answer text.
 *
 * The answer is fed once in one piece and once in chunks (1..16 bytes,
 * from a PRNG seeded with byte 1 and the input; on character boundaries
 * when the answer is valid UTF-8, as the upstream's fragments are whole
 * JSON strings), each run followed by limits_flush() unless it ended.
 * Invariants:
 *   - the output is a prefix of the answer and contains no stop sequence;
 *   - a stop hit names a configured stop sequence, and the answer continues
 *     with it right after the output; no stop sequence ends earlier in the
 *     answer than that one (the first to complete, as generation would stop);
 *   - without a hit the whole answer comes out (nothing held back is lost);
 *   - max_tokens: a length hit happens only when the answer did not fit;
 *     for valid UTF-8 (the estimate is monotone and subadditive there; the
 *     upstream's text is UTF-8) the estimate of the output is <= max_tokens
 *     in one piece and in chunks, no output goes past the longest UTF-8-complete prefix that
 *     fits, and a one-piece length hit is exactly that prefix;
 *   - without max_tokens any chunking gives the same output, finish and
 *     matched stop as one piece; with it and no stop sequences, for valid
 *     UTF-8 (estimates are summed per fragment, so chunking can only cut
 *     earlier) the chunked output is a prefix of the one-piece output.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exch.h"
#include "exch_limits.h"
#include "fuzz_check.h"
#include "gg_buf.h"
#include "gg_util.h"
#include "tokens.h"

static void sink(void *ctx, const char *s, size_t n)
{
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(gg_buf_add((struct gg_buf *)ctx, s, n) == 0);
}

struct run {
    struct gg_buf out;
    bool done;
    enum exch_finish hit;
    const char *matched;
};

static bool utf8;   /* the answer is valid UTF-8 */

static void feed(const struct exch_request *req, const char *a, size_t n, uint64_t seed, bool chunked,
                 struct run *r)
{
    struct exch_limits l;
    limits_init(&l, req);
    limits_reset(&l);
    gg_buf_init(&r->out, 1u << 20);
    bool done = false;
    if (!chunked) {
        done = limits_feed(&l, a, n, sink, &r->out);
    } else {
        uint64_t rng = seed | 1;
        for (size_t off = 0; off < n && !done;) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            size_t k = 1 + (size_t)(rng % 16);
            if (k > n - off)
                k = n - off;
            if (utf8 && gg_utf8_complete_prefix(a + off, k) > 0)
                k = gg_utf8_complete_prefix(a + off, k);
            else if (utf8)   /* one character longer than k */
                while (off + k < n && ((unsigned char)a[off + k] & 0xC0) == 0x80)
                    k++;
            done = limits_feed(&l, a + off, k, sink, &r->out);
            off += k;
        }
    }
    if (!done)
        limits_flush(&l, sink, &r->out);
    FUZZ_CHECK(done == l.done);
    r->done = l.done;
    r->hit = l.hit;
    r->matched = l.matched;
    limits_free(&l);
}

static const char *first_end(const char *a, size_t n, char *const *stop, size_t *end)
{
    const char *best = NULL;
    size_t be = SIZE_MAX, bs = SIZE_MAX;
    for (int i = 0; i < EXCH_MAX_STOP && stop[i]; i++) {
        size_t sl = strlen(stop[i]);
        if (!sl)
            continue;
        const char *m = memmem(a, n, stop[i], sl);
        if (!m)
            continue;
        size_t s = (size_t)(m - a), e = s + sl;
        if (e < be || (e == be && s < bs)) {
            be = e;
            bs = s;
            best = stop[i];
        }
    }
    *end = be;
    return best;
}

static void check_run(const struct exch_request *req, const char *a, size_t n, const struct run *r, bool chunked)
{
    const char *o = r->out.p ? r->out.p : "";
    size_t on = r->out.len;
    FUZZ_CHECK(on <= n && memcmp(o, a, on) == 0);
    for (int i = 0; i < EXCH_MAX_STOP && req->stop[i]; i++)
        if (*req->stop[i])
            FUZZ_CHECK(!memmem(o, on, req->stop[i], strlen(req->stop[i])));
    if (req->max_tokens > 0 && utf8)
        FUZZ_CHECK(exch_estimate_tokens(o, on) <= req->max_tokens);
    if (!r->done) {
        FUZZ_CHECK(on == n);
        return;
    }
    if (r->hit == EXCH_FIN_STOP_SEQUENCE) {
        FUZZ_CHECK(r->matched);
        bool configured = false;
        for (int i = 0; i < EXCH_MAX_STOP && req->stop[i]; i++)
            configured = configured || r->matched == req->stop[i];
        FUZZ_CHECK(configured);
        size_t ml = strlen(r->matched), end = 0;
        FUZZ_CHECK(on + ml <= n && memcmp(a + on, r->matched, ml) == 0);
        /* no stop sequence completes before this one */
        first_end(a, on + ml, req->stop, &end);
        FUZZ_CHECK(end == on + ml);
    } else {
        FUZZ_CHECK(r->hit == EXCH_FIN_LENGTH && req->max_tokens > 0);
        FUZZ_CHECK(chunked ? on < n : exch_estimate_tokens(a, n) > req->max_tokens);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < 2 || size > 16384)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, in, size);
    buf[size] = '\0';
    struct exch_request req;
    memset(&req, 0, sizeof(req));
    req.max_tokens = (unsigned char)buf[0];
    uint64_t seed = (uint64_t)(unsigned char)buf[1] * 0x9E3779B97F4A7C15ull ^ size;
    size_t off = 2;
    int ns = 0;
    while (ns < EXCH_MAX_STOP && off < size && buf[off] != '\0') {
        char *nul = memchr(buf + off, '\0', size - off);
        if (!nul)
            break;
        req.stop[ns++] = buf + off;
        off = (size_t)(nul - buf) + 1;
    }
    if (off < size && buf[off] == '\0')
        off++;
    const char *a = buf + off;
    size_t n = size - off;
    utf8 = gg_utf8_valid(a, n);

    struct run one, ch;
    feed(&req, a, n, seed, false, &one);
    feed(&req, a, n, seed, true, &ch);
    check_run(&req, a, n, &one, false);
    check_run(&req, a, n, &ch, true);
    if (req.max_tokens == 0) {
        FUZZ_CHECK(one.out.len == ch.out.len);
        FUZZ_CHECK(one.done == ch.done && (!one.done || (one.hit == ch.hit && one.matched == ch.matched)));
    } else if (utf8) {
        /* fit = the longest UTF-8-complete prefix whose estimate fits
         * (monotone on valid UTF-8: a binary search, checked at its edge) */
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo + 1) / 2;
            if (exch_estimate_tokens(a, gg_utf8_complete_prefix(a, mid)) <= req.max_tokens)
                lo = mid;
            else
                hi = mid - 1;
        }
        size_t fit = gg_utf8_complete_prefix(a, lo), next = fit + 1;
        while (next < n && gg_utf8_complete_prefix(a, next) <= fit)
            next++;
        FUZZ_CHECK(exch_estimate_tokens(a, fit) <= req.max_tokens);
        FUZZ_CHECK(fit == n || exch_estimate_tokens(a, gg_utf8_complete_prefix(a, next)) > req.max_tokens);
        /* nothing past the fit; in one piece a length hit is exactly the fit;
         * chunking only cuts earlier (without stops: a prefix of one piece) */
        FUZZ_CHECK(one.out.len <= fit && ch.out.len <= fit);
        if (one.done && one.hit == EXCH_FIN_LENGTH)
            FUZZ_CHECK(one.out.len == fit);
        if (!req.stop[0])
            FUZZ_CHECK(ch.out.len <= one.out.len);
    }
    gg_buf_free(&one.out);
    gg_buf_free(&ch.out);
    free(buf);
    return 0;
}
