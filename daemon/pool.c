/* pool.c -- see pool.h */
#include "pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct_tags.h"
#include "config.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "pool_kind.h"
#include "store.h"

#define CALL_EXCLUDE_MAX 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct account **accts;   /* sorted: env first, then by id */
static size_t n_accts, cap_accts;
static size_t rr_next;
static pool_change_cb change_cb;
static pool_cookie_cb cookie_cb;
static pool_lease_take_fn lease_take;
static pool_lease_release_fn lease_release;

void pool_set_lease_hooks(pool_lease_take_fn take, pool_lease_release_fn release)
{
    lease_take = take;
    lease_release = release;
}

static const char *const status_names[] = {"active", "cooldown", "expired", "disabled"};

const char *pool_status_name(enum acct_status s)
{
    return status_names[s];
}

void pool_init(void) {}

void pool_state_of(const struct account *a, struct pool_state *out)
{
    pthread_mutex_lock(&lock);
    out->status = a->status;
    memcpy(out->reason, a->reason, sizeof(out->reason));
    out->until_ms = a->until_ms;
    out->fail_count = a->fail_count;
    out->last_used_at = a->last_used_at;
    pthread_mutex_unlock(&lock);
}

void pool_set_change_cb(pool_change_cb cb)
{
    change_cb = cb;
}

void pool_set_cookie_cb(pool_cookie_cb cb)
{
    cookie_cb = cb;
}

/* for pool_signin.c (pool_kind.h) */
void pool_lock_(void) { pthread_mutex_lock(&lock); }
void pool_unlock_(void) { pthread_mutex_unlock(&lock); }
struct account *const *pool_all_(size_t *n) { *n = n_accts; return accts; }
void pool_notify_(struct account *a, const char *ses, const char *oses)
{
    if (ses && cookie_cb)
        cookie_cb(a, ses, oses);
    if (change_cb)
        change_cb(a, true);
}

static void free_account(struct account *a)
{
    free(a->name);
    free(a->secure_c_ses);
    free(a->host_c_oses);
    free(a->csesidx);
    free(a->config_id);
    free(a->proxy);
    free(a->note);
    free(a);
}

void pool_shutdown(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_accts; i++) {
        accts[i]->removed = true;
        if (--accts[i]->refs == 0)
            free_account(accts[i]);
    }
    free(accts);
    accts = NULL;
    n_accts = cap_accts = 0;
    pthread_mutex_unlock(&lock);
}

static int64_t day_of(int64_t ms)
{
    return ms / 86400000;
}

static void roll_day(struct account *a, int64_t now)
{
    int64_t d = day_of(now);
    if (a->today != d) {
        a->today = d;
        a->requests_today = 0;
        a->errors_today = 0;
    }
}

/* Expire cooldowns whose time has passed (under lock). */
static void refresh_state(struct account *a, int64_t now)
{
    if (a->status == ST_COOLDOWN && a->until_ms <= now) {
        a->status = ST_ACTIVE;
        a->reason[0] = '\0';
        a->until_ms = 0;
        a->cool_is_text_rl = false;
    }
}

/* for pool_json.c (pool_kind.h) */
void pool_refresh_(struct account *a, int64_t now, bool roll)
{
    refresh_state(a, now);
    if (roll)
        roll_day(a, now);
}

static enum acct_status parse_status(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, status_names[i]) == 0)
            return (enum acct_status)i;
    return ST_ACTIVE;
}

/* The row's fields onto a.  The strings are copied all or none: -1 (out
 * of memory) leaves a as it was. */
static int fill_from_row(struct account *a, const struct store_account *r)
{
    const char *src[7] = {r->name, r->secure_c_ses, r->host_c_oses && *r->host_c_oses ? r->host_c_oses : NULL,
                          r->csesidx, r->config_id, r->proxy && *r->proxy ? r->proxy : NULL, r->note};
    char **dst[7] = {&a->name, &a->secure_c_ses, &a->host_c_oses, &a->csesidx, &a->config_id, &a->proxy,
                     &a->note};
    char *copy[7];
    for (int i = 0; i < 7; i++) {
        copy[i] = src[i] ? strdup(src[i]) : NULL;
        if (src[i] && !copy[i]) {
            while (i-- > 0)
                free(copy[i]);
            return -1;
        }
    }
    bool cred_change = !a->secure_c_ses || !r->secure_c_ses || strcmp(a->secure_c_ses, r->secure_c_ses) != 0 ||
                       !a->csesidx || !r->csesidx || strcmp(a->csesidx, r->csesidx) != 0 ||
                       (a->host_c_oses ? 1 : 0) != (r->host_c_oses ? 1 : 0) ||
                       (a->host_c_oses && r->host_c_oses && strcmp(a->host_c_oses, r->host_c_oses) != 0);
    for (int i = 0; i < 7; i++) {
        free(*dst[i]);
        *dst[i] = copy[i];
    }
    if (cred_change)
        a->cred_gen++;
    a->is_active = r->is_active;
    a->status = parse_status(r->status);
    snprintf(a->reason, sizeof(a->reason), "%s", r->reason ? r->reason : "");
    a->until_ms = r->cooldown_until;
    a->fail_count = r->fail_count;
    a->cool_is_text_rl = a->status == ST_COOLDOWN && strncmp(a->reason, "429", 3) == 0;
    a->expires_at = r->expires_at;
    a->last_used_at = r->last_used_at;
    a->created_at = r->created_at;
    a->updated_at = r->updated_at;
    a->requests_total = r->requests_total;
    a->errors_total = r->errors_total;
    if (!a->is_active && a->status == ST_ACTIVE) {
        a->status = ST_DISABLED;
        if (!a->reason[0])
            snprintf(a->reason, sizeof(a->reason), "disabled by admin");
    }
    return 0;
}

int pool_add(const struct store_account *row, bool from_env)
{
    struct account *a = calloc(1, sizeof(*a));
    if (!a)
        return -1;
    a->id = from_env ? 0 : row->id;
    a->from_env = from_env;
    a->refs = 1;
    if (fill_from_row(a, row) != 0) {
        free_account(a);
        return -1;
    }
    if (!a->created_at)
        a->created_at = gg_now_ms();
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_accts; i++) {
        if (accts[i]->id == a->id && !from_env) {
            pthread_mutex_unlock(&lock);
            free_account(a);
            return -1;
        }
    }
    if (n_accts == cap_accts) {
        size_t nc = cap_accts ? cap_accts * 2 : 16;
        struct account **na = realloc(accts, nc * sizeof(*na));
        if (!na) {
            pthread_mutex_unlock(&lock);
            free_account(a);
            return -1;
        }
        accts = na;
        cap_accts = nc;
    }
    size_t pos = n_accts;
    while (pos > 0 && !accts[pos - 1]->from_env && (from_env || accts[pos - 1]->id > a->id)) {
        accts[pos] = accts[pos - 1];
        pos--;
    }
    accts[pos] = a;
    n_accts++;
    pthread_mutex_unlock(&lock);
    return 0;
}

static struct account *find_locked(int64_t id)
{
    for (size_t i = 0; i < n_accts; i++)
        if (accts[i]->id == id)
            return accts[i];
    return NULL;
}

int pool_update(const struct store_account *row)
{
    pthread_mutex_lock(&lock);
    struct account *a = find_locked(row->id);
    if (a) {
        uint64_t gen = a->cred_gen;
        bool active = a->is_active;
        enum acct_status st = a->status;
        char reason[160];
        snprintf(reason, sizeof(reason), "%s", a->reason);
        int64_t until = a->until_ms, fails = a->fail_count, rt = a->requests_total, et = a->errors_total;
        int64_t lu = a->last_used_at, ca = a->created_at;
        if (fill_from_row(a, row) != 0) {
            pthread_mutex_unlock(&lock);
            return -1;               /* out of memory: the account is unchanged */
        }
        a->is_active = active;
        a->status = st;
        snprintf(a->reason, sizeof(a->reason), "%s", reason);
        a->until_ms = until;
        a->fail_count = fails;
        a->requests_total = rt;
        a->errors_total = et;
        a->last_used_at = lu;
        a->created_at = ca;
        a->updated_at = gg_now_ms();
        if (a->cred_gen != gen && a->status == ST_EXPIRED) {
            a->status = ST_ACTIVE;
            a->reason[0] = '\0';
        }
    }
    pthread_mutex_unlock(&lock);
    if (a && change_cb)
        change_cb(a, true);
    return a ? 0 : -1;
}

int pool_sync_row(const struct store_account *row)
{
    pthread_mutex_lock(&lock);
    struct account *a = find_locked(row->id);
    if (!a) {
        pthread_mutex_unlock(&lock);
        int rc = pool_add(row, false);
        if (rc == 0 && change_cb) {
            struct account *n = pool_get(row->id);
            if (n) {
                change_cb(n, false);
                pool_put(n);
            }
        }
        return rc == 0 ? 1 : -1;
    }
    if (row->updated_at && a->updated_at && row->updated_at < a->updated_at) {
        /* an older row (a late notification): this instance already knows better */
        pthread_mutex_unlock(&lock);
        return 0;
    }
    enum acct_status st = a->status;
    bool act = a->is_active;
    int64_t until = a->until_ms;
    char reason[160];
    snprintf(reason, sizeof(reason), "%s", a->reason);
    uint64_t gen = a->cred_gen;
    int64_t rt = a->requests_total, et = a->errors_total, lu = a->last_used_at;
    if (fill_from_row(a, row) != 0) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    /* counters are per instance; keep the larger view */
    if (rt > a->requests_total) a->requests_total = rt;
    if (et > a->errors_total) a->errors_total = et;
    if (lu > a->last_used_at) a->last_used_at = lu;
    bool changed = st != a->status || act != a->is_active || until != a->until_ms ||
                   strcmp(reason, a->reason) != 0 || gen != a->cred_gen;
    a->refs++;
    pthread_mutex_unlock(&lock);
    if (changed)
        GG_INFO("account %lld synced from the store: %s%s%s", (long long)a->id, status_names[a->status],
                a->reason[0] ? " - " : "", a->reason);
    pool_put(a);
    return changed ? 1 : 0;
}

int pool_retain(const int64_t *ids, size_t n)
{
    int removed = 0;
    for (;;) {
        int64_t victim = -1;
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < n_accts && victim < 0; i++) {
            if (accts[i]->from_env)
                continue;
            bool keep = false;
            for (size_t k = 0; k < n && !keep; k++)
                keep = ids[k] == accts[i]->id;
            if (!keep)
                victim = accts[i]->id;
        }
        pthread_mutex_unlock(&lock);
        if (victim < 0)
            break;
        pool_remove(victim);
        removed++;
    }
    return removed;
}

int pool_fill_row(int64_t id, struct store_account *row)
{
    int rc = -1;
    pthread_mutex_lock(&lock);
    struct account *a = find_locked(id);
    if (a) {
        refresh_state(a, gg_now_ms());
        char *status = strdup(status_names[a->status]);
        char *reason = a->reason[0] ? strdup(a->reason) : NULL;
        if (!status || (a->reason[0] && !reason)) {
            free(status);
            free(reason);
            goto out;                /* the row stays as it was */
        }
        rc = 0;
        row->is_active = a->is_active;
        free(row->status);
        free(row->reason);
        row->status = status;
        row->reason = reason;
        row->cooldown_until = a->status == ST_COOLDOWN ? a->until_ms : 0;
        row->fail_count = a->fail_count;
        row->last_used_at = a->last_used_at;
        row->requests_total = a->requests_total;
        row->errors_total = a->errors_total;
    }
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

int pool_remove(int64_t id)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_accts; i++) {
        if (accts[i]->id == id) {
            struct account *a = accts[i];
            memmove(&accts[i], &accts[i + 1], (n_accts - i - 1) * sizeof(*accts));
            n_accts--;
            a->removed = true;
            if (--a->refs == 0)
                free_account(a);
            pthread_mutex_unlock(&lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&lock);
    return -1;
}

struct account *pool_get(int64_t id)
{
    pthread_mutex_lock(&lock);
    struct account *a = find_locked(id);
    if (a)
        a->refs++;
    pthread_mutex_unlock(&lock);
    return a;
}

void pool_put(struct account *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&lock);
    bool dead = --a->refs == 0;
    pthread_mutex_unlock(&lock);
    if (dead)
        free_account(a);
}

int pool_size(void)
{
    pthread_mutex_lock(&lock);
    int n = (int)n_accts;
    pthread_mutex_unlock(&lock);
    return n;
}

static bool usable(const struct account *a, int64_t now, enum work_kind kind)
{
    if (!pk_usable(a, kind, now))
        return false;
    if (a->expires_at && a->expires_at <= now)
        return false;
    if (cfg.account_max_concurrency > 0 && a->inflight >= cfg.account_max_concurrency)
        return false;
    return true;
}

static struct account *acquire_local(const int64_t *exclude, int nex, enum work_kind kind,
                                     int *retry_after_s, bool *all_rate_limited);

/* Cross-instance limit: hold a lease slot for a picked account, or give it
 * back and try the next one.  Called without the pool lock. */
static bool take_lease(struct account *a)
{
    if (!lease_take || cfg.account_max_concurrency <= 0 || a->from_env)
        return true;
    int slot = lease_take(a->id, (int)cfg.account_max_concurrency);
    if (slot == -2)
        return true; /* leases unavailable: the local limit still holds */
    if (slot < 0)
        return false;
    pthread_mutex_lock(&lock);
    if (a->n_lease < 64)
        a->lease_slots[a->n_lease++] = slot;
    pthread_mutex_unlock(&lock);
    return true;
}

static void undo_acquire(struct account *a)
{
    pthread_mutex_lock(&lock);
    a->inflight--;
    a->requests_today--;
    a->requests_total--;
    bool dead = --a->refs == 0;
    pthread_mutex_unlock(&lock);
    if (dead)
        free_account(a);
}

struct account *pool_acquire(const int64_t *exclude, int nex, int *retry_after_s, bool *all_rate_limited)
{
    return pool_acquire_kind(exclude, nex, WK_TEXT, retry_after_s, all_rate_limited);
}

struct account *pool_acquire_kind(const int64_t *exclude, int nex, enum work_kind kind,
                                  int *retry_after_s, bool *all_rate_limited)
{
    int64_t ex[CALL_EXCLUDE_MAX];
    int n = nex < CALL_EXCLUDE_MAX ? nex : CALL_EXCLUDE_MAX;
    if (n > 0)
        memcpy(ex, exclude, (size_t)n * sizeof(*ex));
    for (;;) {
        struct account *a = acquire_local(ex, n, kind, retry_after_s, all_rate_limited);
        if (!a && n > nex) {
            /* the rest are busy on other instances */
            *retry_after_s = 1;
            *all_rate_limited = false;
        }
        if (!a || take_lease(a))
            return a;
        undo_acquire(a);
        if (n >= CALL_EXCLUDE_MAX) {
            *retry_after_s = 1;
            *all_rate_limited = false;
            return NULL;
        }
        ex[n++] = a->id;
    }
}

/* A cooling account seen by a selection: track the soonest recovery and
 * whether every cooling is a rate limit (under lock). */
static void note_cooling(const struct account *a, enum work_kind kind, int64_t now, int64_t *soonest,
                         bool *any_cool, bool *only_429)
{
    bool rl;
    int64_t until = pk_cooling_until(a, kind, now, &rl);
    if (!until)
        return;
    *any_cool = true;
    if (!*soonest || until < *soonest)
        *soonest = until;
    if (!rl)
        *only_429 = false;
}

static struct account *acquire_local(const int64_t *exclude, int nex, enum work_kind kind,
                                     int *retry_after_s, bool *all_rate_limited)
{
    int64_t now = gg_now_ms();
    struct account *best = NULL;
    int64_t soonest = 0;
    bool any_busy = false, any_cool = false, only_429 = true;
    pthread_mutex_lock(&lock);
    size_t n = n_accts;
    size_t start = cfg.strategy == STRATEGY_ROUND_ROBIN && n ? rr_next % n : 0;
    for (size_t k = 0; k < n; k++) {
        struct account *a = accts[(start + k) % n];
        if (!acct_tags_match(a->id, acct_tags_selected()))
            continue;                 /* a client key bound to another account group */
        bool skip = false;
        for (int e = 0; e < nex; e++)
            if (exclude[e] == a->id)
                skip = true;
        refresh_state(a, now);
        if (skip) {
            note_cooling(a, kind, now, &soonest, &any_cool, &only_429);
            continue;
        }
        if (!usable(a, now, kind)) {
            bool rl;
            if (pk_cooling_until(a, kind, now, &rl))
                note_cooling(a, kind, now, &soonest, &any_cool, &only_429);
            else if (a->is_active && a->status == ST_ACTIVE)
                any_busy = true;
            continue;
        }
        if (cfg.strategy == STRATEGY_LEAST_USED) {
            if (!best || a->inflight < best->inflight ||
                (a->inflight == best->inflight && a->last_used_at < best->last_used_at))
                best = a;
            continue;
        }
        best = a;
        if (cfg.strategy == STRATEGY_ROUND_ROBIN)
            rr_next = (start + k + 1) % n;
        break;
    }
    if (best) {
        best->refs++;
        best->inflight++;
        best->last_used_at = now;
        roll_day(best, now);
        best->requests_today++;
        best->requests_total++;
    }
    pthread_mutex_unlock(&lock);
    if (!best) {
        int ra = soonest ? (int)((soonest - now + 999) / 1000) : 0;
        if (any_busy && (!ra || ra > 1))
            ra = 1;
        *retry_after_s = ra > 0 ? ra : (any_busy ? 1 : 0);
        *all_rate_limited = any_cool && only_429 && !any_busy;
    }
    return best;
}

struct account *pool_acquire_id(int64_t id, bool any_state)
{
    return pool_acquire_id_kind(id, any_state, WK_TEXT);
}

struct account *pool_acquire_id_kind(int64_t id, bool any_state, enum work_kind kind)
{
    int64_t now = gg_now_ms();
    pthread_mutex_lock(&lock);
    struct account *a = find_locked(id);
    if (a) {
        refresh_state(a, now);
        if (!any_state && !usable(a, now, kind))
            a = NULL;
    }
    if (a) {
        a->refs++;
        a->inflight++;
        a->last_used_at = now;
        roll_day(a, now);
        a->requests_today++;
        a->requests_total++;
    }
    pthread_mutex_unlock(&lock);
    if (a && !any_state && !take_lease(a)) {
        undo_acquire(a);
        return NULL;
    }
    return a;
}

void pool_recovery(int *retry_after_s, bool *all_rate_limited)
{
    pool_recovery_kind(WK_TEXT, retry_after_s, all_rate_limited);
}

void pool_recovery_kind(enum work_kind kind, int *retry_after_s, bool *all_rate_limited)
{
    int64_t now = gg_now_ms(), soonest = 0;
    bool any = false, only = true;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_accts; i++) {
        struct account *a = accts[i];
        refresh_state(a, now);
        note_cooling(a, kind, now, &soonest, &any, &only);
    }
    pthread_mutex_unlock(&lock);
    *retry_after_s = soonest ? (int)((soonest - now + 999) / 1000) : 0;
    *all_rate_limited = any && only;
}

void pool_ref(struct account *a)
{
    pthread_mutex_lock(&lock);
    a->refs++;
    pthread_mutex_unlock(&lock);
}

void pool_release(struct account *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&lock);
    int slot = a->n_lease > 0 ? a->lease_slots[--a->n_lease] : -1;
    int64_t id = a->id;
    pthread_mutex_unlock(&lock);
    if (slot >= 0 && lease_release)
        lease_release(id, slot);
    pthread_mutex_lock(&lock);
    a->inflight--;
    bool dead = --a->refs == 0;
    pthread_mutex_unlock(&lock);
    if (dead)
        free_account(a);
}

static const char *outcome_kind(enum outcome o)
{
    switch (o) {
    case OUT_RATE_LIMIT: case OUT_OVERLOADED: return "rate_limit";
    case OUT_EXPIRED: return "expired";
    case OUT_FORBIDDEN: return "forbidden";
    case OUT_AUTH: return "auth";
    case OUT_NETWORK: return "network";
    case OUT_SERVER: return "upstream";
    case OUT_EMPTY: return "empty";
    case OUT_CLIENT: return "client";
    default: return "ok";
    }
}

void pool_report(struct account *a, enum outcome o, const char *detail)
{
    pool_report_kind(a, WK_TEXT, o, detail);
}

void pool_report_kind(struct account *a, enum work_kind kind, enum outcome o, const char *detail)
{
    int64_t now = gg_now_ms();
    bool kind_changed = false;
    bool state_changed = false;
    enum acct_status before;
    pthread_mutex_lock(&lock);
    before = a->status;
    roll_day(a, now);
    if (o == OUT_OK) {
        a->fail_count = 0;
        pk_ok(a, kind);
    } else if (o != OUT_EMPTY && o != OUT_CLIENT) {
        a->errors_today++;
        a->errors_total++;
        memmove(&a->last_errors[1], &a->last_errors[0], sizeof(a->last_errors[0]) * (ACCT_LAST_ERRORS - 1));
        a->last_errors[0].at = now;
        snprintf(a->last_errors[0].kind, sizeof(a->last_errors[0].kind), "%s", outcome_kind(o));
        snprintf(a->last_errors[0].msg, sizeof(a->last_errors[0].msg), "%s", detail ? detail : "");
        if (a->n_errors < ACCT_LAST_ERRORS)
            a->n_errors++;
        if (!a->removed && a->status != ST_DISABLED && a->status != ST_EXPIRED) {
            switch (o) {
            case OUT_RATE_LIMIT:
            case OUT_OVERLOADED:
                pk_rate_limit(a, kind, o, detail, now);
                kind_changed = kind != WK_TEXT;
                break;
            case OUT_EXPIRED:
                a->status = ST_EXPIRED;
                a->until_ms = 0;
                snprintf(a->reason, sizeof(a->reason), "%s", detail ? detail : "cookies expired");
                break;
            case OUT_FORBIDDEN:
                a->status = ST_DISABLED;
                a->until_ms = 0;
                snprintf(a->reason, sizeof(a->reason), "403 %s", detail ? detail : "PERMISSION_DENIED");
                break;
            case OUT_AUTH:
            case OUT_NETWORK:
            case OUT_SERVER:
                a->fail_count++;
                a->status = ST_COOLDOWN;
                a->cool_is_text_rl = false;
                a->until_ms = now + cfg.cooldown_error * 1000;
                snprintf(a->reason, sizeof(a->reason), "%s", detail ? detail : outcome_kind(o));
                break;
            default:
                break;
            }
        }
    }
    state_changed = before != a->status || o != OUT_OK;
    if (before != a->status || (o != OUT_OK && o != OUT_EMPTY && o != OUT_CLIENT))
        a->updated_at = now;
    if (state_changed && before != a->status)
        GG_INFO("account %lld (%s) %s -> %s: %s", (long long)a->id, a->name ? a->name : "",
                status_names[before], status_names[a->status], a->reason);
    pthread_mutex_unlock(&lock);
    if (change_cb)
        change_cb(a, before != a->status || kind_changed);
}

static int admin_set(int64_t id, int action, const char *reason)
{
    pthread_mutex_lock(&lock);
    struct account *a = find_locked(id);
    if (!a) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    switch (action) {
    case 0: /* enable */
        memset(a->kcool, 0, sizeof(a->kcool));
        a->cool_is_text_rl = false;
        a->is_active = true;
        a->status = ST_ACTIVE;
        a->reason[0] = '\0';
        a->until_ms = 0;
        a->fail_count = 0;
        break;
    case 1: /* disable */
        a->is_active = false;
        a->status = ST_DISABLED;
        snprintf(a->reason, sizeof(a->reason), "%s", reason && *reason ? reason : "disabled by admin");
        a->until_ms = 0;
        break;
    case 2: /* reset cooldown */
        memset(a->kcool, 0, sizeof(a->kcool));
        a->cool_is_text_rl = false;
        if (a->status == ST_COOLDOWN) {
            a->status = ST_ACTIVE;
            a->reason[0] = '\0';
        }
        a->until_ms = 0;
        a->fail_count = 0;
        break;
    }
    a->updated_at = gg_now_ms();
    a->refs++;
    pthread_mutex_unlock(&lock);
    if (change_cb)
        change_cb(a, true);
    pool_put(a);
    return 0;
}

int pool_enable(int64_t id) { return admin_set(id, 0, NULL); }
int pool_disable(int64_t id, const char *reason) { return admin_set(id, 1, reason); }
int pool_reset(int64_t id) { return admin_set(id, 2, NULL); }
