/* pool_kind.h -- private to pool.c (and pool_signin.c, pool_json.c): the rate-limit rules per kind of work
 * (text, image, video) and per 429 kind (quota vs LLM_OVERLOADED).
 *
 * Every function works on one account and must be called with the pool
 * lock held (pool.c owns the lock); none allocates except pk_json, whose
 * cJSON additions may silently fail on allocation (the object stays valid).
 *
 *   quota (OUT_RATE_LIMIT): COOLDOWN_429 doubled per consecutive quota 429
 *     of that kind, capped at COOLDOWN_429_MAX;
 *   overloaded (OUT_OVERLOADED): min(COOLDOWN_OVERLOADED, COOLDOWN_429),
 *     never escalating, the count untouched;
 *   text: the account's visible status becomes `cooldown` (reason "429
 *     ..."), as before; image / video: only kcool[kind] is set, the status
 *     stays, and only work of that kind skips the account.
 */
#ifndef POOL_KIND_H
#define POOL_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"

/* Apply a rate-limit outcome (OUT_RATE_LIMIT or OUT_OVERLOADED) of `kind`. */
void pk_rate_limit(struct account *a, enum work_kind kind, enum outcome o, const char *detail, int64_t now);
/* Success on `kind`: its consecutive count restarts. */
void pk_ok(struct account *a, enum work_kind kind);
/* May work of `kind` go to a, as far as its status and cooldowns go? */
bool pk_usable(const struct account *a, enum work_kind kind, int64_t now);
/* When a cools for `kind`: the end time (0 = not cooling) and whether the
 * cause is a rate limit. */
int64_t pk_cooling_until(const struct account *a, enum work_kind kind, int64_t now, bool *rate_limit);
/* "cooldowns": {"text"|"image"|"video": {"until","reason","fail_count"}}
 * (only kinds cooling now), plus last_signin_at and refresh_count. */
void pk_json(struct cJSON *o, const struct account *a, int64_t now);

/* Pool internals for pool_signin.c and pool_json.c (defined in pool.c): the lock, the
 * account array (valid under the lock), and the callbacks (call without
 * the lock): the cookie callback when ses is set, then the change one. */
void pool_lock_(void);
void pool_unlock_(void);
struct account *const *pool_all_(size_t *n);
void pool_notify_(struct account *a, const char *ses, const char *oses);
/* For pool_json.c, under the lock: expire a passed cooldown and, with
 * roll, restart the *_today counters on a new day. */
void pool_refresh_(struct account *a, int64_t now, bool roll);

#endif
