/* fuzz_env.c -- libFuzzer harness for the .env parser (common/gg_env.c).
 *
 * Invariants: keys match [A-Za-z_][A-Za-z0-9_.-]*; line numbers are
 * positive, strictly increasing and never above the number of lines in the
 * input; values are NUL-terminated and no longer than the input; a callback
 * that stops the parse (at an input-derived assignment) gets its return
 * value back.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "gg_env.h"

struct ctx {
    size_t size, lines, calls, stop_at;
    int last_line;
};

static int on_kv(void *p, const char *key, const char *value, int line)
{
    struct ctx *c = p;
    FUZZ_CHECK(key && value);
    FUZZ_CHECK(isalpha((unsigned char)key[0]) || key[0] == '_');
    for (const char *k = key; *k; k++)
        FUZZ_CHECK(isalnum((unsigned char)*k) || *k == '_' || *k == '.' || *k == '-');
    FUZZ_CHECK(strlen(key) + strlen(value) < c->size);
    FUZZ_CHECK(line > c->last_line && (size_t)line <= c->lines);
    c->last_line = line;
    if (++c->calls == c->stop_at)
        return 7;
    return 0;
}

static void on_err(void *p, int line, const char *msg)
{
    struct ctx *c = p;
    FUZZ_CHECK(msg && *msg);
    FUZZ_CHECK(line >= 1 && (size_t)line <= c->lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctx c = {.size = size, .lines = 1, .stop_at = size ? data[0] % 16 : 0};
    for (size_t i = 0; i < size; i++)
        c.lines += data[i] == '\n';
    int rc = gg_env_parse((const char *)data, size, on_kv, on_err, &c);
    FUZZ_CHECK(rc == 0 || rc == 7);
    FUZZ_CHECK((rc == 7) == (c.stop_at != 0 && c.calls == c.stop_at));
    struct ctx c2 = {.size = size, .lines = c.lines};
    FUZZ_CHECK(gg_env_parse((const char *)data, size, on_kv, NULL, &c2) == 0);
    FUZZ_CHECK(c2.calls >= c.calls);
    return 0;
}
