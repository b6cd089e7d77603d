/* test_rules.c -- the account pool's state rules, model resolution and
 * time parsing, each rule against a fake clock (gg_time_fake), so every
 * cooldown transition is checked to the millisecond without sleeping. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_time.h"
#include "models.h"
#include "pool.h"
#include "store.h"
#include "tinytest.h"

static const int64_t T0 = 1790000000000; /* 2026-09-21, any fixed instant */

static void add_account(int64_t id, const char *name)
{
    char idx[32];
    snprintf(idx, sizeof(idx), "%lld", (long long)(1000000 + id));
    struct store_account r = {0};
    r.id = id;
    r.name = (char *)name;
    r.secure_c_ses = "CSE.test";
    r.csesidx = idx;
    r.config_id = "cfg";
    r.is_active = true;
    r.status = "active";
    TT_CHECK(pool_add(&r, id == 0) == 0);
}

static struct account *take(void)
{
    int ra = -1;
    bool rl = false;
    return pool_acquire(NULL, 0, &ra, &rl);
}

static void reset_pool(void)
{
    for (int64_t id = 0; id < 8; id++)
        pool_remove(id);
    cfg.cooldown_429 = 60;
    cfg.cooldown_429_max = 7200;
    cfg.cooldown_error = 20;
    cfg.account_max_concurrency = 0;
    cfg.strategy = STRATEGY_FAILOVER;
    gg_time_fake(T0);
}

/* 429: cooldown COOLDOWN_429, doubled per consecutive 429 up to the max; ends by itself. */
static void test_429_escalation(void)
{
    reset_pool();
    add_account(1, "one");
    int64_t expect_s[] = {60, 120, 240, 480, 960, 1920, 3840, 7200, 7200};
    for (size_t i = 0; i < sizeof(expect_s) / sizeof(expect_s[0]); i++) {
        struct account *a = take();
        TT_CHECK(a != NULL);
        if (!a)
            return;
        pool_report(a, OUT_RATE_LIMIT, "RESOURCE_EXHAUSTED");
        pool_release(a);
        TT_EQ_INT(a->status, ST_COOLDOWN);
        TT_EQ_INT(a->until_ms - gg_now_ms(), expect_s[i] * 1000);
        /* one millisecond before the end: still cooling, and the pool says when */
        gg_time_advance(expect_s[i] * 1000 - 1);
        int ra = 0;
        bool rl = false;
        TT_CHECK(pool_acquire(NULL, 0, &ra, &rl) == NULL);
        TT_EQ_INT(ra, 1);
        TT_CHECK(rl);               /* all cooling accounts are rate-limited -> 429 not 503 */
        gg_time_advance(1);         /* exactly at the end: usable again */
    }
    /* success resets the back-off */
    struct account *a = take();
    TT_CHECK(a != NULL);
    pool_report(a, OUT_OK, NULL);
    pool_report(a, OUT_RATE_LIMIT, NULL);
    TT_EQ_INT(a->until_ms - gg_now_ms(), 60000);
    pool_release(a);
}

/* 401 on getoxsrf: expired until new cookies or an admin enable; no time heals it. */
static void test_expired_and_forbidden(void)
{
    reset_pool();
    add_account(1, "one");
    add_account(2, "two");
    struct account *a = take();
    TT_EQ_INT(a->id, 1);
    pool_report(a, OUT_EXPIRED, "getoxsrf 401");
    pool_release(a);
    gg_time_advance(30LL * 24 * 3600 * 1000);
    struct account *b = take();
    TT_EQ_INT(b ? b->id : -1, 2);           /* failover order: 1 is skipped */
    pool_report(b, OUT_FORBIDDEN, "PERMISSION_DENIED");
    pool_release(b);
    TT_EQ_INT(b->status, ST_DISABLED);
    TT_CHECK(strncmp(b->reason, "403", 3) == 0);
    int ra = -1;
    bool rl = true;
    TT_CHECK(pool_acquire(NULL, 0, &ra, &rl) == NULL);
    TT_EQ_INT(ra, 0);                       /* nothing recovers by itself */
    TT_CHECK(!rl);                          /* -> 503, not 429 */
    /* a later 429 does not wake an expired account */
    struct account *x = pool_get(1);
    pool_report(x, OUT_RATE_LIMIT, NULL);
    TT_EQ_INT(x->status, ST_EXPIRED);
    pool_put(x);
    /* admin enable clears it */
    TT_EQ_INT(pool_enable(1), 0);
    a = take();
    TT_EQ_INT(a ? a->id : -1, 1);
    pool_release(a);
}

/* network / 5xx / API 401: COOLDOWN_ERROR; thoughts-only and client errors: no penalty. */
static void test_error_cooldown_and_no_penalty(void)
{
    reset_pool();
    add_account(1, "one");
    enum outcome bad[] = {OUT_NETWORK, OUT_SERVER, OUT_AUTH};
    for (size_t i = 0; i < 3; i++) {
        struct account *a = take();
        TT_CHECK(a != NULL);
        if (!a)
            return;
        pool_report(a, bad[i], NULL);
        pool_release(a);
        TT_EQ_INT(a->status, ST_COOLDOWN);
        TT_EQ_INT(a->until_ms - gg_now_ms(), 20000);
        int ra = 0;
        bool rl = true;
        TT_CHECK(pool_acquire(NULL, 0, &ra, &rl) == NULL);
        TT_EQ_INT(ra, 20);
        TT_CHECK(!rl);                      /* a server-error cooldown is a 503 */
        gg_time_advance(20000);
    }
    struct account *a = take();
    int64_t errs = a->errors_total;
    pool_report(a, OUT_EMPTY, "thoughts only");
    pool_report(a, OUT_CLIENT, "bad file");
    TT_EQ_INT(a->status, ST_ACTIVE);
    TT_EQ_INT(a->errors_total, errs);
    pool_release(a);
}

/* reset clears a cooldown and the back-off; disable wins over everything. */
static void test_admin_actions(void)
{
    reset_pool();
    add_account(1, "one");
    struct account *a = take();
    pool_report(a, OUT_RATE_LIMIT, NULL);
    pool_report(a, OUT_RATE_LIMIT, NULL);
    pool_release(a);
    TT_EQ_INT(pool_reset(1), 0);
    TT_EQ_INT(a->status, ST_ACTIVE);
    a = take();
    TT_CHECK(a != NULL);
    pool_report(a, OUT_RATE_LIMIT, NULL);
    TT_EQ_INT(a->until_ms - gg_now_ms(), 60000);    /* back-off restarted */
    pool_release(a);
    TT_EQ_INT(pool_disable(1, "maintenance"), 0);
    TT_EQ_STR(a->reason, "maintenance");
    gg_time_advance(3600 * 1000);
    TT_CHECK(take() == NULL);
    TT_EQ_INT(pool_enable(7), -1);                  /* unknown id */
}

/* strategies and the per-account concurrency limit */
static void test_selection(void)
{
    reset_pool();
    add_account(1, "one");
    add_account(2, "two");
    add_account(3, "three");
    cfg.strategy = STRATEGY_ROUND_ROBIN;
    int64_t seen[6];
    for (int i = 0; i < 6; i++) {
        struct account *a = take();
        seen[i] = a->id;
        pool_release(a);
    }
    TT_CHECK(seen[0] != seen[1] && seen[1] != seen[2] && seen[0] != seen[2]);
    TT_EQ_INT(seen[3], seen[0]);
    TT_EQ_INT(seen[4], seen[1]);
    cfg.strategy = STRATEGY_FAILOVER;
    cfg.account_max_concurrency = 1;
    struct account *x = take(), *y = take(), *z = take();
    TT_EQ_INT(x->id, 1);
    TT_EQ_INT(y->id, 2);
    TT_EQ_INT(z->id, 3);
    int ra = 0;
    bool rl = true;
    TT_CHECK(pool_acquire(NULL, 0, &ra, &rl) == NULL);
    TT_EQ_INT(ra, 1);                               /* busy, not cooling: retry soon, 503 */
    TT_CHECK(!rl);
    pool_release(y);
    struct account *w = take();
    TT_EQ_INT(w ? w->id : -1, 2);
    int64_t ex[] = {1, 2};
    pool_release(w);
    pool_release(x);
    struct account *v = pool_acquire(ex, 2, &ra, &rl);
    TT_CHECK(v == NULL);                            /* 3 is still held, 1 and 2 excluded */
    pool_release(z);
    v = pool_acquire(ex, 2, &ra, &rl);
    TT_EQ_INT(v ? v->id : -1, 3);
    pool_release(v);
    cfg.strategy = STRATEGY_LEAST_USED;
    cfg.account_max_concurrency = 0;
    struct account *l1 = take();
    gg_time_advance(1);
    struct account *l2 = take();
    TT_CHECK(l1->id != l2->id);                     /* the busy one is not least used */
    pool_release(l1);
    pool_release(l2);
}

/* soonest recovery across mixed cooldowns */
static void test_recovery(void)
{
    reset_pool();
    add_account(1, "one");
    add_account(2, "two");
    struct account *a = pool_get(1), *b = pool_get(2);
    pool_report(a, OUT_RATE_LIMIT, NULL);           /* 60 s */
    pool_report(b, OUT_SERVER, NULL);               /* 20 s */
    int ra = 0;
    bool rl = true;
    pool_recovery(&ra, &rl);
    TT_EQ_INT(ra, 20);
    TT_CHECK(!rl);                                  /* not every cooling account is rate-limited */
    gg_time_advance(20000);
    pool_recovery(&ra, &rl);
    TT_EQ_INT(ra, 40);
    TT_CHECK(rl);
    pool_put(a);
    pool_put(b);
}

static void test_models(void)
{
    struct model_choice mc;
    TT_EQ_INT(models_resolve("gemini-2.5-pro", &mc), 0);
    TT_EQ_STR(mc.model->upstream_id, "gemini-2.5-pro");
    TT_CHECK(!mc.upgraded);
    TT_CHECK(mc.tools & TOOLS_SEARCH);
    TT_EQ_INT(models_resolve("gpt-4o", &mc), 0);
    TT_EQ_STR(mc.model->id, "gemini-2.5-flash");
    TT_CHECK(mc.upgraded);
    TT_EQ_STR(mc.name, "gpt-4o");
    TT_EQ_INT(models_resolve("gemini-2.5-flash-nosearch", &mc), 0);
    TT_CHECK(!(mc.tools & TOOLS_SEARCH));
    TT_EQ_INT(models_resolve("gemini-2.5-flash-image-search", &mc), 0);
    TT_CHECK((mc.tools & (TOOLS_SEARCH | TOOLS_IMAGE)) == (TOOLS_SEARCH | TOOLS_IMAGE));
    TT_EQ_INT(models_resolve("gemini-auto", &mc), 0);
    TT_CHECK(mc.model->upstream_id == NULL);
    TT_EQ_INT(models_resolve("gemini-imagen", &mc), 0);
    TT_CHECK(mc.model->image_only);
    TT_EQ_INT(models_resolve("no-such-model", &mc), -1);
    TT_EQ_INT(models_resolve("", &mc), -1);
    TT_EQ_INT(models_resolve(NULL, &mc), -1);
    /* every built-in alias lands on a catalogue model */
    const char *aliases[] = {"gpt-4o-mini", "gpt-4.1", "gpt-4", "gpt-3.5-turbo", "o1", "o3", "o4-mini",
                             "gemini-pro", "gemini-1.5-flash", "gemini-3-pro", "gemini-3.1-pro", "auto"};
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        TT_EQ_INT(models_resolve(aliases[i], &mc), 0);
        TT_CHECK(mc.upgraded);
    }
    /* MODEL_MAP first, then built-ins; a bad entry is refused and the old map kept */
    char err[128] = "";
    TT_EQ_INT(models_set_map("my-model=gemini-3-pro-preview,gpt-4o=gemini-2.5-pro", err, sizeof(err)), 0);
    TT_EQ_INT(models_resolve("my-model", &mc), 0);
    TT_EQ_STR(mc.model->id, "gemini-3-pro-preview");
    TT_EQ_INT(models_resolve("gpt-4o", &mc), 0);
    TT_EQ_STR(mc.model->id, "gemini-2.5-pro");
    TT_EQ_INT(models_resolve("my-model-search", &mc), 0);
    TT_CHECK(mc.tools & TOOLS_SEARCH);
    TT_EQ_INT(models_set_map("broken-entry-without-equals", err, sizeof(err)), -1);
    TT_CHECK(err[0] != '\0');
    TT_EQ_INT(models_resolve("my-model", &mc), 0);
    TT_EQ_INT(models_set_map("", err, sizeof(err)), 0);
    TT_EQ_INT(models_resolve("my-model", &mc), -1);
}

static void test_parse_time(void)
{
    TT_EQ_INT(gg_parse_time("1970-01-01T00:00:00Z"), 0);
    TT_EQ_INT(gg_parse_time("2026-12-01T14:14:22.5Z"), 1796134462500LL);
    TT_EQ_INT(gg_parse_time("2026-12-01 14:14:22"), 1796134462000LL);
    TT_EQ_INT(gg_parse_time("2026-12-01T16:14:22+02:00"), 1796134462000LL);
    TT_EQ_INT(gg_parse_time("2026-12-01T09:14:22-0500"), 1796134462000LL);
    TT_EQ_INT(gg_parse_time("2026-12-01"), 1796083200000LL);
    TT_EQ_INT(gg_parse_time("2026-13-01"), -1);
    TT_EQ_INT(gg_parse_time("2026-1-01"), -1);
    TT_EQ_INT(gg_parse_time("yesterday"), -1);
    TT_EQ_INT(gg_parse_time(""), -1);
    TT_EQ_INT(gg_parse_time(NULL), -1);
    TT_EQ_INT(gg_parse_time("2026-12-01T14:14"), -1);
}

int main(void)
{
    pool_init();
    TT_RUN(test_429_escalation);
    TT_RUN(test_expired_and_forbidden);
    TT_RUN(test_error_cooldown_and_no_penalty);
    TT_RUN(test_admin_actions);
    TT_RUN(test_selection);
    TT_RUN(test_recovery);
    TT_RUN(test_models);
    TT_RUN(test_parse_time);
    gg_time_real();
    return TT_REPORT();
}
