/* tinytest.h -- a minimal unit-test harness.
 *
 * Usage: write `static void test_x(void) { TT_CHECK(...); }`, then
 *   int main(void) { TT_RUN(test_x); ...; return TT_REPORT(); }
 * Each failed check prints file:line and the expression; TT_REPORT prints
 * "N passed, N failed" (checks) as the last line and returns 0 only when
 * nothing failed.
 */
#ifndef TINYTEST_H
#define TINYTEST_H

#include <stdio.h>
#include <string.h>

static int tt_pass, tt_fail;
static const char *tt_current = "";

#define TT_CHECK(cond) do { \
    if (cond) tt_pass++; \
    else { tt_fail++; fprintf(stderr, "FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__, tt_current, #cond); } \
} while (0)

#define TT_EQ_INT(a, b) do { \
    long long tt_a = (long long)(a), tt_b = (long long)(b); \
    if (tt_a == tt_b) tt_pass++; \
    else { tt_fail++; fprintf(stderr, "FAIL %s:%d [%s]: %s == %s (%lld != %lld)\n", \
                              __FILE__, __LINE__, tt_current, #a, #b, tt_a, tt_b); } \
} while (0)

#define TT_EQ_STR(a, b) do { \
    const char *tt_sa = (a), *tt_sb = (b); \
    if (tt_sa && tt_sb && strcmp(tt_sa, tt_sb) == 0) tt_pass++; \
    else { tt_fail++; fprintf(stderr, "FAIL %s:%d [%s]: %s == %s (\"%s\" != \"%s\")\n", \
                              __FILE__, __LINE__, tt_current, #a, #b, tt_sa ? tt_sa : "(null)", \
                              tt_sb ? tt_sb : "(null)"); } \
} while (0)

#define TT_RUN(fn) do { tt_current = #fn; fn(); } while (0)
#define TT_REPORT() (printf("%d passed, %d failed\n", tt_pass, tt_fail), tt_fail ? 1 : 0)

#endif
