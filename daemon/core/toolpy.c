/* toolpy.c -- the Python-style call Gemini habitually writes in a
 * ```tool_code fence instead of the documented block:
 *     print(default_api.get_weather(city="Paris", unit='c'))
 * Keyword arguments only; values are JSON/Python literals (strings in either
 * quote, triple-quoted strings, numbers, True/False/None, lists, dicts).
 * The arguments are rewritten as a JSON object and go through the same
 * tolerant parse, shape and schema checks as every other call. */
#include <stdio.h>
#include <string.h>

#include "toolsint.h"

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static size_t id_len(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && id_char(p[i]))
        i++;
    return i;
}

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* Optional literal prefix: 1 = present (skipped), 0 = absent, -1 = cannot tell yet. */
static int opt_prefix(const char *p, size_t n, bool eof, size_t *i, const char *lit)
{
    size_t l = strlen(lit), have = n - *i;
    if (have >= l) {
        if (memcmp(p + *i, lit, l) != 0)
            return 0;
        *i += l;
        return 1;
    }
    return !eof && memcmp(p + *i, lit, have) == 0 ? -1 : 0;
}

/* A triple-quoted string at p[i] (quote q): append it as a JSON string;
 * returns the index after it, 0 = not closed yet. */
static size_t triple(const char *p, size_t n, size_t i, char q, struct gg_buf *b)
{
    char close[3] = {q, q, q};
    size_t j = i + 3;
    bool esc = false;
    int rc = gg_buf_addc(b, '"');
    for (; j + 2 < n && rc == 0; j++) {
        if (!esc && memcmp(p + j, close, 3) == 0)
            return gg_buf_addc(b, '"') == 0 ? j + 3 : 0;
        char c = p[j];
        if (esc) {
            rc = c == '\'' ? gg_buf_addc(b, '\'') : (gg_buf_addc(b, '\\') || gg_buf_addc(b, c));
            esc = false;
        } else if (c == '\\') {
            esc = true;
        } else {
            rc = c == '"' ? gg_buf_add(b, "\\\"", 2) : gg_buf_addc(b, c);
        }
    }
    return 0;
}

enum py_res tj_pycall(const struct tools_spec *s, const char *p, size_t n, bool eof, struct tools_result *res,
                      unsigned *rep, size_t *end, char *err, size_t errlen)
{
#define NEED() do { r = eof ? PY_NOT : PY_MORE; goto out; } while (0)
    struct gg_buf b;
    enum py_res r = PY_NOT;
    size_t i = 0;
    char name[128];
    int pr, dp, nargs = 0;
    gg_buf_init(&b, 2 * (size_t)TOOLS_MAX_CALL_BYTES);
    if ((pr = opt_prefix(p, n, eof, &i, "print(")) < 0 || (dp = opt_prefix(p, n, eof, &i, "default_api.")) < 0)
        NEED();
    size_t nl = id_len(p + i, n - i);
    if (i + nl == n)
        NEED();
    if (nl == 0 || nl >= sizeof name || p[i + nl] != '(')
        goto out;
    memcpy(name, p + i, nl);
    name[nl] = 0;
    i += nl + 1;
    if (gg_buf_addc(&b, '{'))
        goto out;
    for (;;) {
        i = skip_ws(p, n, i);
        if (i == n)
            NEED();
        if (p[i] == ')') {
            i++;
            break;
        }
        if (nargs) {
            if (p[i] != ',')
                goto out;
            i = skip_ws(p, n, i + 1);
            if (i == n)
                NEED();
            if (p[i] == ')') {
                i++;
                break;
            }
        }
        size_t kl = id_len(p + i, n - i), k0 = i;
        i = skip_ws(p, n, i + kl);
        if (i == n)
            NEED();
        if (kl == 0 || p[i] != '=') {
            /* positional arguments: a call attempt we cannot map */
            bool folded;
            const char *nlp = memchr(p + i, '\n', n - i);
            if (tools_find(s, name, &folded) < 0)
                goto out;
            if (!nlp && !eof)
                NEED();
            snprintf(err, errlen, "%s: tool_code calls must use keyword arguments (name=value)", name);
            *end = nlp ? (size_t)(nlp - p) : n;
            r = PY_INVALID;
            goto out;
        }
        i = skip_ws(p, n, i + 1);
        if ((nargs && gg_buf_addc(&b, ',')) || gg_buf_add_json_str(&b, p + k0, kl) || gg_buf_addc(&b, ':'))
            goto out;
        size_t start = i;
        int depth = 0;
        while (i < n) {
            char c = p[i];
            if (c == '"' || c == '\'') {
                if (n - i < 3 && !eof)
                    NEED();
                if (n - i >= 3 && p[i + 1] == c && p[i + 2] == c) {
                    if (gg_buf_add(&b, p + start, i - start))
                        goto out;
                    size_t e = triple(p, n, i, c, &b);
                    if (e == 0)
                        NEED();
                    i = start = e;
                    continue;
                }
                size_t j = i + 1;
                while (j < n && p[j] != c && p[j] != '\n')
                    j += p[j] == '\\' ? 2 : 1;
                if (j >= n)
                    NEED();
                if (p[j] == '\n')
                    goto out;
                i = j + 1;
                continue;
            }
            if (c == '[' || c == '{') {
                if (++depth > TOOLS_MAX_DEPTH)
                    goto out;
            } else if (c == ']' || c == '}') {
                if (--depth < 0)
                    goto out;
            } else if (c == '(') {
                goto out;       /* tuples, nested calls */
            } else if ((c == ',' || c == ')') && depth == 0) {
                break;
            }
            i++;
        }
        if (i == n)
            NEED();
        if (gg_buf_add(&b, p + start, i - start))
            goto out;
        nargs++;
    }
    if (pr) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n)
            NEED();
        if (p[i] != ')')
            goto out;
        i++;
    }
    (void)dp;
    if (gg_buf_addc(&b, '}'))
        goto out;
    bool folded;
    int ti = tools_find(s, name, &folded);
    if (ti < 0) {
        snprintf(err, errlen, "unknown tool \"%.80s\"", name);
        goto out;
    }
    cJSON *args = tj_parse(b.p, b.len, false, rep);
    if (!args) {
        snprintf(err, errlen, "%s: the tool_code arguments could not be parsed", s->tools[ti].name);
        *end = i;
        r = PY_INVALID;
        goto out;
    }
    cJSON *call = cJSON_CreateObject();
    if (!call || !cJSON_AddStringToObject(call, "name", name)) {
        cJSON_Delete(call);
        cJSON_Delete(args);
        goto out;
    }
    cJSON_AddItemToObject(call, "arguments", args);
    enum tj_outcome o = tj_calls(s, call, NULL, res, rep, err, errlen);
    cJSON_Delete(call);
    *end = i;
    r = o == TJ_CALLS ? PY_CALLS : o == TJ_INVALID ? PY_INVALID : PY_NOT;
out:
    gg_buf_free(&b);
    return r;
#undef NEED
}
