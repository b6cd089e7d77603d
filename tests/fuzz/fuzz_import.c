/* fuzz_import.c -- libFuzzer harness for the bulk import parser
 * (daemon/import.c, all three formats).
 *
 * Invariants: never fails on bad input below the entry cap; entry lines are
 * positive and never decrease for the line formats; every string is a
 * NUL-terminated heap string (strlen + free under ASan); error texts are
 * NUL-terminated within their buffer.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "import.h"

static void touch(const char *s)
{
    if (s)
        (void)strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_entry *e = NULL;
    size_t n = 0;
    int rc = import_parse((const char *)data, size, &e, &n);
    /* a 1 MiB input cannot hold 100,000 accounts and memory is plentiful */
    FUZZ_CHECK(rc == 0 || size > 400000);
    if (rc != 0)
        return 0;
    FUZZ_CHECK(n <= IMPORT_MAX_ENTRIES);
    FUZZ_CHECK(n == 0 || e);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(e[i].line >= 1);
        FUZZ_CHECK(memchr(e[i].error, 0, sizeof(e[i].error)));
        FUZZ_CHECK(e[i].is_active >= -1 && e[i].is_active <= 1);
        touch(e[i].name);
        touch(e[i].secure_c_ses);
        touch(e[i].host_c_oses);
        touch(e[i].csesidx);
        touch(e[i].config_id);
        touch(e[i].proxy);
        touch(e[i].note);
    }
    import_free(e, n);
    return 0;
}
