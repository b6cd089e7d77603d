/* test_admin.c -- the admin API's pure parts split out of admin.c and
 * pool.c (issue 11): the /logs query filter (admin_logs_filter: every
 * accepted and refused form of limit, account_id, status, since, dialect) and the
 * pool's read-only views (pool_json.c: counts, list filter, masked JSON,
 * credential copies, pool_fill_row). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "admin_logs.h"
#include "gg_time.h"
#include "pool.h"
#include "store.h"
#include "tinytest.h"

static const char *filt(const char *limit, const char *acc, const char *status, const char *since,
                        struct store_reqlog_filter *f)
{
    const char *why = NULL;
    const char *bad = admin_logs_filter(limit, acc, status, since, "m", NULL, f, &why);
    TT_CHECK(!bad || (why && *why));
    return bad;
}

static void test_filter_defaults(void)
{
    struct store_reqlog_filter f;
    TT_CHECK(filt(NULL, NULL, NULL, NULL, &f) == NULL);
    TT_EQ_INT(f.limit, 100);
    TT_EQ_INT(f.account_id, 0);
    TT_EQ_INT(f.status_min, 0);
    TT_EQ_INT(f.status_max, 0);
    TT_EQ_INT(f.since, 0);
    TT_EQ_STR(f.model, "m");
    /* empty values are absent */
    TT_CHECK(filt("", "", "", "", &f) == NULL);
    TT_EQ_INT(f.limit, 100);
    TT_CHECK(admin_logs_filter(NULL, NULL, NULL, NULL, "", "", &f, &(const char *){NULL}) == NULL);
    TT_CHECK(f.model == NULL);
    TT_CHECK(f.dialect == NULL);
}

/* ?dialect= takes exactly the five dialect names; anything else is a 400
 * naming `dialect`. */
static void test_filter_dialect(void)
{
    struct store_reqlog_filter f;
    const char *why = NULL;
    static const char *const good[] = {"openai", "anthropic", "responses", "gemini", "images"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char copy[16];
        snprintf(copy, sizeof(copy), "%s", good[i]);
        TT_CHECK(admin_logs_filter(NULL, NULL, NULL, NULL, NULL, copy, &f, &why) == NULL);
        TT_EQ_STR(f.dialect, good[i]);
        TT_CHECK(f.dialect != copy);   /* static text, not the query buffer */
    }
    static const char *const bad[] = {"OpenAI", "anthropic ", " gemini", "claude", "openai,anthropic",
                                      "x", "responses\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        const char *b = admin_logs_filter(NULL, NULL, NULL, NULL, NULL, bad[i], &f, &why);
        TT_CHECK(b && strcmp(b, "dialect") == 0);
        TT_CHECK(why && strstr(why, "anthropic") != NULL);
        if (!b || strcmp(b, "dialect") != 0)
            fprintf(stderr, "  dialect=%s\n", bad[i]);
    }
    /* an earlier bad parameter is named first */
    TT_EQ_STR(admin_logs_filter("0", NULL, NULL, NULL, NULL, "bogus", &f, &why), "limit");
}

static void test_filter_good(void)
{
    struct store_reqlog_filter f;
    TT_CHECK(filt("1", "0", "2xx", NULL, &f) == NULL);
    TT_EQ_INT(f.limit, 1);
    TT_EQ_INT(f.status_min, 200);
    TT_EQ_INT(f.status_max, 299);
    TT_CHECK(filt("1000", "9223372036854775807", "429", NULL, &f) == NULL);
    TT_EQ_INT(f.limit, 1000);
    TT_EQ_INT(f.account_id, INT64_MAX);
    TT_EQ_INT(f.status_min, 429);
    TT_EQ_INT(f.status_max, 429);
    TT_CHECK(filt(NULL, NULL, "1xx", NULL, &f) == NULL);
    TT_EQ_INT(f.status_min, 100);
    TT_CHECK(filt(NULL, NULL, "5xx", NULL, &f) == NULL);
    TT_EQ_INT(f.status_max, 599);
    TT_CHECK(filt(NULL, NULL, "100", NULL, &f) == NULL && f.status_min == 100);
    TT_CHECK(filt(NULL, NULL, "599", NULL, &f) == NULL && f.status_max == 599);
    TT_CHECK(filt(NULL, NULL, NULL, "2026-09-21T10:00:00Z", &f) == NULL);
    TT_EQ_INT(f.since, gg_parse_time("2026-09-21T10:00:00Z"));
    TT_CHECK(f.since > 0);
    TT_CHECK(filt(NULL, NULL, NULL, "1970-01-01T00:00:00Z", &f) == NULL);
    TT_EQ_INT(f.since, 0);
}

static void test_filter_bad(void)
{
    struct store_reqlog_filter f;
    static const char *const bad_limit[] = {"0", "1001", "-1", "+5", " 5", "5 ", "abc", "1.5", "0x10", "1e3",
                                            "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_limit) / sizeof(bad_limit[0]); i++) {
        const char *b = filt(bad_limit[i], NULL, NULL, NULL, &f);
        TT_CHECK(b && strcmp(b, "limit") == 0);
        if (!b || strcmp(b, "limit") != 0)
            fprintf(stderr, "  limit=%s\n", bad_limit[i]);
    }
    static const char *const bad_acc[] = {"-1", "x", "1.0", "9223372036854775808", " 1"};
    for (size_t i = 0; i < sizeof(bad_acc) / sizeof(bad_acc[0]); i++) {
        const char *b = filt(NULL, bad_acc[i], NULL, NULL, &f);
        TT_CHECK(b && strcmp(b, "account_id") == 0);
    }
    static const char *const bad_status[] = {"99", "600", "0xx", "6xx", "2x", "2xxx", "xxx", "-200", "+200",
                                             "2XX", "abc"};
    for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
        const char *b = filt(NULL, NULL, bad_status[i], NULL, &f);
        TT_CHECK(b && strcmp(b, "status") == 0);
        if (!b || strcmp(b, "status") != 0)
            fprintf(stderr, "  status=%s\n", bad_status[i]);
    }
    const char *b = filt(NULL, NULL, NULL, "yesterday", &f);
    TT_CHECK(b && strcmp(b, "since") == 0);
    b = filt(NULL, NULL, NULL, "2026-13-01", &f);
    TT_CHECK(b && strcmp(b, "since") == 0);
    /* the first bad parameter is named */
    b = filt("x", "y", "z", "w", &f);
    TT_CHECK(b && strcmp(b, "limit") == 0);
    b = filt("5", "y", "z", "w", &f);
    TT_CHECK(b && strcmp(b, "account_id") == 0);
}

static void add_row(int64_t id, const char *name, const char *status, const char *reason, bool active)
{
    char idx[32];
    snprintf(idx, sizeof(idx), "%lld", (long long)(2000000 + id));
    struct store_account r = {0};
    r.id = id;
    r.name = (char *)name;
    r.secure_c_ses = "CSE.secret-value-1234567890";
    r.host_c_oses = "OSES.secret-value-0987654321";
    r.csesidx = idx;
    r.config_id = "cfg-x";
    r.proxy = "http://user:pass@proxy.example:3128";
    r.note = "n";
    r.is_active = active;
    r.status = (char *)status;
    r.reason = (char *)reason;
    r.cooldown_until = strcmp(status, "cooldown") == 0 ? gg_now_ms() + 60000 : 0;
    TT_CHECK(pool_add(&r, false) == 0);
}

static void test_pool_views(void)
{
    pool_init();
    add_row(1, "alpha", "active", NULL, true);
    add_row(2, "beta", "cooldown", "429 RESOURCE_EXHAUSTED", true);
    add_row(3, "gamma", "expired", "cookie expired", true);
    add_row(4, "delta", "active", NULL, false);     /* admin switch off: disabled */
    int total, act, cool, exp, dis;
    pool_counts(&total, &act, &cool, &exp, &dis);
    TT_EQ_INT(total, 4);
    TT_EQ_INT(act, 1);
    TT_EQ_INT(cool, 1);
    TT_EQ_INT(exp, 1);
    TT_EQ_INT(dis, 1);

    cJSON *l = pool_list_json("cooldown", NULL);
    TT_EQ_INT(cJSON_GetArraySize(l), 1);
    const cJSON *e = cJSON_GetArrayItem(l, 0);
    TT_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name")), "beta");
    TT_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "reason")), "429 RESOURCE_EXHAUSTED");
    cJSON_Delete(l);
    l = pool_list_json(NULL, "AMM");                /* case-insensitive name match */
    TT_EQ_INT(cJSON_GetArraySize(l), 1);
    cJSON_Delete(l);
    l = pool_list_json(NULL, NULL);
    TT_EQ_INT(cJSON_GetArraySize(l), 4);
    char *s = cJSON_PrintUnformatted(l);
    TT_CHECK(s && !strstr(s, "secret-value") && !strstr(s, "user:pass"));
    free(s);
    cJSON_Delete(l);

    struct account *a = pool_get(1);
    TT_CHECK(a != NULL);
    if (a) {
        struct creds c;
        TT_EQ_INT(pool_creds(a, &c), 0);
        TT_EQ_STR(c.secure_c_ses, "CSE.secret-value-1234567890");
        TT_EQ_STR(c.name, "alpha");
        pool_creds_free(&c);
        cJSON *j = pool_account_json(a);
        TT_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status")), "active");
        cJSON_Delete(j);
        pool_put(a);
    }

    struct store_account row = {0};
    TT_EQ_INT(pool_fill_row(3, &row), 0);
    TT_EQ_STR(row.status, "expired");
    TT_EQ_STR(row.reason, "cookie expired");
    store_account_clear(&row);
    TT_EQ_INT(pool_fill_row(99, &row), -1);
    TT_CHECK(row.status == NULL);

    /* an update replaces the editable strings and keeps the state */
    struct store_account up = {0};
    up.id = 2;
    up.name = "beta2";
    up.secure_c_ses = "CSE.other";
    up.csesidx = "2000002";
    up.config_id = "cfg-y";
    TT_EQ_INT(pool_update(&up), 0);
    a = pool_get(2);
    TT_CHECK(a && strcmp(a->name, "beta2") == 0 && a->host_c_oses == NULL && a->proxy == NULL &&
             a->status == ST_COOLDOWN);
    pool_put(a);
    up.id = 77;
    TT_EQ_INT(pool_update(&up), -1);
    pool_shutdown();
}

int main(void)
{
    TT_RUN(test_filter_defaults);
    TT_RUN(test_filter_good);
    TT_RUN(test_filter_bad);
    TT_RUN(test_filter_dialect);
    TT_RUN(test_pool_views);
    return TT_REPORT();
}
