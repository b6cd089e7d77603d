/* keys_int.h -- private to the client-key module (keys.c, keys_window.c):
 * the in-memory key record and the time-window helpers.  Every function
 * here is called with keys.c's lock held and cannot fail, except
 * kw_size_ring (0, or -1 on allocation failure, the key unchanged). */
#ifndef KEYS_INT_H
#define KEYS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define RPM_RING_MAX 100000      /* exact sliding window up to this rate */
#define NBUCKETS 1024

struct key {
    struct key_info info;
    struct key *next_hash;       /* bucket chain by hash */
    struct key *next_byid;       /* bucket chain by id */
    /* runtime, under `lock` */
    int64_t *ring;               /* admission times of the last `ring_n` requests */
    size_t ring_n, ring_pos;
    int64_t tok_sec[60];         /* tokens finished per second of the last minute */
    int64_t tok_stamp[60];       /* which second each slot holds */
    int64_t day, month;          /* index of the counters below */
    int64_t day_tokens, month_tokens, day_requests, day_errors;
    int inflight;
    int64_t req_sec[60];         /* requests admitted per second of the last minute */
    int64_t req_stamp[60];
    int64_t rem_req, rem_tok;    /* other instances (keys_set_remote) */
    int rem_inflight;
    int64_t rem_until;
    uint64_t tot_requests, tot_errors, tot_in, tot_out;  /* since start (metrics) */
};

/* calendar: UTC day and month indexes, the next month's first instant */
int64_t kw_day_of(int64_t ms);
int64_t kw_month_of(int64_t ms);
int64_t kw_next_month_ms(int64_t ms);
/* reset the day / month counters when now is in a new one */
void kw_roll(struct key *k, int64_t now);
/* the rpm ring sized to the key's rpm, keeping the last minute */
int kw_size_ring(struct key *k);
size_t kw_recent_admissions(const struct key *k, int64_t now, int64_t *out, size_t max);
/* tokens finished / requests admitted in the rolling minute */
int64_t kw_minute_tokens(const struct key *k, int64_t now);
int64_t kw_minute_requests(const struct key *k, int64_t now);

#endif
