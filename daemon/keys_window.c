/* keys_window.c -- the client keys' time windows: UTC day and month
 * rollover, the exact rpm ring (resized without forgetting the minute) and
 * the per-second token / request counters.  See keys_int.h. */
#include "keys_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gg_time.h"

/* ---- calendar ------------------------------------------------------------ */

int64_t kw_day_of(int64_t ms)
{
    return ms / 86400000;
}

int64_t kw_month_of(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon;
}

int64_t kw_next_month_ms(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    struct tm n = {0};
    n.tm_year = tm.tm_mon == 11 ? tm.tm_year + 1 : tm.tm_year;
    n.tm_mon = (tm.tm_mon + 1) % 12;
    n.tm_mday = 1;
    return (int64_t)timegm(&n) * 1000;
}

void kw_roll(struct key *k, int64_t now)
{
    int64_t d = kw_day_of(now);
    if (k->day == d)
        return;                  /* a month only turns with a day */
    k->day = d;
    k->day_tokens = k->day_requests = k->day_errors = 0;
    int64_t m = kw_month_of(now);
    if (k->month != m) {
        k->month = m;
        k->month_tokens = 0;
    }
}

/* The admission times of the last minute, oldest first, into out[max]:
 * from the ring when there is one (exact), else from the per-second
 * counters (to the second).  Returns how many. */
size_t kw_recent_admissions(const struct key *k, int64_t now, int64_t *out, size_t max)
{
    size_t n = 0;
    if (k->ring_n) {
        for (size_t i = 0; i < k->ring_n && n < max; i++) {
            int64_t t = k->ring[(k->ring_pos + i) % k->ring_n];
            if (t && t > now - 60000)
                out[n++] = t;
        }
        return n;
    }
    int64_t s = now / 1000;
    for (int back = 59; back >= 0; back--) {
        int64_t sec = s - back;
        int slot = (int)(((sec % 60) + 60) % 60);
        if (k->req_stamp[slot] != sec)
            continue;
        for (int64_t j = 0; j < k->req_sec[slot] && n < max; j++)
            out[n++] = sec * 1000 > now - 60000 ? sec * 1000 : now - 59999;
    }
    return n;
}

/* The rpm ring holds exactly rpm admission times (capped).  A new size
 * keeps the last minute's admissions (the newest that fit), so changing a
 * key's rpm does not forget what it already spent. */
int kw_size_ring(struct key *k)
{
    size_t want = k->info.lim.rpm > 0 ? (size_t)(k->info.lim.rpm < RPM_RING_MAX ? k->info.lim.rpm : RPM_RING_MAX) : 0;
    if (want == k->ring_n)
        return 0;
    int64_t *r = want ? calloc(want, sizeof(*r)) : NULL;
    if (want && !r)
        return -1;
    size_t m = 0;
    if (want) {
        int64_t now = gg_now_ms();
        size_t cap = k->ring_n > RPM_RING_MAX ? RPM_RING_MAX : (k->ring_n ? k->ring_n : RPM_RING_MAX);
        int64_t *tmp = malloc(cap * sizeof(*tmp));
        if (!tmp) {
            free(r);
            return -1;
        }
        size_t have = kw_recent_admissions(k, now, tmp, cap);
        size_t from = have > want ? have - want : 0;   /* keep the newest `want` */
        for (size_t i = from; i < have; i++)
            r[m++] = tmp[i];
        free(tmp);
    }
    free(k->ring);
    k->ring = r;
    k->ring_n = want;
    k->ring_pos = want ? m % want : 0;
    return 0;
}

int64_t kw_minute_tokens(const struct key *k, int64_t now)
{
    int64_t s = now / 1000, t = 0;
    for (int i = 0; i < 60; i++)
        if (k->tok_stamp[i] > s - 60)
            t += k->tok_sec[i];
    return t;
}

int64_t kw_minute_requests(const struct key *k, int64_t now)
{
    int64_t s = now / 1000, n = 0;
    for (int i = 0; i < 60; i++)
        if (k->req_stamp[i] > s - 60)
            n += k->req_sec[i];
    return n;
}

