/* test_keys_store.c -- client keys in the store (keys_store.c, the store's
 * generic query op, STORE_REC_KEY_USAGE through storeq): rows written on
 * create / update / delete with a store-assigned id and only the hash,
 * usage upsert-added per (key, day, model), totals merged back at load (a
 * restart keeps quotas), account tags saved and reloaded, query errors.
 * SQLite in a temp dir, then PostgreSQL when GEMGATE_TEST_PG_URL is set
 * (its key tables are emptied first: use a throwaway database). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acct_tags.h"
#include "gg_time.h"
#include "gg_util.h"
#include "keys.h"
#include "keys_store.h"
#include "store.h"
#include "store_internal.h"
#include "storeq.h"
#include "tinytest.h"

static const char *g_url;
static char g_dir[256];

static struct store *open_store(void)
{
    char err[256] = "";
    struct store *s = store_open(g_url, g_dir, NULL, NULL, err, sizeof(err));
    if (!s)
        fprintf(stderr, "store_open: %s\n", err);
    return s;
}

/* One text cell of a query (malloc'd) or NULL. */
static char *cell(struct store *s, const char *sql, const char *p1)
{
    struct store_rows r = {0};
    const char *v[1] = {p1};
    if (s->ops->query(s->be, sql, v, p1 ? 1 : 0, &r) != STORE_OK || r.nrows == 0) {
        store_rows_free(&r);
        return NULL;
    }
    char *out = r.cell[0] ? strdup(r.cell[0]) : NULL;
    store_rows_free(&r);
    return out;
}

static int64_t cell_int(struct store *s, const char *sql, const char *p1)
{
    char *c = cell(s, sql, p1);
    int64_t v = c ? strtoll(c, NULL, 10) : -1;
    free(c);
    return v;
}

static void clean(struct store *s)
{
    s->ops->query(s->be, "DELETE FROM key_usage", NULL, 0, NULL);
    s->ops->query(s->be, "DELETE FROM client_keys", NULL, 0, NULL);
    s->ops->query(s->be, "DELETE FROM gemini_accounts", NULL, 0, NULL);
}

static void test_query_op(void)
{
    struct store *s = open_store();
    TT_CHECK(s != NULL);
    if (!s)
        return;
    clean(s);
    struct store_rows r = {0};
    const char *v[2] = {"7", "x"};
    TT_EQ_INT(s->ops->query(s->be, "SELECT $1 + 1, $2, NULL", v, 2, &r), STORE_OK);
    TT_EQ_INT((long long)r.nrows, 1);
    TT_EQ_INT((long long)r.ncols, 3);
    TT_EQ_STR(r.cell[0], "8");
    TT_EQ_STR(r.cell[1], "x");
    TT_CHECK(r.cell[2] == NULL);
    store_rows_free(&r);
    TT_EQ_INT(s->ops->query(s->be, "SELEC nonsense", NULL, 0, &r), STORE_ERR);
    TT_CHECK(strlen(store_last_error()) > 0);
    /* a unique clash is a conflict */
    const char *k[4] = {"a", "gk-0000000", "h1", "1"};
    const char *ins = "INSERT INTO client_keys (name, prefix, hash, created_at) VALUES ($1, $2, $3, $4)";
    TT_EQ_INT(s->ops->query(s->be, ins, k, 4, NULL), STORE_OK);
    TT_EQ_INT(s->ops->query(s->be, ins, k, 4, NULL), STORE_CONFLICT);
    clean(s);
    store_close(s);
}

static void test_usage_records(void)
{
    struct store *s = open_store();
    TT_CHECK(s != NULL);
    if (!s)
        return;
    clean(s);
    struct storeq *q = storeq_start(s, 100);
    storeq_put_key_usage(q, 5, "2026-12-01", "gemini-2.5-flash", 1, 0, 10, 20);
    storeq_put_key_usage(q, 5, "2026-12-01", "gemini-2.5-flash", 1, 1, 1, 2);
    storeq_put_key_usage(q, 5, "2026-12-01", "gemini-2.5-pro", 1, 0, 3, 4);
    storeq_put_key_usage(q, 5, "2026-12-02", "gemini-2.5-flash", 1, 0, 5, 6);
    TT_EQ_INT(storeq_flush(q, 5000), 0);
    TT_EQ_INT(cell_int(s, "SELECT COUNT(*) FROM key_usage", NULL), 3);
    TT_EQ_INT(cell_int(s, "SELECT requests FROM key_usage WHERE day = '2026-12-01' AND model = $1",
                       "gemini-2.5-flash"), 2);
    TT_EQ_INT(cell_int(s, "SELECT errors FROM key_usage WHERE day = '2026-12-01' AND model = $1",
                       "gemini-2.5-flash"), 1);
    TT_EQ_INT(cell_int(s, "SELECT tokens_in + tokens_out FROM key_usage WHERE day = '2026-12-01' AND model = $1",
                       "gemini-2.5-flash"), 33);
    TT_EQ_INT((long long)storeq_dropped(q), 0);
    storeq_stop(q, 2000);
    clean(s);
    store_close(s);
}

static void test_keys_roundtrip(void)
{
    struct store *s = open_store();
    TT_CHECK(s != NULL);
    if (!s)
        return;
    clean(s);
    struct storeq *q = storeq_start(s, 1000);
    keys_free();
    TT_EQ_INT(keys_store_start(s, q, 0), 0);
    struct key_limits lim = {.rpm = 100, .tokens_day = 1000, .max_concurrent = 4};
    snprintf(lim.models, sizeof(lim.models), "gemini-*");
    snprintf(lim.group, sizeof(lim.group), "team-a");
    struct key_info k;
    char secret[KEY_SECRET_LEN + 1], err[160] = "";
    keys_store_begin();
    TT_EQ_INT(keys_create("alice", "note", 0, &lim, &k, secret, err, sizeof(err)), 0);
    keys_store_end();
    TT_CHECK(k.id > 0);
    char idb[24];
    snprintf(idb, sizeof(idb), "%lld", (long long)k.id);
    /* the row has the hash and the prefix, never the secret */
    char h[65];
    gg_sha256_hex(secret, strlen(secret), h);
    char *hash = cell(s, "SELECT hash FROM client_keys WHERE id = $1", idb);
    TT_EQ_STR(hash ? hash : "", h);
    free(hash);
    TT_EQ_INT(cell_int(s, "SELECT COUNT(*) FROM client_keys WHERE name LIKE '%' || $1 || '%' OR note LIKE '%' || $1 "
                          "|| '%' OR hash LIKE '%' || $1 || '%' OR prefix = $1", secret + 3), 0);
    TT_EQ_INT(cell_int(s, "SELECT tokens_day FROM client_keys WHERE id = $1", idb), 1000);
    char *grp = cell(s, "SELECT grp FROM client_keys WHERE id = $1", idb);
    TT_EQ_STR(grp ? grp : "", "team-a");
    free(grp);
    /* update and usage */
    bool off = false, on = true;
    int64_t exp = gg_now_ms() + 3600000;
    keys_store_begin();
    TT_EQ_INT(keys_update(k.id, "alice2", NULL, &exp, &off, NULL, err, sizeof(err)), 0);
    keys_store_end();
    char *nm = cell(s, "SELECT name FROM client_keys WHERE id = $1", idb);
    TT_EQ_STR(nm ? nm : "", "alice2");
    free(nm);
    TT_EQ_INT(cell_int(s, "SELECT expires_at FROM client_keys WHERE id = $1", idb), exp);
    char *en = cell(s, "SELECT enabled FROM client_keys WHERE id = $1", idb);
    TT_CHECK(en && (en[0] == '0' || en[0] == 'f'));
    free(en);
    keys_store_begin();
    keys_update(k.id, NULL, NULL, NULL, &on, NULL, err, sizeof(err));
    keys_store_end();
    struct key_ticket t;
    struct key_denial d;
    for (int i = 0; i < 3; i++) {
        TT_EQ_INT(keys_admit(secret, "gemini-2.5-flash", gg_now_ms(), &t, &d), KEY_OK);
        keys_finish(&t, "gemini-2.5-flash", 10, 5, i == 2, gg_now_ms());
    }
    struct key_day_usage *u = NULL;
    size_t n = 0;
    TT_EQ_INT(keys_store_usage(k.id, 7, &u, &n), 0);
    TT_EQ_INT((long long)n, 1);
    if (n == 1) {
        TT_EQ_STR(u[0].model, "gemini-2.5-flash");
        TT_EQ_INT(u[0].requests, 3);
        TT_EQ_INT(u[0].errors, 1);
        TT_EQ_INT(u[0].tokens_in, 30);
        TT_EQ_INT(u[0].tokens_out, 15);
    }
    free(u);
    /* a restart: the table and today's totals come back from the store */
    keys_store_stop();
    keys_free();
    TT_EQ_INT((long long)keys_count(), 0);
    TT_EQ_INT(keys_store_start(s, q, 0), 0);
    TT_EQ_INT((long long)keys_count(), 1);
    struct key_info k2;
    struct key_usage_now un;
    TT_EQ_INT(keys_get(k.id, &k2, &un), 0);
    TT_EQ_STR(k2.name, "alice2");
    TT_EQ_INT(k2.lim.rpm, 100);
    TT_EQ_INT(k2.lim.max_concurrent, 4);
    TT_EQ_STR(k2.lim.models, "gemini-*");
    TT_CHECK(k2.enabled);
    TT_EQ_INT(k2.expires_at, exp);
    TT_EQ_INT(un.day_tokens, 45);
    TT_EQ_INT(un.month_tokens, 45);
    TT_EQ_INT(un.day_requests, 3);
    TT_EQ_INT(un.day_errors, 1);
    TT_EQ_INT(keys_admit(secret, NULL, gg_now_ms(), &t, &d), KEY_OK);   /* same secret still works */
    keys_finish(&t, NULL, 0, 0, false, gg_now_ms());
    /* a second key gets its own store id; delete removes the row */
    struct key_info kb;
    char sb[KEY_SECRET_LEN + 1];
    keys_store_begin();
    TT_EQ_INT(keys_create("bob", NULL, 0, NULL, &kb, sb, err, sizeof(err)), 0);
    keys_store_end();
    TT_CHECK(kb.id > k.id);
    keys_store_begin();
    TT_EQ_INT(keys_delete(k.id), 0);
    keys_store_end();
    TT_EQ_INT(cell_int(s, "SELECT COUNT(*) FROM client_keys WHERE id = $1", idb), 0);
    /* a sync drops keys deleted elsewhere and adds new ones */
    s->ops->query(s->be, "DELETE FROM client_keys", NULL, 0, NULL);
    TT_EQ_INT(keys_store_sync(), 0);
    TT_EQ_INT((long long)keys_count(), 0);
    keys_store_stop();
    keys_free();
    storeq_stop(q, 2000);
    clean(s);
    store_close(s);
}

static void test_account_tags(void)
{
    struct store *s = open_store();
    TT_CHECK(s != NULL);
    if (!s)
        return;
    clean(s);
    struct store_account a = {.name = "x", .secure_c_ses = "CSE.x", .csesidx = "42", .config_id = "c",
                              .is_active = true};
    TT_EQ_INT(store_account_insert(s, &a), STORE_OK);
    char norm[ACCT_TAGS_MAX], err[160];
    TT_EQ_INT(acct_tags_normalise(" team-a , ,gpu ", norm, err, sizeof(err)), 0);
    TT_EQ_STR(norm, "team-a,gpu");
    TT_EQ_INT(acct_tags_normalise("bad tag", norm, err, sizeof(err)), -1);
    keys_free();
    acct_tags_free();
    TT_EQ_INT(keys_store_start(s, NULL, 0), 0);
    TT_EQ_INT(keys_store_set_account_tags(a.id, "team-a,gpu"), 0);
    char idb[24];
    snprintf(idb, sizeof(idb), "%lld", (long long)a.id);
    char *tags = cell(s, "SELECT tags FROM gemini_accounts WHERE id = $1", idb);
    TT_EQ_STR(tags ? tags : "", "team-a,gpu");
    free(tags);
    TT_CHECK(acct_tags_match(a.id, "gpu"));
    TT_CHECK(!acct_tags_match(a.id, "team"));
    TT_CHECK(acct_tags_match(a.id, ""));
    TT_EQ_INT((long long)acct_tags_count("team-a"), 1);
    acct_tags_free();
    TT_CHECK(!acct_tags_match(a.id, "gpu"));
    TT_EQ_INT(keys_store_sync(), 0);                /* back from the store */
    TT_CHECK(acct_tags_match(a.id, "gpu"));
    s->ops->query(s->be, "UPDATE gemini_accounts SET tags = ''", NULL, 0, NULL);
    TT_EQ_INT(keys_store_sync(), 0);                /* cleared elsewhere */
    TT_EQ_INT((long long)acct_tags_count("team-a"), 0);
    keys_store_stop();
    clean(s);
    store_close(s);
}

static void run_suite(void)
{
    TT_RUN(test_query_op);
    TT_RUN(test_usage_records);
    TT_RUN(test_keys_roundtrip);
    TT_RUN(test_account_tags);
}

int main(void)
{
    char tmpl[] = "/tmp/gemkeys-test-XXXXXX";
    char *base = mkdtemp(tmpl);
    if (!base)
        return 1;
    snprintf(g_dir, sizeof(g_dir), "%s/data", base);
    printf("# backend: sqlite\n");
    run_suite();
    const char *pg = getenv("GEMGATE_TEST_PG_URL");
    if (pg && *pg) {
        printf("# backend: postgresql\n");
        g_url = pg;
        run_suite();
    }
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", base);
    keys_free();
    acct_tags_free();
    return TT_REPORT();
}
