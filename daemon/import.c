/* import.c -- see import.h */
#include "import.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gg_env.h"

struct list {
    struct import_entry *a;
    size_t n, cap;
    bool oom;
};

static struct import_entry *push(struct list *l, int line)
{
    if (l->n >= IMPORT_MAX_ENTRIES) {
        l->oom = true;
        return NULL;
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        struct import_entry *na = realloc(l->a, nc * sizeof(*na));
        if (!na) {
            l->oom = true;
            return NULL;
        }
        l->a = na;
        l->cap = nc;
    }
    struct import_entry *e = &l->a[l->n++];
    memset(e, 0, sizeof(*e));
    e->line = line;
    e->is_active = -1;
    return e;
}

void import_free(struct import_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].name);
        free(e[i].secure_c_ses);
        free(e[i].host_c_oses);
        free(e[i].csesidx);
        free(e[i].config_id);
        free(e[i].proxy);
        free(e[i].note);
    }
    free(e);
}

static char *dup_trim(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) { s++; n--; }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return strndup(s, n);
}

/* ---- JSON ---------------------------------------------------------------- */

static char *jstr(const cJSON *o, const char *k, struct import_entry *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsNumber(v)) {
        char b[32];
        snprintf(b, sizeof(b), "%.0f", v->valuedouble);
        return strdup(b);
    }
    if (!cJSON_IsString(v)) {
        if (!e->error[0])
            snprintf(e->error, sizeof(e->error), "%s: must be a string", k);
        return NULL;
    }
    return dup_trim(v->valuestring, strlen(v->valuestring));
}

static void fill_entry(struct import_entry *e, const cJSON *o)
{
    e->name = jstr(o, "name", e);
    e->secure_c_ses = jstr(o, "secure_c_ses", e);
    e->host_c_oses = jstr(o, "host_c_oses", e);
    e->csesidx = jstr(o, "csesidx", e);
    e->config_id = jstr(o, "config_id", e);
    e->proxy = jstr(o, "proxy", e);
    e->note = jstr(o, "note", e);
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "is_active");
    if (cJSON_IsBool(act))
        e->is_active = cJSON_IsTrue(act);
}

static int parse_json(const char *text, size_t n, struct list *l)
{
    cJSON *root = cJSON_ParseWithLength(text, n);
    if (!root) {
        struct import_entry *e = push(l, 1);
        if (e)
            snprintf(e->error, sizeof(e->error), "invalid JSON");
        return 0;
    }
    const cJSON *arr = root;
    if (cJSON_IsObject(root)) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "accounts");
        arr = cJSON_IsArray(a) ? a : NULL;
        if (!arr) {
            /* a single account object */
            struct import_entry *e = push(l, 1);
            if (e)
                fill_entry(e, root);
            cJSON_Delete(root);
            return 0;
        }
    }
    if (!cJSON_IsArray(arr)) {
        struct import_entry *e = push(l, 1);
        if (e)
            snprintf(e->error, sizeof(e->error), "expected a JSON array of accounts");
        cJSON_Delete(root);
        return 0;
    }
    int idx = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
        struct import_entry *e = push(l, idx + 1);
        idx++;
        if (!e)
            break;
        if (!cJSON_IsObject(o)) {
            snprintf(e->error, sizeof(e->error), "entry %d is not an object", idx);
            continue;
        }
        fill_entry(e, o);
    }
    cJSON_Delete(root);
    return 0;
}

/* ---- .env blocks --------------------------------------------------------- */

struct envctx {
    struct list *l;
    struct import_entry *cur;
    int last_line;
};

static char **env_field(struct import_entry *e, const char *key)
{
    if (strcasecmp(key, "SECURE_C_SES") == 0) return &e->secure_c_ses;
    if (strcasecmp(key, "HOST_C_OSES") == 0) return &e->host_c_oses;
    if (strcasecmp(key, "CSESIDX") == 0) return &e->csesidx;
    if (strcasecmp(key, "CONFIG_ID") == 0) return &e->config_id;
    if (strcasecmp(key, "NAME") == 0) return &e->name;
    if (strcasecmp(key, "PROXY") == 0) return &e->proxy;
    if (strcasecmp(key, "NOTE") == 0) return &e->note;
    return NULL;
}

static int env_cb(void *ctx, const char *key, const char *value, int line)
{
    struct envctx *c = ctx;
    if (c->cur && line > c->last_line + 1)
        c->cur = NULL; /* a blank line (or comment) ends the block */
    struct import_entry probe;
    memset(&probe, 0, sizeof(probe));
    if (!env_field(&probe, key))
        return 0; /* unknown keys are ignored */
    if (c->cur && *env_field(c->cur, key))
        c->cur = NULL; /* repeated key: next account */
    if (!c->cur) {
        c->cur = push(c->l, line);
        if (!c->cur)
            return -1;
    }
    char **f = env_field(c->cur, key);
    *f = dup_trim(value, strlen(value));
    c->last_line = line;
    return 0;
}

static int parse_env(const char *text, size_t n, struct list *l)
{
    struct envctx c = {l, NULL, 0};
    gg_env_parse(text, n, env_cb, NULL, &c);
    return 0;
}

/* ---- one per line --------------------------------------------------------- */

static int parse_lines(const char *text, size_t n, struct list *l)
{
    size_t pos = 0;
    int line = 0;
    while (pos < n) {
        size_t s = pos;
        while (pos < n && text[pos] != '\n')
            pos++;
        size_t e = pos;
        if (pos < n)
            pos++;
        line++;
        while (s < e && isspace((unsigned char)text[s])) s++;
        while (e > s && isspace((unsigned char)text[e - 1])) e--;
        if (s == e || text[s] == '#')
            continue;
        const char *f[8];
        size_t fl[8];
        int nf = 0;
        size_t fs = s;
        for (size_t i = s; i <= e; i++) {
            if (i == e || text[i] == '|' || text[i] == '\t') {
                if (nf < 8) {
                    f[nf] = text + fs;
                    fl[nf] = i - fs;
                }
                nf++;
                fs = i + 1;
            }
        }
        struct import_entry *en = push(l, line);
        if (!en)
            return -1;
        if (nf == 5) {
            en->name = dup_trim(f[0], fl[0]);
            en->secure_c_ses = dup_trim(f[1], fl[1]);
            en->host_c_oses = dup_trim(f[2], fl[2]);
            en->csesidx = dup_trim(f[3], fl[3]);
            en->config_id = dup_trim(f[4], fl[4]);
        } else if (nf == 4) {
            en->secure_c_ses = dup_trim(f[0], fl[0]);
            en->host_c_oses = dup_trim(f[1], fl[1]);
            en->csesidx = dup_trim(f[2], fl[2]);
            en->config_id = dup_trim(f[3], fl[3]);
        } else {
            snprintf(en->error, sizeof(en->error),
                     "expected 4 or 5 fields separated by '|' (got %d)", nf);
        }
    }
    return 0;
}

static bool looks_env(const char *text, size_t n)
{
    static const char *const keys[] = {"SECURE_C_SES", "CSESIDX", "CONFIG_ID", NULL};
    for (int k = 0; keys[k]; k++) {
        size_t kl = strlen(keys[k]);
        for (size_t i = 0; i + kl < n; i++) {
            if ((i == 0 || text[i - 1] == '\n' || text[i - 1] == ' ') && strncasecmp(text + i, keys[k], kl) == 0) {
                size_t j = i + kl;
                while (j < n && (text[j] == ' ' || text[j] == '\t'))
                    j++;
                if (j < n && text[j] == '=')
                    return true;
            }
        }
    }
    return false;
}

int import_parse(const char *text, size_t n, struct import_entry **out, size_t *count)
{
    struct list l = {0};
    size_t i = 0;
    if (n >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB && (unsigned char)text[2] == 0xBF)
        i = 3; /* UTF-8 BOM */
    while (i < n && isspace((unsigned char)text[i]))
        i++;
    if (i < n && (text[i] == '[' || text[i] == '{'))
        parse_json(text + i, n - i, &l);
    else if (looks_env(text, n))
        parse_env(text, n, &l);
    else
        parse_lines(text, n, &l);
    if (l.oom) {
        import_free(l.a, l.n);
        return -1;
    }
    *out = l.a;
    *count = l.n;
    return 0;
}
