/* acct_tags.h -- account tags: which account groups an account belongs to.
 *
 * A tag list is a comma list of names ([A-Za-z0-9._-], at most 255 bytes in
 * all); a client key bound to a group (key_limits.group) only uses accounts
 * whose list contains that group (pool.c asks acct_tags_match() while
 * selecting).  The table lives in memory; keys_store.c loads it from the
 * accounts' `tags` column and writes changes back.
 *
 * Thread-safety: every function may be called from any thread (one rwlock;
 * it is a leaf: nothing here calls other modules, so the pool may call in
 * with its own lock held).  Failure: int functions give 0 or -1 (bad list,
 * no memory); nothing aborts.
 */
#ifndef ACCT_TAGS_H
#define ACCT_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCT_TAGS_MAX 256

/* Normalise a tag list (spaces dropped, empty items dropped) into out;
 * -1 with err set when a tag has other characters or it is too long. */
int acct_tags_normalise(const char *in, char out[ACCT_TAGS_MAX], char *err, size_t errlen);
/* Set (or with "" clear) account id's tags; the list must be normalised. */
int acct_tags_set(int64_t id, const char *tags);
void acct_tags_get(int64_t id, char out[ACCT_TAGS_MAX]);
/* Replace the whole table (store load / cluster sync). */
int acct_tags_load(const int64_t *ids, const char *const *tags, size_t n);
/* Does account id carry tag `group`?  group NULL or "" matches every account. */
bool acct_tags_match(int64_t id, const char *group);
/* How many accounts carry `group`. */
size_t acct_tags_count(const char *group);
/* The group the calling thread selects accounts for (pool selection on the
 * upstream thread; NULL/"" = any).  The string is copied. */
void acct_tags_select(const char *group);
const char *acct_tags_selected(void);       /* "" when none */
void acct_tags_free(void);

#endif
