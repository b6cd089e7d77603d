/* leasetab.c -- see leasetab.h */
#include "leasetab.h"

#include <stdlib.h>

uint64_t *leasetab_get(struct leasetab *t, int64_t id, bool create)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].id == id)
            return &t->e[i].mask;
    if (!create)
        return NULL;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct leasetab_ent *e = realloc(t->e, cap * sizeof(*e));
        if (!e)
            return NULL;
        t->e = e;
        t->cap = cap;
    }
    t->e[t->n].id = id;
    t->e[t->n].mask = 0;
    return &t->e[t->n++].mask;
}

void leasetab_prune(struct leasetab *t, int64_t id)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].id == id) {
            if (t->e[i].mask == 0)
                t->e[i] = t->e[--t->n];
            return;
        }
}

void leasetab_clear(struct leasetab *t)
{
    t->n = 0;
}

void leasetab_free(struct leasetab *t)
{
    free(t->e);
    t->e = NULL;
    t->n = t->cap = 0;
}
