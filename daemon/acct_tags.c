/* acct_tags.c -- see acct_tags.h */
#include "acct_tags.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    int64_t id;
    char tags[ACCT_TAGS_MAX];
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct entry *ents;
static size_t n_ents, cap_ents;
static _Thread_local char selected[64];

static bool tag_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

int acct_tags_normalise(const char *in, char out[ACCT_TAGS_MAX], char *err, size_t errlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (const char *p = in ? in : ""; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        size_t n = (size_t)(t - p);
        for (size_t i = 0; i < n; i++)
            if (!tag_char(p[i])) {
                snprintf(err, errlen, "tags: letters, digits, '-', '_' and '.' only, separated by commas");
                return -1;
            }
        if (n >= 64 || o + n + 2 > ACCT_TAGS_MAX) {
            snprintf(err, errlen, "tags: at most 63 bytes per tag and %d in all", ACCT_TAGS_MAX - 1);
            return -1;
        }
        if (n) {
            if (o)
                out[o++] = ',';
            memcpy(out + o, p, n);
            o += n;
            out[o] = '\0';
        }
        p = e;
    }
    return 0;
}

static bool list_has(const char *list, const char *tag)
{
    size_t tl = strlen(tag);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == tl && memcmp(p, tag, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static struct entry *find(int64_t id)
{
    for (size_t i = 0; i < n_ents; i++)
        if (ents[i].id == id)
            return &ents[i];
    return NULL;
}

int acct_tags_set(int64_t id, const char *tags)
{
    int rc = 0;
    pthread_rwlock_wrlock(&lock);
    struct entry *e = find(id);
    if (!tags || !*tags) {
        if (e)
            *e = ents[--n_ents];
        goto out;
    }
    if (!e) {
        if (n_ents == cap_ents) {
            size_t nc = cap_ents ? cap_ents * 2 : 16;
            struct entry *ne = realloc(ents, nc * sizeof(*ne));
            if (!ne) {
                rc = -1;
                goto out;
            }
            ents = ne;
            cap_ents = nc;
        }
        e = &ents[n_ents++];
        e->id = id;
    }
    snprintf(e->tags, sizeof(e->tags), "%s", tags);
out:
    pthread_rwlock_unlock(&lock);
    return rc;
}

int acct_tags_load(const int64_t *ids, const char *const *tags, size_t n)
{
    struct entry *ne = calloc(n ? n : 1, sizeof(*ne));
    if (!ne)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (tags[i] && *tags[i]) {
            ne[m].id = ids[i];
            snprintf(ne[m].tags, sizeof(ne[m].tags), "%s", tags[i]);
            m++;
        }
    pthread_rwlock_wrlock(&lock);
    free(ents);
    ents = ne;
    n_ents = m;
    cap_ents = n ? n : 1;
    pthread_rwlock_unlock(&lock);
    return 0;
}

void acct_tags_get(int64_t id, char out[ACCT_TAGS_MAX])
{
    pthread_rwlock_rdlock(&lock);
    struct entry *e = find(id);
    snprintf(out, ACCT_TAGS_MAX, "%s", e ? e->tags : "");
    pthread_rwlock_unlock(&lock);
}

bool acct_tags_match(int64_t id, const char *group)
{
    if (!group || !*group)
        return true;
    pthread_rwlock_rdlock(&lock);
    struct entry *e = find(id);
    bool r = e && list_has(e->tags, group);
    pthread_rwlock_unlock(&lock);
    return r;
}

size_t acct_tags_count(const char *group)
{
    size_t n = 0;
    pthread_rwlock_rdlock(&lock);
    for (size_t i = 0; i < n_ents; i++)
        if (list_has(ents[i].tags, group ? group : ""))
            n++;
    pthread_rwlock_unlock(&lock);
    return n;
}

void acct_tags_select(const char *group)
{
    snprintf(selected, sizeof(selected), "%s", group ? group : "");
}

const char *acct_tags_selected(void)
{
    return selected;
}

void acct_tags_free(void)
{
    pthread_rwlock_wrlock(&lock);
    free(ents);
    ents = NULL;
    n_ents = cap_ents = 0;
    pthread_rwlock_unlock(&lock);
}
