/* gg_time.h -- clocks and timestamp formatting.  All functions are
 * thread-safe and cannot fail (formatting truncates to the buffer). */
#ifndef GG_TIME_H
#define GG_TIME_H

#include <stdint.h>
#include <stddef.h>

int64_t gg_now_ms(void);        /* wall clock, Unix milliseconds */
int64_t gg_mono_ms(void);       /* monotonic milliseconds */
int64_t gg_mono_us(void);       /* monotonic microseconds */
/* Test clock (unit tests only): after gg_time_fake(start) every clock above
 * reads the fake time (wall and monotonic alike), moved only by
 * gg_time_advance(); gg_time_real() switches back. */
void gg_time_fake(int64_t start_ms);
void gg_time_advance(int64_t ms);
void gg_time_real(void);
/* RFC 3339 UTC ("2026-11-26T03:36:26.123Z") of a Unix-ms time into out. */
void gg_rfc3339(int64_t unix_ms, char *out, size_t n);
/* Parse RFC 3339 / "YYYY-MM-DD HH:MM:SS" (UTC assumed when no offset);
 * returns Unix ms or -1. */
int64_t gg_parse_time(const char *s);

#endif
