/* gg_config.c -- see gg_config.h */
#include "gg_config.h"
#include "gg_env.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct kv { char *k, *v; };
struct kvlist { struct kv *a; size_t n, cap; };

static int kv_add(void *ctx, const char *key, const char *value, int line)
{
    (void)line;
    struct kvlist *l = ctx;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->a[i].k, key) == 0) {
            char *nv = strdup(value);
            if (!nv) return -1;
            free(l->a[i].v);
            l->a[i].v = nv;
            return 0;
        }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        struct kv *na = realloc(l->a, nc * sizeof(*na));
        if (!na) return -1;
        l->a = na;
        l->cap = nc;
    }
    l->a[l->n].k = strdup(key);
    l->a[l->n].v = strdup(value);
    if (!l->a[l->n].k || !l->a[l->n].v) {
        free(l->a[l->n].k);
        free(l->a[l->n].v);
        return -1;
    }
    l->n++;
    return 0;
}

static void kv_free(struct kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->a[i].k);
        free(l->a[i].v);
    }
    free(l->a);
}

static void read_dotenv(const char *path, struct kvlist *l)
{
    if (!path)
        return;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char *text = NULL;
    size_t n = 0, cap = 0;
    char chunk[8192];
    size_t r;
    while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (n + r > cap) {
            size_t nc = (n + r) * 2;
            char *nt = realloc(text, nc);
            if (!nt) break;
            text = nt;
            cap = nc;
        }
        memcpy(text + n, chunk, r);
        n += r;
    }
    fclose(f);
    if (text)
        gg_env_parse(text, n, kv_add, NULL, l);
    free(text);
}

static const char *find(struct kvlist *l, const char *name)
{
    const char *e = getenv(name);
    if (e)
        return e;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->a[i].k, name) == 0)
            return l->a[i].v;
    return NULL;
}

char *gg_cfg_lookup(const char *name, const char *dotenv_path)
{
    struct kvlist l = {0};
    read_dotenv(dotenv_path, &l);
    const char *v = find(&l, name);
    char *r = v ? strdup(v) : NULL;
    kv_free(&l);
    return r;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on", NULL};
    static const char *const no[] = {"0", "false", "no", "off", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0) { *out = true; return 0; }
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0) { *out = false; return 0; }
    return -1;
}

int gg_cfg_load(const struct gg_cfg_entry *t, size_t n, const char *dotenv_path,
                char *err, size_t errlen)
{
    struct kvlist l = {0};
    int rc = -1;
    read_dotenv(dotenv_path, &l);
    for (size_t i = 0; i < n; i++) {
        const struct gg_cfg_entry *e = &t[i];
        const char *v = find(&l, e->name);
        if (!v || (!*v && e->type != GG_CFG_STR))
            v = e->def;
        switch (e->type) {
        case GG_CFG_STR: {
            char **dst = e->ptr;
            free(*dst);
            *dst = v ? strdup(v) : NULL;
            break;
        }
        case GG_CFG_INT: {
            char *end;
            errno = 0;
            long long x = v ? strtoll(v, &end, 10) : 0;
            if (!v || errno || *end || end == v || x < e->min || x > e->max) {
                snprintf(err, errlen, "%s: invalid value '%s' (an integer from %lld to %lld)",
                         e->name, v ? v : "", (long long)e->min, (long long)e->max);
                goto out;
            }
            *(int64_t *)e->ptr = x;
            break;
        }
        case GG_CFG_BOOL:
            if (!v || parse_bool(v, e->ptr) != 0) {
                snprintf(err, errlen, "%s: invalid value '%s' (true or false)", e->name, v ? v : "");
                goto out;
            }
            break;
        case GG_CFG_ENUM: {
            int found = -1;
            for (int k = 0; v && e->choices[k]; k++)
                if (strcasecmp(v, e->choices[k]) == 0)
                    found = k;
            if (found < 0) {
                char allowed[256] = "";
                size_t used = 0;
                for (int k = 0; e->choices[k]; k++) {   /* "a|b|c", cut to fit */
                    int w = snprintf(allowed + used, sizeof(allowed) - used, "%s%s",
                                     k ? "|" : "", e->choices[k]);
                    if (w < 0 || (size_t)w >= sizeof(allowed) - used)
                        break;
                    used += (size_t)w;
                }
                snprintf(err, errlen, "%s: invalid value '%s' (one of %s)", e->name, v ? v : "", allowed);
                goto out;
            }
            *(int *)e->ptr = found;
            break;
        }
        }
    }
    rc = 0;
out:
    kv_free(&l);
    return rc;
}

void gg_cfg_help(const struct gg_cfg_entry *t, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct gg_cfg_entry *e = &t[i];
        fprintf(out, "  %-26s %s", e->name, e->help);
        if (e->type == GG_CFG_ENUM) {
            fputs(" (", out);
            for (int k = 0; e->choices[k]; k++)
                fprintf(out, "%s%s", k ? "|" : "", e->choices[k]);
            fputc(')', out);
        }
        if (e->def && *e->def)
            fprintf(out, " [default: %s]", e->def);
        if (e->flags & GG_CFG_RELOAD)
            fputs(" {reloadable}", out);
        fputc('\n', out);
    }
}

void gg_cfg_dump(const struct gg_cfg_entry *t, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct gg_cfg_entry *e = &t[i];
        fprintf(out, "%s=", e->name);
        if (e->flags & GG_CFG_SECRET) {
            char **s = e->ptr;
            fputs(e->type == GG_CFG_STR && *s && **s ? "(set)" : "", out);
        } else if (e->type == GG_CFG_STR) {
            char **s = e->ptr;
            fputs(*s ? *s : "", out);
        } else if (e->type == GG_CFG_INT) {
            fprintf(out, "%lld", (long long)*(int64_t *)e->ptr);
        } else if (e->type == GG_CFG_BOOL) {
            fputs(*(bool *)e->ptr ? "true" : "false", out);
        } else {
            fputs(e->choices[*(int *)e->ptr], out);
        }
        fputc('\n', out);
    }
}

void gg_cfg_free(const struct gg_cfg_entry *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].type == GG_CFG_STR) {
            char **s = t[i].ptr;
            free(*s);
            *s = NULL;
        }
}
