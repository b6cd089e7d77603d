/* toolschema.c -- the JSON Schema subset tool arguments are checked against
 * (see tools.h and docs/TOOLS.md "Validation"): type (one or an array),
 * required, properties, additionalProperties (false or a schema), enum,
 * const, items, minimum/maximum, exclusiveMinimum/exclusiveMaximum (numbers),
 * minLength/maxLength (code points), minItems/maxItems.  Every other keyword
 * is ignored.  Recursion follows the value and stops at TOOLS_MAX_DEPTH. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tools.h"

struct vctx {
    char *err;
    size_t errlen;
    char path[256];
};

static const char *kind_of(const cJSON *v)
{
    if (cJSON_IsObject(v)) return "object";
    if (cJSON_IsArray(v)) return "array";
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsNumber(v)) return "number";
    return "invalid";
}

static bool is_integer(const cJSON *v)
{
    double d = v->valuedouble;
    return d > -9007199254740992.0 && d < 9007199254740992.0 && (double)(long long)d == d;
}

static bool type_matches(const char *t, const cJSON *v)
{
    if (strcmp(t, "integer") == 0)
        return cJSON_IsNumber(v) && is_integer(v);
    if (strcmp(t, "number") == 0)
        return cJSON_IsNumber(v);
    if (strcmp(t, "object") == 0 || strcmp(t, "array") == 0 || strcmp(t, "string") == 0 ||
        strcmp(t, "boolean") == 0 || strcmp(t, "null") == 0)
        return strcmp(t, kind_of(v)) == 0;
    return true;    /* unknown type names constrain nothing */
}

static int fail(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct vctx *c, const char *fmt, ...)
{
    char msg[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s", c->path[0] ? c->path : "$", msg);
    return -1;
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int check_type(struct vctx *c, const cJSON *type, const cJSON *v)
{
    char want[160] = "";
    if (cJSON_IsString(type)) {
        if (type_matches(type->valuestring, v))
            return 0;
        snprintf(want, sizeof want, "%s", type->valuestring);
    } else if (cJSON_IsArray(type)) {
        const cJSON *t;
        bool any = false;
        cJSON_ArrayForEach(t, type) {
            if (!cJSON_IsString(t))
                continue;
            any = true;
            if (type_matches(t->valuestring, v))
                return 0;
            size_t l = strlen(want);
            snprintf(want + l, sizeof want - l, "%s%s", l ? " or " : "", t->valuestring);
        }
        if (!any)
            return 0;
    } else {
        return 0;
    }
    char msg[220];
    snprintf(msg, sizeof msg, "expected %s, got %s", want, kind_of(v));
    return fail(c, "%s", msg);
}

static int num_kw(const cJSON *schema, const char *kw, double *out)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(schema, kw);
    if (!cJSON_IsNumber(k))
        return 0;
    *out = k->valuedouble;
    return 1;
}

static int validate(struct vctx *c, const cJSON *schema, const cJSON *v, int depth);

/* Extend the path with .key / ["key"] / [i]; returns the old length. */
static size_t path_push(struct vctx *c, const char *key, int index)
{
    size_t l = strlen(c->path);
    if (l == 0) {
        c->path[0] = '$';
        c->path[1] = 0;
    }
    size_t base = strlen(c->path);
    if (key) {
        bool plain = *key != 0;
        for (const char *k = key; *k; k++)
            if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
                  *k == '_'))
                plain = false;
        if (plain)
            snprintf(c->path + base, sizeof c->path - base, ".%.60s", key);
        else
            snprintf(c->path + base, sizeof c->path - base, "[\"%.60s\"]", key);
    } else {
        snprintf(c->path + base, sizeof c->path - base, "[%d]", index);
    }
    return l;
}

static int validate_object(struct vctx *c, const cJSON *schema, const cJSON *v, int depth)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
    const cJSON *addl = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
    const cJSON *r, *m;
    if (cJSON_IsArray(req))
        cJSON_ArrayForEach(r, req) {
            if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(v, r->valuestring))
                return fail(c, "missing required property \"%.80s\"", r->valuestring);
        }
    cJSON_ArrayForEach(m, v) {
        const cJSON *ps = cJSON_IsObject(props) ? cJSON_GetObjectItemCaseSensitive(props, m->string) : NULL;
        if (!ps && cJSON_IsFalse(addl))
            return fail(c, "unexpected property \"%.80s\"", m->string);
        if (!ps && cJSON_IsObject(addl))
            ps = addl;
        if (!ps)
            continue;
        size_t old = path_push(c, m->string, 0);
        if (validate(c, ps, m, depth + 1) < 0)
            return -1;
        c->path[old] = 0;
    }
    return 0;
}

static int validate(struct vctx *c, const cJSON *schema, const cJSON *v, int depth)
{
    if (!cJSON_IsObject(schema))
        return 0;   /* true / {} / junk: no constraint */
    if (depth > TOOLS_MAX_DEPTH)
        return fail(c, "%s", "nested too deeply");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(schema, "type");
    if (type && check_type(c, type, v) < 0)
        return -1;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum");
    if (cJSON_IsArray(en)) {
        const cJSON *e;
        bool ok = false;
        char opts[160] = "";
        cJSON_ArrayForEach(e, en) {
            if (cJSON_Compare(e, v, 1)) {
                ok = true;
                break;
            }
            char *s = cJSON_PrintUnformatted(e);
            size_t l = strlen(opts);
            if (s && l < sizeof opts - 1)
                snprintf(opts + l, sizeof opts - l, "%s%s", l ? ", " : "", s);
            cJSON_free(s);
        }
        if (!ok)
            return fail(c, "must be one of %s", opts);
    }
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(schema, "const");
    if (cn && !cJSON_Compare(cn, v, 1))
        return fail(c, "%s", "does not match the required constant");
    double x;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (num_kw(schema, "minimum", &x) && d < x)
            return fail(c, "must be >= %g", x);
        if (num_kw(schema, "maximum", &x) && d > x)
            return fail(c, "must be <= %g", x);
        if (num_kw(schema, "exclusiveMinimum", &x) && d <= x)
            return fail(c, "must be > %g", x);
        if (num_kw(schema, "exclusiveMaximum", &x) && d >= x)
            return fail(c, "must be < %g", x);
    }
    if (cJSON_IsString(v)) {
        double l = (double)utf8_len(v->valuestring);
        if (num_kw(schema, "minLength", &x) && l < x)
            return fail(c, "must be at least %g characters long", x);
        if (num_kw(schema, "maxLength", &x) && l > x)
            return fail(c, "must be at most %g characters long", x);
    }
    if (cJSON_IsObject(v))
        return validate_object(c, schema, v, depth);
    if (cJSON_IsArray(v)) {
        double n = (double)cJSON_GetArraySize(v);
        if (num_kw(schema, "minItems", &x) && n < x)
            return fail(c, "must have at least %g items", x);
        if (num_kw(schema, "maxItems", &x) && n > x)
            return fail(c, "must have at most %g items", x);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
        if (cJSON_IsObject(items)) {
            const cJSON *e;
            int i = 0;
            cJSON_ArrayForEach(e, v) {
                size_t old = path_push(c, NULL, i++);
                if (validate(c, items, e, depth + 1) < 0)
                    return -1;
                c->path[old] = 0;
            }
        }
    }
    return 0;
}

int tools_validate(const cJSON *schema, const cJSON *value, char *err, size_t errlen)
{
    struct vctx c = {.err = err, .errlen = errlen};
    if (errlen)
        err[0] = 0;
    if (!value) {
        snprintf(err, errlen, "$: no value");
        return -1;
    }
    return validate(&c, schema, value, 0);
}
