/* test_keys.c -- client keys: every limit, expiry, disable, model
 * allow-list, groups, usage counting, concurrency of admission (50 threads
 * racing for a quota), all on a fake clock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gg_time.h"
#include "keys.h"
#include "tinytest.h"

static const int64_t T0 = 1796083200000LL; /* 2026-12-01T00:00:00Z */

static int64_t mk(const char *name, const struct key_limits *lim, int64_t expires, char secret[KEY_SECRET_LEN + 1])
{
    struct key_info ki;
    char err[128] = "";
    TT_EQ_INT(keys_create(name, "test", expires, lim, &ki, secret, err, sizeof(err)), 0);
    TT_EQ_INT((long long)strlen(secret), KEY_SECRET_LEN);
    TT_CHECK(strncmp(secret, ki.prefix, KEY_PREFIX_LEN) == 0);
    TT_CHECK(strstr(ki.hash, secret + 3) == NULL);     /* the record never holds the secret */
    return ki.id;
}

static enum key_verdict admit(const char *s, const char *model, struct key_ticket *t, struct key_denial *d)
{
    return keys_admit(s, model, gg_now_ms(), t, d);
}

static void test_basics(void)
{
    keys_free();
    gg_time_fake(T0);
    char s[KEY_SECRET_LEN + 1];
    int64_t id = mk("alice", NULL, 0, s);
    struct key_ticket t;
    struct key_denial d;
    TT_EQ_INT(admit(s, "gemini-2.5-pro", &t, &d), KEY_OK);
    TT_EQ_INT(t.key_id, id);
    TT_CHECK(keys_is_client_key(s));
    keys_finish(&t, "gemini-2.5-pro", 10, 20, false, gg_now_ms());
    struct key_usage_now u;
    TT_EQ_INT(keys_get(id, NULL, &u), 0);
    TT_EQ_INT(u.day_tokens, 30);
    TT_EQ_INT(u.day_requests, 1);
    TT_EQ_INT(u.inflight, 0);
    /* a wrong secret of the right shape, a near miss, garbage */
    char wrong[KEY_SECRET_LEN + 1];
    memcpy(wrong, s, sizeof(wrong));
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    TT_EQ_INT(admit(wrong, NULL, &t, &d), KEY_UNKNOWN);
    TT_EQ_INT(d.status, 401);
    TT_EQ_INT(admit("sk-something", NULL, &t, &d), KEY_UNKNOWN);
    TT_EQ_INT(admit(NULL, NULL, &t, &d), KEY_UNKNOWN);
    /* bad input */
    char err[128];
    struct key_info ki;
    char s2[KEY_SECRET_LEN + 1];
    TT_EQ_INT(keys_create("", NULL, 0, NULL, &ki, s2, err, sizeof(err)), -1);
    TT_EQ_INT(keys_create("bad\x1bname", NULL, 0, NULL, &ki, s2, err, sizeof(err)), -1);
    struct key_limits neg = {.rpm = -1};
    TT_EQ_INT(keys_create("neg", NULL, 0, &neg, &ki, s2, err, sizeof(err)), -1);
    TT_CHECK(strstr(err, "limits") != NULL);
}

static void test_disable_expiry_delete(void)
{
    keys_free();
    gg_time_fake(T0);
    char s[KEY_SECRET_LEN + 1];
    int64_t id = mk("bob", NULL, T0 + 60000, s);
    struct key_ticket t;
    struct key_denial d;
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
    bool off = false, on = true;
    char err[128];
    TT_EQ_INT(keys_update(id, NULL, NULL, NULL, &off, NULL, err, sizeof(err)), 0);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_DISABLED);          /* at once */
    TT_EQ_INT(d.status, 401);
    TT_CHECK(strstr(d.message, "bob") != NULL);
    TT_EQ_INT(keys_update(id, NULL, NULL, NULL, &on, NULL, err, sizeof(err)), 0);
    gg_time_advance(59999);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
    gg_time_advance(1);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_EXPIRED);
    int64_t never = 0;
    TT_EQ_INT(keys_update(id, NULL, NULL, &never, NULL, NULL, err, sizeof(err)), 0);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
    TT_EQ_INT(keys_delete(id), 0);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_UNKNOWN);
    TT_EQ_INT(keys_delete(id), -1);
}

static void test_models(void)
{
    TT_CHECK(keys_model_allowed("", "anything"));
    TT_CHECK(keys_model_allowed("gemini-2.5-flash", "gemini-2.5-flash"));
    TT_CHECK(!keys_model_allowed("gemini-2.5-flash", "gemini-2.5-flash-search"));
    TT_CHECK(keys_model_allowed("gemini-2.5-*", "gemini-2.5-pro"));
    TT_CHECK(keys_model_allowed("a, gemini-*-flash*", "gemini-3-flash-preview"));
    TT_CHECK(!keys_model_allowed("gemini-*-flash", "gemini-3-pro-preview"));
    TT_CHECK(keys_model_allowed("*", "x"));
    TT_CHECK(!keys_model_allowed("gemini-2.5-*", NULL));
    keys_free();
    gg_time_fake(T0);
    struct key_limits lim = {0};
    snprintf(lim.models, sizeof(lim.models), "gemini-2.5-flash,claude-*");
    char s[KEY_SECRET_LEN + 1];
    mk("carol", &lim, 0, s);
    struct key_ticket t;
    struct key_denial d;
    TT_EQ_INT(admit(s, "gemini-2.5-pro", &t, &d), KEY_MODEL);
    TT_EQ_INT(d.status, 403);
    TT_CHECK(strstr(d.message, "gemini-2.5-pro") != NULL);
    TT_EQ_INT(admit(s, "claude-sonnet-4-5", &t, &d), KEY_OK);
    keys_finish(&t, NULL, 0, 0, false, gg_now_ms());
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);                 /* model known later */
    TT_EQ_INT(keys_check_model(&t, "gpt-4o", &d), KEY_MODEL);
    TT_EQ_INT(keys_check_model(&t, "gemini-2.5-flash", &d), KEY_OK);
    keys_finish(&t, NULL, 0, 0, false, gg_now_ms());
}

/* Changing rpm keeps what the key already spent in the rolling minute. */
static void test_rpm_change_keeps_window(void)
{
    keys_free();
    gg_time_fake(T0 + 200);
    char s[KEY_SECRET_LEN + 1];
    int64_t id = mk("rpmchange", NULL, 0, s);
    struct key_ticket t;
    struct key_denial d;
    for (int i = 0; i < 2; i++) {                          /* unlimited: two requests */
        TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
        keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
        gg_time_advance(1000);
    }
    char err[128];
    struct key_limits lim = {.rpm = 2};
    TT_EQ_INT(keys_update(id, NULL, NULL, NULL, NULL, &lim, err, sizeof(err)), 0);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_RPM);            /* both still in the window */
    lim.rpm = 3;                                           /* grow: one more fits */
    TT_EQ_INT(keys_update(id, NULL, NULL, NULL, NULL, &lim, err, sizeof(err)), 0);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_RPM);
    lim.rpm = 1;                                           /* shrink: the newest decides */
    TT_EQ_INT(keys_update(id, NULL, NULL, NULL, NULL, &lim, err, sizeof(err)), 0);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_RPM);
    TT_EQ_INT(d.retry_after, 60);
    gg_time_advance(60000);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
}

static void test_rpm(void)
{
    keys_free();
    gg_time_fake(T0 + 500);
    struct key_limits lim = {.rpm = 3};
    char s[KEY_SECRET_LEN + 1];
    mk("dave", &lim, 0, s);
    struct key_ticket t;
    struct key_denial d;
    for (int i = 0; i < 3; i++) {
        TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
        keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
        gg_time_advance(10000);
    }
    /* 3 requests at +0, +10 s, +20 s; now +30 s: the first frees its slot at +60 s */
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_RPM);
    TT_EQ_INT(d.status, 429);
    TT_EQ_INT(d.retry_after, 30);
    TT_CHECK(strstr(d.message, "3 requests per minute") != NULL);
    gg_time_advance(29999);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_RPM);
    TT_EQ_INT(d.retry_after, 1);
    gg_time_advance(1);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_RPM);               /* the +10 s one is still inside */
}

static void test_tpm(void)
{
    keys_free();
    gg_time_fake(T0 + 120000);
    struct key_limits lim = {.tpm = 100};
    char s[KEY_SECRET_LEN + 1];
    mk("erin", &lim, 0, s);
    struct key_ticket t;
    struct key_denial d;
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 60, 40, false, gg_now_ms());        /* 100 tokens in this second */
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_TPM);
    TT_EQ_INT(d.retry_after, 60);
    TT_CHECK(strstr(d.message, "100 tokens per minute") != NULL);
    gg_time_advance(59000);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_TPM);
    TT_EQ_INT(d.retry_after, 1);
    gg_time_advance(1000);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 50, 0, false, gg_now_ms());
    gg_time_advance(30000);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);                /* 50 < 100 in the window */
    keys_finish(&t, NULL, 50, 0, false, gg_now_ms());
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_TPM);
    TT_EQ_INT(d.retry_after, 30);                              /* the first 50 leave at +60 s */
}

static void test_day_and_month_rollover(void)
{
    keys_free();
    const int64_t dec30 = T0 + 29LL * 86400000;               /* 2026-12-30T00:00:00Z */
    gg_time_fake(dec30 + 86400000LL - 60000);                 /* 23:59 */
    struct key_limits lim = {.tokens_day = 250, .tokens_month = 400};
    char s[KEY_SECRET_LEN + 1];
    mk("ivy", &lim, 0, s);
    struct key_ticket t;
    struct key_denial d;
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 200, 50, false, gg_now_ms());       /* day 250 */
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_DAY);
    TT_EQ_INT(d.retry_after, 60);
    gg_time_advance(60000);                                    /* Dec 31, 00:00 */
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 150, 0, false, gg_now_ms());        /* day 150, month 400 */
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_MONTH);
    TT_EQ_INT(d.status, 429);
    TT_EQ_INT(d.retry_after, 86400);
    TT_CHECK(strstr(d.message, "monthly token quota of 400") != NULL);
    TT_CHECK(strstr(d.message, "2027-01-01T00:00:00Z") != NULL);
    gg_time_advance(86400000);                                 /* 2027-01-01 */
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 1, 0, false, gg_now_ms());
}

static void test_day_quota_message(void)
{
    keys_free();
    gg_time_fake(T0 + 3600000);                                /* 01:00 */
    struct key_limits lim = {.tokens_day = 10};
    char s[KEY_SECRET_LEN + 1];
    mk("frank", &lim, 0, s);
    struct key_ticket t;
    struct key_denial d;
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 5, 6, false, gg_now_ms());
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_DAY);
    TT_EQ_INT(d.retry_after, 23 * 3600);
    TT_CHECK(strstr(d.message, "daily token quota of 10") != NULL);
    TT_CHECK(strstr(d.message, "2026-12-02T00:00:00Z") != NULL);
}

static void test_concurrency_limit(void)
{
    keys_free();
    gg_time_fake(T0);
    struct key_limits lim = {.max_concurrent = 2};
    char s[KEY_SECRET_LEN + 1];
    mk("gina", &lim, 0, s);
    struct key_ticket a, b, c;
    struct key_denial d;
    TT_EQ_INT(admit(s, NULL, &a, &d), KEY_OK);
    TT_EQ_INT(admit(s, NULL, &b, &d), KEY_OK);
    TT_EQ_INT(admit(s, NULL, &c, &d), KEY_CONCURRENCY);
    TT_EQ_INT(d.retry_after, 1);
    keys_finish(&a, NULL, 0, 0, true, gg_now_ms());
    TT_EQ_INT(a.key_id, 0);                                    /* a ticket is finished once */
    keys_finish(&a, NULL, 0, 0, true, gg_now_ms());
    TT_EQ_INT(admit(s, NULL, &c, &d), KEY_OK);
    keys_finish(&b, NULL, 0, 0, false, gg_now_ms());
    keys_finish(&c, NULL, 0, 0, false, gg_now_ms());
}

/* 50 threads race for a key with rpm 10: exactly 10 get in. */
static const char *race_secret;
static int race_ok;
static pthread_mutex_t race_mu = PTHREAD_MUTEX_INITIALIZER;

static void *racer(void *arg)
{
    (void)arg;
    struct key_ticket t;
    struct key_denial d;
    if (keys_admit(race_secret, NULL, gg_now_ms(), &t, &d) == KEY_OK) {
        pthread_mutex_lock(&race_mu);
        race_ok++;
        pthread_mutex_unlock(&race_mu);
        keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
    }
    return NULL;
}

static void test_race(void)
{
    keys_free();
    gg_time_fake(T0);
    struct key_limits lim = {.rpm = 10, .group = "team-a"};
    char s[KEY_SECRET_LEN + 1];
    mk("race", &lim, 0, s);
    race_secret = s;
    race_ok = 0;
    pthread_t th[50];
    for (int i = 0; i < 50; i++)
        pthread_create(&th[i], NULL, racer, NULL);
    for (int i = 0; i < 50; i++)
        pthread_join(th[i], NULL);
    TT_EQ_INT(race_ok, 10);
    struct key_ticket t;
    struct key_denial d;
    gg_time_advance(60000);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    TT_EQ_STR(t.group, "team-a");
    keys_finish(&t, NULL, 0, 0, false, gg_now_ms());
}

/* the usage hook sees every finished request with its day and model */
static int hook_calls;
static int64_t hook_in, hook_out;
static char hook_day[16], hook_model[64];
static void on_usage(int64_t id, const char *day, const char *model, int64_t in, int64_t out, bool err)
{
    (void)id;
    (void)err;
    hook_calls++;
    hook_in += in;
    hook_out += out;
    snprintf(hook_day, sizeof(hook_day), "%s", day);
    snprintf(hook_model, sizeof(hook_model), "%s", model);
}

static void test_usage_hook_and_load(void)
{
    keys_free();
    gg_time_fake(T0 + 5000);
    struct key_hooks h = {.usage = on_usage};
    keys_set_hooks(&h);
    char s[KEY_SECRET_LEN + 1];
    int64_t id = mk("hank", NULL, 0, s);
    struct key_ticket t;
    struct key_denial d;
    for (int i = 0; i < 3; i++) {
        TT_EQ_INT(admit(s, "gemini-2.5-flash", &t, &d), KEY_OK);
        keys_finish(&t, "gemini-2.5-flash", 7, 3, false, gg_now_ms());
    }
    TT_EQ_INT(hook_calls, 3);
    TT_EQ_INT(hook_in, 21);
    TT_EQ_INT(hook_out, 9);
    TT_EQ_STR(hook_day, "2026-12-01");
    TT_EQ_STR(hook_model, "gemini-2.5-flash");
    keys_set_hooks(NULL);
    /* reloading the same rows keeps the counters; a row gone removes the key */
    struct key_info *rows;
    size_t n;
    TT_EQ_INT(keys_list(&rows, NULL, &n), 0);
    TT_EQ_INT(n, 1);
    TT_EQ_INT(keys_load(rows, n), 0);
    struct key_usage_now u;
    TT_EQ_INT(keys_get(id, NULL, &u), 0);
    TT_EQ_INT(u.day_tokens, 30);
    /* store totals (all instances) raise the counters, never lower them */
    keys_merge_usage(id, 100, 100, 5, 1, gg_now_ms());
    keys_get(id, NULL, &u);
    TT_EQ_INT(u.day_tokens, 100);
    TT_EQ_INT(u.month_tokens, 100);
    TT_EQ_INT(u.day_requests, 5);
    TT_EQ_INT(u.day_errors, 1);
    keys_merge_usage(id, 20, 20, 1, 0, gg_now_ms());
    keys_get(id, NULL, &u);
    TT_EQ_INT(u.day_tokens, 100);
    struct key_ticket at;
    TT_EQ_INT(keys_authenticate(s, gg_now_ms(), &at, &d), KEY_OK);
    TT_EQ_INT(at.key_id, id);
    keys_get(id, NULL, &u);
    TT_EQ_INT(u.inflight, 0);                       /* authentication does not count */
    TT_CHECK(keys_shaped(s));
    TT_CHECK(!keys_shaped("sk-x"));
    TT_EQ_INT(keys_load(rows, 0), 0);
    TT_EQ_INT(keys_count(), 0);
    free(rows);
}

/* Other instances' counts (cluster sync) add to the local ones until they expire. */
static void test_remote_counts(void)
{
    keys_free();
    gg_time_fake(T0);
    struct key_limits lim = {.rpm = 5, .tpm = 100, .max_concurrent = 3};
    char s[KEY_SECRET_LEN + 1];
    int64_t id = mk("cluster", &lim, 0, s);
    struct key_ticket t, t2;
    struct key_denial d;
    keys_set_remote(id, 4, 0, 0, gg_now_ms() + 6000);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);             /* 4 elsewhere + 1 here = 5 */
    keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_RPM);
    TT_EQ_INT(d.retry_after, 2);
    struct key_usage_now u;
    keys_get(id, NULL, &u);
    TT_EQ_INT(u.cluster_minute_requests, 4);
    TT_EQ_INT(u.minute_requests, 1);
    TT_EQ_INT(u.total_requests, 1);
    /* concurrency: 2 running elsewhere */
    keys_set_remote(id, 0, 0, 2, gg_now_ms() + 6000);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    TT_EQ_INT(admit(s, NULL, &t2, &d), KEY_CONCURRENCY);
    keys_finish(&t, NULL, 1, 1, false, gg_now_ms());
    /* tokens: 97 elsewhere + 4 here */
    keys_set_remote(id, 0, 97, 0, gg_now_ms() + 6000);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_TPM);
    /* a stale report no longer counts */
    gg_time_advance(6001);
    TT_EQ_INT(admit(s, NULL, &t, &d), KEY_OK);
    keys_finish(&t, NULL, 0, 0, false, gg_now_ms());
    keys_get(id, NULL, &u);
    TT_EQ_INT(u.cluster_minute_tokens, 0);
}

int main(void)
{
    TT_RUN(test_basics);
    TT_RUN(test_disable_expiry_delete);
    TT_RUN(test_models);
    TT_RUN(test_rpm);
    TT_RUN(test_rpm_change_keeps_window);
    TT_RUN(test_tpm);
    TT_RUN(test_day_and_month_rollover);
    TT_RUN(test_day_quota_message);
    TT_RUN(test_concurrency_limit);
    TT_RUN(test_race);
    TT_RUN(test_usage_hook_and_load);
    TT_RUN(test_remote_counts);
    keys_free();
    gg_time_real();
    return TT_REPORT();
}
