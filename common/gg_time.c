/* gg_time.c -- see gg_time.h */
#include "gg_time.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Test clock: when `fake_on` is set, both clocks read `fake_ms` (+ the
 * microseconds of fake_us for gg_mono_us).  Atomics only: readers on any
 * thread see a whole value. */
static atomic_bool fake_on;
static _Atomic int64_t fake_us;

void gg_time_fake(int64_t start_ms)
{
    atomic_store(&fake_us, start_ms * 1000);
    atomic_store(&fake_on, true);
}

void gg_time_advance(int64_t ms)
{
    atomic_fetch_add(&fake_us, ms * 1000);
}

void gg_time_real(void)
{
    atomic_store(&fake_on, false);
}

int64_t gg_now_ms(void)
{
    if (atomic_load_explicit(&fake_on, memory_order_relaxed))
        return atomic_load(&fake_us) / 1000;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gg_mono_ms(void)
{
    if (atomic_load_explicit(&fake_on, memory_order_relaxed))
        return atomic_load(&fake_us) / 1000;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gg_mono_us(void)
{
    if (atomic_load_explicit(&fake_on, memory_order_relaxed))
        return atomic_load(&fake_us);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void gg_rfc3339(int64_t unix_ms, char *out, size_t n)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
}

/* Exactly `width` decimal digits at *p (advanced past them), or -1. */
static int digits(const char **p, int width)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    *p += width;
    return v;
}

static bool expect(const char **p, char ch)
{
    if (**p != ch)
        return false;
    (*p)++;
    return true;
}

int64_t gg_parse_time(const char *s)
{
    if (!s)
        return -1;
    const char *p = s;
    int y = digits(&p, 4);
    if (y < 0 || !expect(&p, '-'))
        return -1;
    int mo = digits(&p, 2);
    if (mo < 0 || !expect(&p, '-'))
        return -1;
    int d = digits(&p, 2), h = 0, mi = 0, sec = 0, ms = 0;
    if (d < 0)
        return -1;
    if (*p == 'T' || *p == ' ') {
        p++;
        if ((h = digits(&p, 2)) < 0 || !expect(&p, ':') || (mi = digits(&p, 2)) < 0 || !expect(&p, ':') ||
            (sec = digits(&p, 2)) < 0)
            return -1;
        if (*p == '.') {
            p++;
            int nd = 0;
            while (*p >= '0' && *p <= '9') {
                if (nd < 3) {
                    ms = ms * 10 + (*p - '0');
                    nd++;
                }
                p++;
            }
            while (nd++ < 3)
                ms *= 10;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    int64_t off = 0;
    if (*p == '+' || *p == '-') {
        int sign = *p == '+' ? 1 : -1;
        p++;
        int oh = digits(&p, 2), om = 0;
        if (oh < 0)
            return -1;
        if (*p == ':')
            p++;
        if (*p >= '0' && *p <= '9' && (om = digits(&p, 2)) < 0)
            return -1;
        off = (int64_t)(oh * 3600 + om * 60) * sign;
    }
    return ((int64_t)t - off) * 1000 + ms;
}
