/* tooljson.c -- JSON inside a model reply: where a value ends (tj_span), a
 * tolerant parse with the documented, unambiguous repairs (tj_parse), and
 * the call shapes models write turned into validated calls (tj_calls).
 * No recursion here except cJSON's own, which only ever sees text whose
 * nesting tj_span or the repair pass bounded to TOOLS_MAX_DEPTH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gg_util.h"
#include "toolsint.h"

/* ---- span --------------------------------------------------------------- */

static const char CLOSE_TAG[] = "</tool_call";

enum tj_span tj_span(const char *p, size_t n, bool eof, bool stop_at_tag, size_t *end)
{
    char stack[TOOLS_MAX_DEPTH];
    int sp = 0;
    char q = 0;             /* inside a string: its quote */
    size_t lim = n < TOOLS_MAX_CALL_BYTES ? n : TOOLS_MAX_CALL_BYTES;
    for (size_t i = 0; i < lim; i++) {
        char c = p[i];
        if (q) {
            if (c == '\\')
                i++;
            else if (c == q)
                q = 0;
            else if (c == '\n' && q == '\'') {
                *end = i;   /* an apostrophe in prose, not a string */
                return TJ_BAD;
            }
            continue;
        }
        switch (c) {
        case '"':
        case '\'':
            q = c;
            break;
        case '{':
        case '[':
            if (sp == TOOLS_MAX_DEPTH) {
                *end = i;
                return TJ_BAD;
            }
            stack[sp++] = c == '{' ? '}' : ']';
            break;
        case '}':
        case ']':
            if (sp == 0 || stack[sp - 1] != c) {
                *end = i ? i : 1;
                return TJ_BAD;
            }
            if (--sp == 0) {
                *end = i + 1;
                return TJ_OK;
            }
            break;
        case '<':
            if (!stop_at_tag)
                break;
            if (n - i >= sizeof CLOSE_TAG - 1) {
                if (memcmp(p + i, CLOSE_TAG, sizeof CLOSE_TAG - 1) == 0) {
                    *end = i;
                    return TJ_OPEN;
                }
            } else if (!eof && memcmp(p + i, CLOSE_TAG, n - i) == 0) {
                return TJ_MORE;
            }
            break;
        default:
            break;
        }
    }
    if (n >= TOOLS_MAX_CALL_BYTES || eof) {
        *end = lim;
        return TJ_BAD;
    }
    return TJ_MORE;
}

/* ---- tolerant parse ------------------------------------------------------- */

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

/* Copy the string starting at p[i] (a quote) as a JSON string; returns the
 * index after it, or 0 when it cannot be repaired. */
static size_t copy_string(const char *p, size_t n, size_t i, struct gg_buf *b, unsigned *r)
{
    char q = p[i++];
    int rc = gg_buf_addc(b, '"');
    if (q == '\'')
        *r |= TOOLS_REP_SINGLE_QUOTES;
    while (i < n && rc == 0) {
        unsigned char c = (unsigned char)p[i];
        if (c == (unsigned char)q)
            return gg_buf_addc(b, '"') == 0 ? i + 1 : 0;
        if (c == '\\') {
            if (i + 1 >= n)
                return 0;
            char e = p[i + 1];
            if (strchr("\"\\/bfnrt", e) && e) {
                rc = gg_buf_add(b, p + i, 2);
                i += 2;
            } else if (e == 'u' && i + 5 < n && is_hex(p[i + 2]) && is_hex(p[i + 3]) && is_hex(p[i + 4]) &&
                       is_hex(p[i + 5])) {
                rc = gg_buf_add(b, p + i, 6);
                i += 6;
            } else if (e == '\'') {
                if (q == '"')
                    *r |= TOOLS_REP_BAD_ESCAPE;
                rc = gg_buf_addc(b, '\'');
                i += 2;
            } else {        /* \d, \x, a lone \u: keep the backslash itself */
                *r |= TOOLS_REP_BAD_ESCAPE;
                rc = gg_buf_add(b, "\\\\", 2);
                i++;
            }
        } else if (c == '"') {  /* inside a single-quoted string */
            rc = gg_buf_add(b, "\\\"", 2);
            i++;
        } else if (c < 0x20) {
            if (q == '\'' && c == '\n')
                return 0;
            *r |= TOOLS_REP_RAW_CONTROL;
            if (c == '\n')
                rc = gg_buf_add(b, "\\n", 2);
            else if (c == '\t')
                rc = gg_buf_add(b, "\\t", 2);
            else if (c == '\r')
                rc = gg_buf_add(b, "\\r", 2);
            else
                rc = gg_buf_printf(b, "\\u%04x", c);
            i++;
        } else {
            size_t j = i + 1;   /* copy a run of plain bytes at once */
            while (j < n && p[j] != q && p[j] != '\\' && p[j] != '"' && (unsigned char)p[j] >= 0x20)
                j++;
            rc = gg_buf_add(b, p + i, j - i);
            i = j;
        }
    }
    return 0;
}

static cJSON *parse_exact(const char *p, size_t n)
{
    const char *endp = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(p, n, &endp, 0);
    if (!v)
        return NULL;
    size_t used = (size_t)(endp - p);
    if (skip_ws(p, n, used) != n) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

static cJSON *repair_parse(const char *p, size_t n, bool close_open, unsigned *rep)
{
    struct gg_buf b;
    char stack[TOOLS_MAX_DEPTH];
    int sp = 0;
    unsigned r = 0;
    cJSON *v = NULL;
    size_t i = 0;
    gg_buf_init(&b, 6 * n + TOOLS_MAX_DEPTH + 64);
    while (i < n) {
        char c = p[i];
        int rc = 0;
        if (c == '"' || c == '\'') {
            i = copy_string(p, n, i, &b, &r);
            if (i == 0)
                goto out;
            continue;
        }
        if (c == '{' || c == '[') {
            if (sp == TOOLS_MAX_DEPTH)
                goto out;
            stack[sp++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (sp == 0 || stack[sp - 1] != c)
                goto out;
            sp--;
        } else if (c == ',') {
            size_t j = skip_ws(p, n, i + 1);
            if (j < n && (p[j] == '}' || p[j] == ']')) {
                r |= TOOLS_REP_TRAILING_COMMA;
                i++;
                continue;
            }
        } else if (ident_start(c)) {
            size_t j = i + 1;
            while (j < n && (ident_start(p[j]) || (p[j] >= '0' && p[j] <= '9') || p[j] == '-'))
                j++;
            size_t k = skip_ws(p, n, j), w = j - i;
            if (k < n && p[k] == ':' && sp > 0 && stack[sp - 1] == '}') {
                r |= TOOLS_REP_UNQUOTED_KEYS;
                rc = gg_buf_addc(&b, '"') || gg_buf_add(&b, p + i, w) || gg_buf_addc(&b, '"');
            } else if ((w == 4 && memcmp(p + i, "True", 4) == 0) || (w == 4 && memcmp(p + i, "None", 4) == 0) ||
                       (w == 5 && memcmp(p + i, "False", 5) == 0)) {
                r |= TOOLS_REP_PY_LITERALS;
                rc = gg_buf_adds(&b, p[i] == 'T' ? "true" : p[i] == 'F' ? "false" : "null");
            } else {
                rc = gg_buf_add(&b, p + i, w);
            }
            if (rc)
                goto out;
            i = j;
            continue;
        }
        if (gg_buf_addc(&b, c))
            goto out;
        i++;
    }
    if (sp > 0) {
        if (!close_open)
            goto out;
        r |= TOOLS_REP_CLOSE_BRACKETS;
        while (sp > 0)
            if (gg_buf_addc(&b, stack[--sp]))
                goto out;
    }
    if (b.p && (v = parse_exact(b.p, b.len)) != NULL)
        *rep |= r;
out:
    gg_buf_free(&b);
    return v;
}

/* cJSON accepts raw control characters inside strings; count them as the
 * repair they are. */
static bool raw_control_in_string(const char *p, size_t n)
{
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        if (!in) {
            in = p[i] == '"';
        } else if (p[i] == '\\') {
            i++;
        } else if (p[i] == '"') {
            in = false;
        } else if ((unsigned char)p[i] < 0x20) {
            return true;
        }
    }
    return false;
}

cJSON *tj_parse(const char *p, size_t n, bool close_open, unsigned *rep)
{
    cJSON *v = parse_exact(p, n);
    if (!v)
        return repair_parse(p, n, close_open, rep);
    if (raw_control_in_string(p, n))
        *rep |= TOOLS_REP_RAW_CONTROL;
    return v;
}

/* ---- call shapes ---------------------------------------------------------- */

static const char *const NAME_KEYS[] = {"name", "tool", "tool_name", "function", NULL};
static const char *const ARGS_KEYS[] = {"arguments", "parameters", "args", "input", NULL};
static const char *const OTHER_KEYS[] = {"type", "id", "call_id", NULL};

static int key_index(const char *k, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(k, set[i]) == 0)
            return i;
    return -1;
}

struct shape {
    const char *name;
    const cJSON *args;      /* NULL = none given */
    bool repaired;
};

/* Is o a call object?  Fills sh; false when any other key is present. */
static bool call_shape(const cJSON *o, const char *name_attr, struct shape *sh)
{
    const cJSON *m;
    memset(sh, 0, sizeof *sh);
    if (!cJSON_IsObject(o))
        return false;
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(o, "function");
    if (cJSON_IsObject(fn)) {   /* {"type": "function", "function": {...}} */
        cJSON_ArrayForEach(m, o) {
            if (strcmp(m->string, "function") != 0 && key_index(m->string, OTHER_KEYS) < 0)
                return false;
        }
        if (!call_shape(fn, NULL, sh))
            return false;
        sh->repaired = true;
        return true;
    }
    cJSON_ArrayForEach(m, o) {
        int ni = key_index(m->string, NAME_KEYS), ai = key_index(m->string, ARGS_KEYS);
        if (ni >= 0 && cJSON_IsString(m) && !sh->name) {
            sh->name = m->valuestring;
            sh->repaired |= ni != 0;
        } else if (ai >= 0 && !sh->args) {
            sh->args = m;
            sh->repaired |= ai != 0;
        } else if (key_index(m->string, OTHER_KEYS) < 0) {
            if (!name_attr || sh->name)
                return false;
            sh->name = name_attr;   /* <tool_call name="x">{ the arguments }</tool_call> */
            sh->args = o;
            sh->repaired = true;
            return true;
        }
    }
    if (!sh->name && name_attr) {
        sh->name = name_attr;
        sh->args = o;
        sh->repaired = true;
    }
    return sh->name != NULL;
}

/* Validate and normalise one call's arguments into *json (malloc'd). */
static enum tj_outcome one_call(const struct tools_spec *s, int ti, const struct shape *sh, unsigned *rep,
                                char **json, char *err, size_t errlen)
{
    cJSON *parsed = NULL, *norm = NULL;
    const cJSON *args = sh->args;
    enum tj_outcome o = TJ_INVALID;
    const char *tn = s->tools[ti].name;
    if (cJSON_IsString(args)) {     /* OpenAI habit: arguments as a JSON string */
        size_t l = strlen(args->valuestring), e = 0, k = skip_ws(args->valuestring, l, 0);
        if (k < l && args->valuestring[k] == '{' &&
            tj_span(args->valuestring + k, l - k, true, false, &e) == TJ_OK)
            parsed = tj_parse(args->valuestring, l, false, rep);
        if (!parsed) {
            snprintf(err, errlen, "%s: arguments must be a JSON object", tn);
            return TJ_INVALID;
        }
        *rep |= TOOLS_REP_ARGS_STRING;
        args = parsed;
    }
    if (args && !cJSON_IsObject(args) && !cJSON_IsNull(args)) {
        snprintf(err, errlen, "%s: arguments must be a JSON object", tn);
        goto out;
    }
    char *txt = args && cJSON_IsObject(args) ? cJSON_PrintUnformatted(args) : strdup("{}");
    if (!txt) {
        snprintf(err, errlen, "%s: out of memory", tn);
        goto out;
    }
    gg_utf8_sanitize(txt);
    /* validate exactly what will be emitted (cJSON prints inf as null) */
    norm = cJSON_Parse(txt);
    if (!norm || tools_validate(s->schemas ? s->schemas[ti] : NULL, norm, err, errlen) < 0) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", norm ? err : "arguments do not survive normalisation");
        snprintf(err, errlen, "%s: %s", tn, msg);
        free(txt);
        goto out;
    }
    *json = txt;
    o = TJ_CALLS;
out:
    cJSON_Delete(parsed);
    cJSON_Delete(norm);
    return o;
}

static int add_call(struct tools_result *res, const char *name, char *args)
{
    if (res->n_calls >= TOOLS_MAX_CALLS) {
        free(args);
        return 0;       /* more are ignored: bounded */
    }
    struct exch_tool_call *n = realloc(res->calls, (res->n_calls + 1) * sizeof *n);
    if (!n) {
        free(args);
        return -1;
    }
    res->calls = n;
    struct exch_tool_call *c = &n[res->n_calls];
    char hex[25];
    gg_random_hex(hex, 12);
    c->id = malloc(5 + sizeof hex);
    c->name = strdup(name);
    c->args_json = args;
    if (!c->id || !c->name) {
        free(c->id);
        free(c->name);
        free(args);
        return -1;
    }
    memcpy(c->id, "call_", 5);
    memcpy(c->id + 5, hex, sizeof hex);
    res->n_calls++;
    return 0;
}

enum tj_outcome tj_calls(const struct tools_spec *s, const cJSON *root, const char *name_attr,
                         struct tools_result *res, unsigned *rep, char *err, size_t errlen)
{
    const cJSON *one[1] = {root}, *e;
    const cJSON *items[TOOLS_MAX_CALLS];
    size_t n = 0;
    if (cJSON_IsArray(root)) {
        cJSON_ArrayForEach(e, root) {
            if (n == TOOLS_MAX_CALLS)
                return TJ_NOT_CALL;
            items[n++] = e;
        }
        if (n == 0)
            return TJ_NOT_CALL;
        name_attr = NULL;
    } else {
        items[0] = one[0];
        n = 1;
    }
    struct shape sh[TOOLS_MAX_CALLS];
    int ti[TOOLS_MAX_CALLS];
    unsigned r = 0;
    for (size_t i = 0; i < n; i++) {
        bool folded = false;
        if (!call_shape(items[i], name_attr, &sh[i]))
            return TJ_NOT_CALL;
        ti[i] = tools_find(s, sh[i].name, &folded);
        if (ti[i] < 0) {
            snprintf(err, errlen, "unknown tool \"%.80s\"", sh[i].name);
            return TJ_NOT_CALL;
        }
        if (folded)
            r |= TOOLS_REP_NAME_CASE;
        if (sh[i].repaired)
            r |= TOOLS_REP_SHAPE;
    }
    char *json[TOOLS_MAX_CALLS];
    for (size_t i = 0; i < n; i++) {
        if (one_call(s, ti[i], &sh[i], &r, &json[i], err, errlen) != TJ_CALLS) {
            while (i > 0)
                free(json[--i]);
            return TJ_INVALID;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (add_call(res, s->tools[ti[i]].name, json[i]) < 0) {
            while (++i < n)
                free(json[i]);
            snprintf(err, errlen, "out of memory");
            return TJ_INVALID;
        }
    }
    *rep |= r;
    return TJ_CALLS;
}
