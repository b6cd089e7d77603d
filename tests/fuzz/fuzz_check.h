/* fuzz_check.h -- the one assertion the harnesses use.
 *
 * FUZZ_CHECK(cond) aborts with file, line and the failed condition, so
 * libFuzzer records the input as a crash (invariant violations are bugs just
 * like memory errors).
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

#endif
