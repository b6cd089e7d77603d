/* leasetab.h -- the cluster's table of lease slots held by this instance:
 * account id -> 64-bit mask of held slots.
 *
 * Grows as needed (no fixed account limit) and forgets an account as soon
 * as its mask is empty, so it holds only the accounts with a lease in flight.
 * Not thread-safe: the caller (cluster.c) holds its lease mutex.
 */
#ifndef LEASETAB_H
#define LEASETAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct leasetab {
    struct leasetab_ent { int64_t id; uint64_t mask; } *e;
    size_t n, cap;
};

/* The mask of id; with create, a new zero mask when absent.  NULL when
 * absent (and !create) or out of memory.  Valid until the next call. */
uint64_t *leasetab_get(struct leasetab *t, int64_t id, bool create);
/* Forget id when its mask is 0. */
void leasetab_prune(struct leasetab *t, int64_t id);
void leasetab_clear(struct leasetab *t);   /* forget all, keeps storage */
void leasetab_free(struct leasetab *t);

#endif
