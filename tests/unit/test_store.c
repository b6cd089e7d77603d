/* test_store.c -- one conformance suite for every store backend.
 *
 * Runs against SQLite in a fresh temp dir, and then, when
 * GEMGATE_TEST_PG_URL is set, the same assertions against that PostgreSQL
 * database (its tables are emptied first: use a throwaway database, see
 * tests/lib/pg.sh).  Raw SQL (sqlite3 / libpq, bypassing the store) checks
 * what is really on disk, e.g. that secrets are sealed.
 *
 * The "store blocked" queue case holds an exclusive lock from the raw
 * connection (SQLite: BEGIN EXCLUSIVE; PostgreSQL: LOCK TABLE request_logs)
 * so the writer stalls mid-batch exactly as when the database hangs; the
 * "server down" case runs when GEMGATE_TEST_PG_STOP / _START name shell
 * commands that stop and start the server (run_store_tests.sh sets them).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "gg_b64.h"
#include "gg_time.h"
#include "store.h"
#include "store_internal.h"
#include "storeq.h"
#include "tinytest.h"

static const char *g_url;       /* NULL = SQLite in g_dir */
static char g_dir[256];
static char g_dbpath[300];
static bool g_pg;

#define COOKIE "SECRET-cookie-value-1234567890"
#define KEY1 "first secret key"
#define KEY2 "second secret key"

static struct store *open_store(const char *key, const char *old)
{
    char err[256] = "";
    struct store *s = store_open(g_url, g_dir, key, old, err, sizeof(err));

    if (!s)
        fprintf(stderr, "store_open: %s\n", err);
    return s;
}

/* ---- raw SQL, bypassing the store ------------------------------------- */

static int raw_exec(const char *sql)
{
    int rc = -1;

    if (g_pg) {
        PGconn *c = PQconnectdb(g_url);
        PGresult *r = PQexec(c, sql);

        rc = (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
                 ? 0 : -1;
        if (rc)
            fprintf(stderr, "raw_exec: %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
    } else {
        sqlite3 *db = NULL;

        sqlite3_open(g_dbpath, &db);
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
        sqlite3_close(db);
    }
    return rc;
}

/* First column of the first row of sql with $1 = id, malloc'd (or NULL). */
static char *raw_str(const char *sql, long long id)
{
    char idtxt[32];
    char *out = NULL;

    snprintf(idtxt, sizeof(idtxt), "%lld", id);
    if (g_pg) {
        const char *v[1] = { idtxt };
        PGconn *c = PQconnectdb(g_url);
        PGresult *r = PQexecParams(c, sql, strchr(sql, '$') ? 1 : 0, NULL, v, NULL, NULL, 0);

        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
            out = strdup(PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(c);
    } else {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;

        sqlite3_open(g_dbpath, &db);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
            if (strchr(sql, '$'))
                sqlite3_bind_int64(st, 1, id);
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
                out = strdup((const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    return out;
}

static long long raw_int(const char *sql, long long id)
{
    char *s = raw_str(sql, id);
    long long v = s ? strtoll(s, NULL, 10) : -1;

    free(s);
    return v;
}

static void reset_db(void)
{
    if (g_pg)
        raw_exec("TRUNCATE gemini_accounts, conv_sessions, request_logs, stats_hourly, "
                 "settings RESTART IDENTITY CASCADE");
    else
        raw_exec("DELETE FROM conv_sessions; DELETE FROM gemini_accounts; "
                 "DELETE FROM request_logs; DELETE FROM stats_hourly; DELETE FROM settings");
}

/* ---- fixtures ---------------------------------------------------------- */

static void fill_account(struct store_account *a, int i)
{
    static char name[64], cses[64], idx[64];

    memset(a, 0, sizeof(*a));
    snprintf(name, sizeof(name), "acct-%d", i);
    snprintf(cses, sizeof(cses), COOKIE "-%d", i);
    snprintf(idx, sizeof(idx), "idx-%d", i);
    a->name = name;
    a->secure_c_ses = cses;
    a->host_c_oses = (char *)"host-cookie";
    a->csesidx = idx;
    a->config_id = (char *)"cfg-1";
    a->is_active = true;
}

static void check_account_eq(const struct store_account *x, const struct store_account *y)
{
    TT_EQ_INT(x->id, y->id);
    TT_EQ_STR(x->name, y->name);
    TT_EQ_STR(x->secure_c_ses, y->secure_c_ses);
    TT_CHECK((x->host_c_oses == NULL && y->host_c_oses == NULL) ||
             (x->host_c_oses && y->host_c_oses && !strcmp(x->host_c_oses, y->host_c_oses)));
    TT_EQ_STR(x->csesidx, y->csesidx);
    TT_EQ_STR(x->config_id, y->config_id);
    TT_EQ_INT(x->is_active, y->is_active);
    TT_EQ_STR(x->status, y->status);
    TT_CHECK((x->reason == NULL && y->reason == NULL) ||
             (x->reason && y->reason && !strcmp(x->reason, y->reason)));
    TT_EQ_INT(x->cooldown_until, y->cooldown_until);
    TT_EQ_INT(x->fail_count, y->fail_count);
    TT_CHECK((x->proxy == NULL && y->proxy == NULL) ||
             (x->proxy && y->proxy && !strcmp(x->proxy, y->proxy)));
    TT_CHECK((x->note == NULL && y->note == NULL) ||
             (x->note && y->note && !strcmp(x->note, y->note)));
    TT_EQ_INT(x->expires_at, y->expires_at);
    TT_EQ_INT(x->last_used_at, y->last_used_at);
    TT_EQ_INT(x->created_at, y->created_at);
    TT_EQ_INT(x->updated_at, y->updated_at);
    TT_EQ_INT(x->requests_total, y->requests_total);
    TT_EQ_INT(x->errors_total, y->errors_total);
}

/* ---- tests ------------------------------------------------------------- */

static void test_migrations(void)
{
    struct store *s = open_store(NULL, NULL);

    TT_CHECK(s != NULL);
    if (!s)
        return;
    TT_EQ_STR(store_backend_name(s), g_pg ? "postgresql" : "sqlite");
    TT_EQ_INT(store_ping(s), STORE_OK);
    /* one version per file in sql/<backend>/ */
    const int want = g_pg ? (int)store_pg_nmigrations : (int)store_sqlite_nmigrations;
    TT_EQ_INT(store_schema_version(s), want);
    store_close(s);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM schema_version", 0), want);
    s = open_store(NULL, NULL);             /* re-open: a no-op */
    TT_CHECK(s != NULL);
    TT_EQ_INT(s ? store_schema_version(s) : -1, want);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM schema_version", 0), want);
    store_close(s);
    if (!g_pg) {
        struct stat st;

        TT_EQ_INT(stat(g_dbpath, &st), 0);
        TT_EQ_INT(st.st_mode & 0777, 0600);
        TT_EQ_INT(stat(g_dir, &st), 0);
        TT_EQ_INT(st.st_mode & 0777, 0700);
    }
    reset_db();
}

/* A database created by the schema before the request log kept dialect and
 * tool_calls (every migration up to the one named *_reqlog_dialect.sql,
 * applied raw, exactly as an older gemgated left it, with a row in it) is
 * upgraded in place by store_open: the old row reads back as openai / 0,
 * new rows keep their values, and the dialect filter works on both. */
static void test_migration_upgrade(void)
{
    const struct store_migration *m = g_pg ? store_pg_migrations : store_sqlite_migrations;
    const size_t nm = g_pg ? store_pg_nmigrations : store_sqlite_nmigrations;
    int target = 0;
    char sql[160];
    struct store *s;
    struct store_reqlog row, *out = NULL;
    struct store_reqlog_filter f;
    size_t n = 0;
    int64_t now = gg_now_ms();

    for (size_t i = 0; i < nm; i++)
        if (strstr(m[i].name, "_reqlog_dialect.sql"))
            target = m[i].version;
    TT_CHECK(target > 1);
    if (target <= 1)
        return;
    /* start from nothing */
    if (g_pg) {
        TT_EQ_INT(raw_exec("SET client_min_messages = warning; DROP TABLE IF EXISTS conv_sessions, "
                           "request_logs, stats_hourly, settings, gemini_accounts, schema_version, "
                           "client_keys, key_usage, key_rates CASCADE"), 0);
        TT_EQ_INT(raw_exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                           "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"), 0);
    } else {
        char p[340];
        unlink(g_dbpath);
        snprintf(p, sizeof(p), "%s-wal", g_dbpath);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", g_dbpath);
        unlink(p);
        TT_EQ_INT(raw_exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                           "applied_at INTEGER NOT NULL)"), 0);
    }
    for (size_t i = 0; i < nm && m[i].version < target; i++) {
        if (g_pg) {                         /* quiet the DROP ... IF EXISTS notices */
            size_t len = strlen(m[i].sql) + 64;
            char *q = malloc(len);

            TT_CHECK(q != NULL);
            if (!q)
                return;
            snprintf(q, len, "SET client_min_messages = warning; %s", m[i].sql);
            TT_EQ_INT(raw_exec(q), 0);
            free(q);
        } else {
            TT_EQ_INT(raw_exec(m[i].sql), 0);
        }
        snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version, applied_at) VALUES (%d, %s)",
                 m[i].version, g_pg ? "now()" : "0");
        TT_EQ_INT(raw_exec(sql), 0);
    }
    snprintf(sql, sizeof(sql), "INSERT INTO request_logs (request_id, ts, model, account_id, status) "
             "VALUES ('old-1', %lld, 'gemini-2.5-flash', 0, 200)", (long long)(now - 1000));
    TT_EQ_INT(raw_exec(sql), 0);
    TT_EQ_INT(raw_int("SELECT MAX(version) FROM schema_version", 0), target - 1);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM request_logs", 0), 1);
    TT_CHECK(raw_str("SELECT dialect FROM request_logs", 0) == NULL);  /* no such column yet */

    s = open_store(NULL, NULL);
    TT_CHECK(s != NULL);
    if (!s)
        return;
    TT_EQ_INT(store_schema_version(s), (int)m[nm - 1].version);
    memset(&row, 0, sizeof(row));
    row.request_id = (char *)"new-1";
    row.ts = now;
    row.model = (char *)"gemini-2.5-pro";
    row.status = 200;
    row.ttft_ms = -1;
    row.dialect = (char *)"anthropic";
    row.tool_calls = 3;
    TT_EQ_INT(store_reqlog_insert_batch(s, &row, 1), STORE_OK);
    memset(&f, 0, sizeof(f));
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, 2);
    if (n == 2) {
        TT_EQ_STR(out[0].request_id, "new-1");
        TT_EQ_STR(out[0].dialect, "anthropic");
        TT_EQ_INT(out[0].tool_calls, 3);
        TT_EQ_STR(out[1].request_id, "old-1");
        TT_EQ_STR(out[1].dialect, "openai");
        TT_EQ_INT(out[1].tool_calls, 0);
        TT_EQ_STR(out[1].model, "gemini-2.5-flash");
    }
    store_reqlog_list_free(out, n);
    f.dialect = "openai";
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, 1);
    if (n == 1)
        TT_EQ_STR(out[0].request_id, "old-1");
    store_reqlog_list_free(out, n);
    store_close(s);
    /* re-open: nothing left to apply, the rows stay */
    s = open_store(NULL, NULL);
    TT_EQ_INT(s ? store_schema_version(s) : -1, (int)m[nm - 1].version);
    store_close(s);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM schema_version", 0), (long long)nm);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM request_logs", 0), 2);
    reset_db();
}

static void test_crud(void)
{
    struct store *s = open_store(NULL, NULL);
    struct store_account a, b, got, *list = NULL;
    size_t n = 0;

    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    memset(&a, 0, sizeof(a));
    a.name = (char *)"full";
    a.secure_c_ses = (char *)COOKIE;
    a.host_c_oses = (char *)"hostc";
    a.csesidx = (char *)"idx-full";
    a.config_id = (char *)"cfg-full";
    a.is_active = false;
    a.status = (char *)"cooldown";
    a.reason = (char *)"rate limited";
    a.cooldown_until = 1700000000123;
    a.fail_count = 3;
    a.proxy = (char *)"socks5://127.0.0.1:1080";
    a.note = (char *)"a note";
    a.expires_at = 1800000000456;
    a.last_used_at = 1700000000789;
    a.created_at = 1600000000001;
    a.requests_total = 42;
    a.errors_total = 7;
    TT_EQ_INT(store_account_insert(s, &a), STORE_OK);
    TT_CHECK(a.id > 0);
    TT_EQ_INT(a.created_at, 1600000000001);
    TT_CHECK(a.updated_at > 1600000000001);
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_OK);
    check_account_eq(&a, &got);
    store_account_clear(&got);

    b = a;                                  /* a second, minimal row */
    b.csesidx = (char *)"idx-min";
    b.host_c_oses = NULL;
    b.status = NULL;
    b.reason = b.proxy = b.note = NULL;
    b.cooldown_until = b.expires_at = b.last_used_at = b.created_at = 0;
    b.fail_count = b.requests_total = b.errors_total = 0;
    TT_EQ_INT(store_account_insert(s, &b), STORE_OK);
    TT_EQ_INT(store_account_get(s, b.id, &got), STORE_OK);
    TT_CHECK(got.host_c_oses == NULL && got.proxy == NULL);
    TT_EQ_STR(got.status, "active");
    TT_EQ_INT(got.last_used_at, 0);
    TT_CHECK(got.created_at > 0);
    store_account_clear(&got);

    /* duplicate (csesidx, config_id) */
    TT_EQ_INT(store_account_insert(s, &b), STORE_CONFLICT);

    /* update every column */
    a.name = (char *)"renamed";
    a.secure_c_ses = (char *)"new-cookie";
    a.host_c_oses = NULL;
    a.csesidx = (char *)"idx-full2";
    a.config_id = (char *)"cfg-full2";
    a.is_active = true;
    a.status = (char *)"expired";
    a.reason = NULL;
    a.cooldown_until = 0;
    a.fail_count = 0;
    a.proxy = NULL;
    a.note = (char *)"n2";
    a.expires_at = 1900000000000;
    a.last_used_at = 1700000009999;
    a.requests_total = 100;
    a.errors_total = 1;
    TT_EQ_INT(store_account_update(s, &a), STORE_OK);
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_OK);
    a.updated_at = got.updated_at;
    check_account_eq(&a, &got);
    store_account_clear(&got);

    TT_EQ_INT(store_account_list(s, &list, &n), STORE_OK);
    TT_EQ_INT(n, 2);
    if (n == 2) {
        TT_EQ_INT(list[0].id, a.id);
        TT_EQ_STR(list[0].secure_c_ses, "new-cookie");
    }
    store_account_list_free(list, n);

    b.csesidx = (char *)"idx-full2";         /* update into a clash */
    b.config_id = (char *)"cfg-full2";
    TT_EQ_INT(store_account_update(s, &b), STORE_CONFLICT);
    TT_EQ_INT(store_account_delete(s, a.id), STORE_OK);
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_NOTFOUND);
    TT_EQ_INT(store_account_delete(s, a.id), STORE_NOTFOUND);
    a.id = 999999;
    TT_EQ_INT(store_account_update(s, &a), STORE_NOTFOUND);
    memset(&got, 0, sizeof(got));           /* missing required fields */
    TT_EQ_INT(store_account_insert(s, &got), STORE_ERR);
    TT_CHECK(strlen(store_last_error()) > 0);
    store_close(s);
    reset_db();
}

static void test_upsert(void)
{
    enum { N = 10000 };
    struct store *s = open_store(NULL, NULL);
    struct store_account a, got, *many;
    bool created = false, *cr;
    int *res;
    char (*idx)[24];
    int64_t t0, t1, first_id, first_created;
    size_t n = 0, nok = 0, ncr = 0;
    struct store_account *list = NULL;

    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    fill_account(&a, 1);
    TT_EQ_INT(store_account_upsert(s, &a, &created), STORE_OK);
    TT_CHECK(created);
    first_id = a.id;
    first_created = a.created_at;
    a.name = (char *)"second name";
    a.id = 0;
    a.created_at = 0;
    TT_EQ_INT(store_account_upsert(s, &a, &created), STORE_OK);
    TT_CHECK(!created);
    TT_EQ_INT(a.id, first_id);
    TT_EQ_INT(a.created_at, first_created);
    TT_EQ_INT(store_account_get(s, first_id, &got), STORE_OK);
    TT_EQ_STR(got.name, "second name");
    TT_EQ_INT(got.created_at, first_created);
    store_account_clear(&got);

    many = calloc(N + 1, sizeof(*many));
    res = calloc(N + 1, sizeof(*res));
    cr = calloc(N + 1, sizeof(*cr));
    idx = calloc(N + 1, sizeof(*idx));
    for (int i = 0; i < N; i++) {
        fill_account(&many[i], 0);
        snprintf(idx[i], sizeof(idx[i]), "bulk-%d", i);
        many[i].csesidx = idx[i];
        many[i].name = (char *)"bulk";
        many[i].secure_c_ses = (char *)COOKIE;
    }
    fill_account(&many[N], 1);              /* already there */
    many[N].csesidx = NULL;                 /* ... but invalid now */
    t0 = gg_mono_us();
    TT_EQ_INT(store_account_upsert_many(s, many, N + 1, res, cr), STORE_OK);
    t1 = gg_mono_us();
    printf("# %s: upsert_many of %d rows took %.1f ms\n", store_backend_name(s), N,
           (double)(t1 - t0) / 1000.0);
    for (int i = 0; i < N; i++) {
        nok += res[i] == STORE_OK;
        ncr += cr[i];
    }
    TT_EQ_INT(nok, N);
    TT_EQ_INT(ncr, N);
    TT_EQ_INT(res[N], STORE_ERR);
    TT_CHECK(many[N - 1].id > 0);
    /* again: all updates, same ids */
    int64_t last_id = many[N - 1].id;
    TT_EQ_INT(store_account_upsert_many(s, many, N, res, cr), STORE_OK);
    ncr = 0;
    for (int i = 0; i < N; i++)
        ncr += cr[i];
    TT_EQ_INT(ncr, 0);
    TT_EQ_INT(many[N - 1].id, last_id);
    TT_EQ_INT(store_account_list(s, &list, &n), STORE_OK);
    TT_EQ_INT(n, N + 1);
    if (n == N + 1)
        TT_EQ_STR(list[N].secure_c_ses, COOKIE);
    store_account_list_free(list, n);
    free(many);
    free(res);
    free(cr);
    free(idx);
    store_close(s);
    reset_db();
}

struct touch_arg {
    struct store *s;
    int64_t id;
};

static void *toucher(void *p)
{
    struct touch_arg *t = p;

    for (int i = 0; i < 100; i++)
        store_account_touch(t->s, t->id, 1000 + i, 1, i % 2);
    return NULL;
}

static void test_state_touch(void)
{
    struct store *s = open_store(NULL, NULL);
    struct store_account a, got;
    pthread_t th[4];
    struct touch_arg ta;

    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    fill_account(&a, 5);
    TT_EQ_INT(store_account_insert(s, &a), STORE_OK);
    TT_EQ_INT(store_account_set_state(s, a.id, "cooldown", "429 from upstream",
                                      1700000005000, 2), STORE_OK);
    TT_EQ_INT(store_account_touch(s, a.id, 1700000001000, 1, 0), STORE_OK);
    TT_EQ_INT(store_account_touch(s, a.id, 1700000000500, 2, 1), STORE_OK); /* older ts */
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_OK);
    TT_EQ_STR(got.status, "cooldown");
    TT_EQ_STR(got.reason, "429 from upstream");
    TT_EQ_INT(got.cooldown_until, 1700000005000);
    TT_EQ_INT(got.fail_count, 2);
    TT_EQ_INT(got.last_used_at, 1700000001000);
    TT_EQ_INT(got.requests_total, 3);
    TT_EQ_INT(got.errors_total, 1);
    store_account_clear(&got);
    TT_EQ_INT(store_account_set_state(s, 987654, "active", NULL, 0, 0), STORE_NOTFOUND);
    TT_EQ_INT(store_account_touch(s, 987654, 1, 1, 0), STORE_NOTFOUND);

    ta.s = s;                               /* concurrent callers */
    ta.id = a.id;
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, toucher, &ta);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_OK);
    TT_EQ_INT(got.requests_total, 403);
    TT_EQ_INT(got.errors_total, 201);
    store_account_clear(&got);
    store_close(s);
    reset_db();
}

static void test_sessions(void)
{
    struct store *s = open_store(NULL, NULL);
    struct store_account a;
    struct store_session ss, got;

    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    fill_account(&a, 6);
    TT_EQ_INT(store_account_insert(s, &a), STORE_OK);
    memset(&ss, 0, sizeof(ss));
    ss.conv_key = (char *)"abc123";
    ss.account_id = a.id;
    ss.session_name = (char *)"sessions/1";
    ss.model = (char *)"gemini-2.5-pro";
    ss.turns = 1;
    ss.updated_at = 1000;
    TT_EQ_INT(store_session_put(s, &ss), STORE_OK);
    ss.turns = 2;
    ss.updated_at = 2000;
    TT_EQ_INT(store_session_put(s, &ss), STORE_OK);
    TT_EQ_INT(store_session_get(s, "abc123", &got), STORE_OK);
    TT_EQ_STR(got.session_name, "sessions/1");
    TT_EQ_STR(got.model, "gemini-2.5-pro");
    TT_EQ_INT(got.turns, 2);
    TT_EQ_INT(got.account_id, a.id);
    TT_EQ_INT(got.updated_at, 2000);
    store_session_clear(&got);
    ss.conv_key = (char *)"old";
    ss.updated_at = 500;
    TT_EQ_INT(store_session_put(s, &ss), STORE_OK);
    ss.account_id = 777777;                 /* unknown account */
    ss.conv_key = (char *)"orphan";
    TT_EQ_INT(store_session_put(s, &ss), STORE_NOTFOUND);
    TT_EQ_INT(store_session_purge(s, 1000), STORE_OK);
    TT_EQ_INT(store_session_get(s, "old", &got), STORE_NOTFOUND);
    TT_EQ_INT(store_session_get(s, "abc123", &got), STORE_OK);
    store_session_clear(&got);
    TT_EQ_INT(store_session_delete(s, "abc123"), STORE_OK);
    TT_EQ_INT(store_session_get(s, "abc123", &got), STORE_NOTFOUND);
    ss.account_id = a.id;                   /* cascade on account delete */
    TT_EQ_INT(store_session_put(s, &ss), STORE_OK);
    TT_EQ_INT(store_account_delete(s, a.id), STORE_OK);
    TT_EQ_INT(store_session_get(s, "orphan", &got), STORE_NOTFOUND);
    store_close(s);
    reset_db();
}

#define HOUR 3600000LL

static void test_reqlog_stats(void)
{
    enum { N = 60 };
    struct store *s = open_store(NULL, NULL);
    struct store_reqlog r[N], *out = NULL;
    struct store_reqlog_filter f;
    struct store_stat_row *st = NULL;
    char ids[N][16];
    int64_t base = (gg_now_ms() / HOUR - 5) * HOUR, deleted = 0;
    size_t n = 0;

    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    memset(r, 0, sizeof(r));
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "req-%d", i);
        r[i].request_id = ids[i];
        r[i].ts = base + (i < 30 ? 0 : 2 * HOUR) + i * 1000;  /* two hours */
        r[i].model = (char *)(i % 2 ? "gemini-2.5-pro" : "gemini-2.5-flash");
        r[i].account_id = i % 3 + 1;
        r[i].status = i % 10 == 0 ? 429 : i % 10 == 1 ? 502 : 200;
        r[i].error_kind = i % 10 == 0 ? (char *)"rate_limit" : i % 10 == 1 ? (char *)"upstream" : NULL;
        r[i].latency_ms = i < 50 ? 90 : 2500;   /* 50 fast, 10 slow */
        r[i].ttft_ms = i % 2 ? 40 : -1;
        r[i].bytes_out = 100;
        r[i].prompt_tokens = 10;
        r[i].completion_tokens = 20;
        r[i].stream = i % 2;
        /* i%4: 0 anthropic, 1 responses, 2 none (stored as openai), 3 gemini */
        r[i].dialect = i % 4 == 0 ? (char *)"anthropic" : i % 4 == 1 ? (char *)"responses"
                     : i % 4 == 2 ? NULL : (char *)"gemini";
        r[i].tool_calls = i % 5;
    }
    TT_EQ_INT(store_reqlog_insert_batch(s, r, N / 2), STORE_OK);
    TT_EQ_INT(store_reqlog_insert_batch(s, r + N / 2, N / 2), STORE_OK);

    memset(&f, 0, sizeof(f));               /* default: newest first, 100 */
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, N);
    if (n == N) {
        TT_EQ_STR(out[0].request_id, "req-59");
        TT_EQ_INT(out[0].latency_ms, 2500);
        TT_EQ_INT(out[0].ttft_ms, 40);
        TT_EQ_INT(out[0].stream, 1);
        TT_EQ_STR(out[0].model, "gemini-2.5-pro");
        TT_EQ_INT(out[0].bytes_out, 100);
        TT_EQ_INT(out[0].prompt_tokens, 10);
        TT_EQ_INT(out[0].completion_tokens, 20);
        TT_CHECK(out[0].error_kind == NULL);
        TT_EQ_STR(out[0].dialect, "gemini");
        TT_EQ_INT(out[0].tool_calls, 4);
        TT_EQ_STR(out[N - 1].request_id, "req-0");
        TT_EQ_STR(out[N - 1].error_kind, "rate_limit");
        TT_EQ_INT(out[N - 1].status, 429);
        TT_EQ_STR(out[N - 1].dialect, "anthropic");
        TT_EQ_INT(out[N - 1].tool_calls, 0);
        /* every row round-trips both fields */
        for (size_t k = 0; k < n; k++) {
            int i = N - 1 - (int)k;
            TT_EQ_STR(out[k].request_id, ids[i]);
            TT_EQ_STR(out[k].dialect, r[i].dialect ? r[i].dialect : "openai");
            TT_EQ_INT(out[k].tool_calls, i % 5);
        }
    }
    store_reqlog_list_free(out, n);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM request_logs WHERE dialect = 'openai'", 0), N / 4);
    TT_EQ_INT(raw_int("SELECT SUM(tool_calls) FROM request_logs", 0), (N / 5) * (0 + 1 + 2 + 3 + 4));

    /* dialect filter, alone and with the others */
    memset(&f, 0, sizeof(f));
    f.dialect = "anthropic";
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, N / 4);
    for (size_t k = 0; k < n; k++)
        TT_EQ_STR(out[k].dialect, "anthropic");
    if (n == N / 4) {
        TT_EQ_STR(out[0].request_id, "req-56");
        TT_EQ_STR(out[n - 1].request_id, "req-0");
    }
    store_reqlog_list_free(out, n);
    f.dialect = "openai";                   /* the NULL-dialect rows */
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, N / 4);
    if (n > 0)
        TT_EQ_STR(out[0].request_id, "req-58");
    store_reqlog_list_free(out, n);
    f.dialect = "images";
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, 0);
    store_reqlog_list_free(out, n);
    f.dialect = "anthropic";                /* i%4==0 is even: flash only */
    f.model = "gemini-2.5-pro";
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, 0);
    store_reqlog_list_free(out, n);
    f.model = "gemini-2.5-flash";
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, N / 4);
    store_reqlog_list_free(out, n);
    f.model = NULL;
    f.status_min = 400;                     /* i in {0, 20, 40} */
    f.status_max = 599;
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, 3);
    store_reqlog_list_free(out, n);
    memset(&f, 0, sizeof(f));
    f.dialect = "gemini";
    f.account_id = 1;                       /* i%4==3 and i%3==0: 3, 15, 27, 39, 51 */
    f.limit = 2;
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, 2);
    if (n == 2) {
        TT_EQ_STR(out[0].request_id, "req-51");
        TT_EQ_STR(out[1].request_id, "req-39");
    }
    store_reqlog_list_free(out, n);
    memset(&f, 0, sizeof(f));
    f.account_id = 2;
    f.model = "gemini-2.5-pro";             /* odd i with i%3==1: 1,7,13,...: 10 */
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, 10);
    store_reqlog_list_free(out, n);
    memset(&f, 0, sizeof(f));
    f.status_min = 400;
    f.status_max = 599;
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, 12);
    store_reqlog_list_free(out, n);
    memset(&f, 0, sizeof(f));
    f.since = base + HOUR;
    f.limit = 5;
    TT_EQ_INT(store_reqlog_query(s, &f, &out, &n), STORE_OK);
    TT_EQ_INT(n, 5);
    store_reqlog_list_free(out, n);

    /* statistics by model */
    TT_EQ_INT(store_stats_query(s, base, "model", &st, &n), STORE_OK);
    TT_EQ_INT(n, 2);
    if (n == 2) {
        TT_EQ_STR(st[0].model, "gemini-2.5-flash");
        TT_EQ_INT(st[0].account_id, 0);
        TT_EQ_INT(st[0].requests, 30);
        TT_EQ_INT(st[0].errors, 6);         /* i%10==0 are even: 6 rate limits */
        TT_EQ_INT(st[0].err_rate_limit, 6);
        TT_EQ_INT(st[1].err_upstream, 6);
        TT_EQ_INT(st[0].prompt_tokens, 300);
        TT_EQ_INT(st[0].completion_tokens, 600);
        TT_EQ_INT(store_hist_percentile(st[0].lat_hist, 50), 100);
        TT_EQ_INT(store_hist_percentile(st[0].lat_hist, 99), 3000);
        TT_EQ_INT(store_hist_percentile(st[0].ttft_hist, 50), -1);   /* no tokens */
        TT_EQ_INT(store_hist_percentile(st[1].ttft_hist, 90), 50);
    }
    store_stats_free(st, n);
    TT_EQ_INT(store_stats_query(s, base, "account", &st, &n), STORE_OK);
    TT_EQ_INT(n, 3);
    if (n == 3) {
        TT_CHECK(st[0].model == NULL);
        TT_EQ_INT(st[0].account_id, 1);
        TT_EQ_INT(st[0].requests + st[1].requests + st[2].requests, N);
    }
    store_stats_free(st, n);
    TT_EQ_INT(store_stats_query(s, base, "model,account", &st, &n), STORE_OK);
    TT_EQ_INT(n, 6);
    store_stats_free(st, n);
    TT_EQ_INT(store_stats_query(s, base + 2 * HOUR, "model", &st, &n), STORE_OK);
    TT_EQ_INT(n, 2);
    if (n == 2)
        TT_EQ_INT(st[0].requests + st[1].requests, 30);
    store_stats_free(st, n);
    TT_EQ_INT(store_stats_query(s, base, "bogus", &st, &n), STORE_ERR);

    /* purge the first hour in batches of 7; totals stay */
    TT_EQ_INT(store_reqlog_purge(s, base + HOUR, 7, &deleted), STORE_OK);
    TT_EQ_INT(deleted, 30);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM request_logs", 0), 30);
    TT_EQ_INT(store_stats_query(s, base, "model", &st, &n), STORE_OK);
    TT_EQ_INT(n == 2 ? st[0].requests + st[1].requests : -1, N);
    store_stats_free(st, n);

    /* percentile helper on its own */
    int64_t h[STORE_HIST_BUCKETS] = { 0 };
    TT_EQ_INT(store_hist_percentile(h, 50), -1);
    h[0] = 1;
    h[STORE_HIST_BUCKETS - 1] = 1;
    TT_EQ_INT(store_hist_percentile(h, 50), 10);
    TT_EQ_INT(store_hist_percentile(h, 100), INT64_MAX);
    TT_EQ_INT(store_hist_percentile(h, 0), 10);
    store_close(s);
    reset_db();
}

static void test_kv(void)
{
    struct store *s = open_store(NULL, NULL);
    char *v = NULL;

    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    TT_EQ_INT(store_kv_get(s, "admin_key_hash", &v), STORE_NOTFOUND);
    TT_EQ_INT(store_kv_put(s, "admin_key_hash", "abc"), STORE_OK);
    TT_EQ_INT(store_kv_put(s, "admin_key_hash", "def"), STORE_OK);
    TT_EQ_INT(store_kv_get(s, "admin_key_hash", &v), STORE_OK);
    TT_EQ_STR(v, "def");
    free(v);
    store_close(s);
    reset_db();
}

static void test_encryption(void)
{
    struct store *s = open_store(NULL, NULL);
    struct store_account a, p, got, *list = NULL;
    char *raw;
    int64_t cnt = 0;
    size_t n = 0;

    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    fill_account(&p, 70);                   /* written before encryption */
    p.secure_c_ses = (char *)"plain-" COOKIE;
    TT_EQ_INT(store_account_insert(s, &p), STORE_OK);
    store_close(s);

    s = open_store(KEY1, NULL);
    fill_account(&a, 71);
    a.secure_c_ses = (char *)COOKIE;
    a.host_c_oses = (char *)"HOST-" COOKIE;
    TT_EQ_INT(store_account_insert(s, &a), STORE_OK);
    raw = raw_str("SELECT secure_c_ses FROM gemini_accounts WHERE id = $1", a.id);
    TT_CHECK(raw && strncmp(raw, "enc:v2:", 7) == 0 && !strstr(raw, COOKIE));
    free(raw);
    raw = raw_str("SELECT host_c_oses FROM gemini_accounts WHERE id = $1", a.id);
    TT_CHECK(raw && strncmp(raw, "enc:v2:", 7) == 0 && !strstr(raw, "HOST-"));
    free(raw);
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_OK);
    TT_EQ_STR(got.secure_c_ses, COOKIE);
    TT_EQ_STR(got.host_c_oses, "HOST-" COOKIE);
    store_account_clear(&got);
    TT_EQ_INT(store_account_get(s, p.id, &got), STORE_OK);  /* plaintext still reads */
    TT_EQ_STR(got.secure_c_ses, "plain-" COOKIE);
    store_account_clear(&got);
    store_close(s);

    s = open_store(KEY2, "unrelated, " KEY1);       /* rotation */
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_OK);
    TT_EQ_STR(got.secure_c_ses, COOKIE);
    store_account_clear(&got);
    TT_EQ_INT(store_reencrypt(s, &cnt), STORE_OK);
    TT_EQ_INT(cnt, 2);
    TT_EQ_INT(store_reencrypt(s, &cnt), STORE_OK);
    TT_EQ_INT(cnt, 0);
    raw = raw_str("SELECT secure_c_ses FROM gemini_accounts WHERE id = $1", p.id);
    TT_CHECK(raw && strncmp(raw, "enc:v2:", 7) == 0 && !strstr(raw, COOKIE));
    free(raw);
    store_close(s);

    s = open_store(KEY2, NULL);             /* old key no longer needed */
    TT_EQ_INT(store_account_list(s, &list, &n), STORE_OK);
    TT_EQ_INT(n, 2);
    store_account_list_free(list, n);
    store_close(s);

    s = open_store(KEY1, NULL);             /* wrong key: an error, not garbage */
    memset(&got, 0, sizeof(got));
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_ERR);
    TT_CHECK(got.secure_c_ses == NULL);
    TT_CHECK(strstr(store_last_error(), "no key") != NULL);
    TT_CHECK(strstr(store_last_error(), COOKIE) == NULL);
    TT_EQ_INT(store_account_list(s, &list, &n), STORE_ERR);
    TT_CHECK(list == NULL && n == 0);
    store_close(s);

    s = open_store(NULL, NULL);             /* no key at all */
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_ERR);
    TT_EQ_INT(store_reencrypt(s, &cnt), STORE_ERR);
    store_close(s);
    reset_db();
}

/* A format-v1 sealed value, as gemgate wrote before v2 (key = SHA-256 of the
 * secret, kid = first 8 hex of SHA-256 of the key, AAD = header). */
static char *seal_v1(const char *secret, const char *plain)
{
    unsigned char key[32], kh[32], raw[256];
    unsigned int l = 0;
    char kid[9], hdr[32], *out;
    int len = 0;
    size_t pl = strlen(plain);
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();

    EVP_Digest(secret, strlen(secret), key, &l, EVP_sha256(), NULL);
    EVP_Digest(key, 32, kh, &l, EVP_sha256(), NULL);
    for (int i = 0; i < 4; i++)
        snprintf(kid + 2 * i, 3, "%02x", kh[i]);
    snprintf(hdr, sizeof(hdr), "enc:v1:%s", kid);
    memset(raw, 7, 12);
    EVP_EncryptInit_ex(cx, EVP_aes_256_gcm(), NULL, NULL, NULL);
    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL);
    EVP_EncryptInit_ex(cx, NULL, NULL, key, raw);
    EVP_EncryptUpdate(cx, NULL, &len, (const unsigned char *)hdr, (int)strlen(hdr));
    EVP_EncryptUpdate(cx, raw + 12, &len, (const unsigned char *)plain, (int)pl);
    EVP_EncryptFinal_ex(cx, raw + 12 + len, &len);
    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, 16, raw + 12 + pl);
    EVP_CIPHER_CTX_free(cx);
    out = malloc(strlen(hdr) + 2 + gg_b64_enc_len(12 + pl + 16));
    sprintf(out, "%s:", hdr);
    gg_b64_encode(raw, 12 + pl + 16, out + strlen(out));
    return out;
}

static void set_col(const char *col, const char *val, long long id)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), "UPDATE gemini_accounts SET %s = %s%s%s WHERE id = %lld", col,
             val ? "'" : "", val ? val : "NULL", val ? "'" : "", id);
    TT_EQ_INT(raw_exec(sql), 0);
}

/* Issue 16 (8, 6): ciphertexts are bound to their account and field, the
 * proxy URL is sealed too, and v1 records written before still read. */
static void test_secret_binding(void)
{
    struct store *s = open_store(KEY1, NULL);
    struct store_account a, b, got;
    char *raw, *v1, *ca, *cb;
    int64_t cnt = 0;

    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    memset(&a, 0, sizeof(a));
    a.name = (char *)"bind-a";
    a.secure_c_ses = (char *)"COOKIE-OF-A-123";
    a.csesidx = (char *)"bind-1";
    a.config_id = (char *)"cfg-b";
    a.proxy = (char *)"http://user:pa55word@proxy.example:3128";
    a.is_active = true;
    b = a;
    b.name = (char *)"bind-b";
    b.secure_c_ses = (char *)"COOKIE-OF-B-456";
    b.csesidx = (char *)"bind-2";
    b.proxy = NULL;
    TT_EQ_INT(store_account_insert(s, &a), STORE_OK);
    TT_EQ_INT(store_account_insert(s, &b), STORE_OK);
    raw = raw_str("SELECT proxy FROM gemini_accounts WHERE id = $1", a.id);
    TT_CHECK(raw && strncmp(raw, "enc:v2:", 7) == 0 && !strstr(raw, "pa55word") && !strstr(raw, "proxy.example"));
    free(raw);
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_OK);
    TT_EQ_STR(got.proxy, "http://user:pa55word@proxy.example:3128");
    TT_EQ_STR(got.secure_c_ses, "COOKIE-OF-A-123");
    store_account_clear(&got);
    TT_EQ_INT(store_account_get(s, b.id, &got), STORE_OK);
    TT_CHECK(got.proxy == NULL);
    store_account_clear(&got);

    /* the kid is not the v1 one (SHA-256 of SHA-256 of the key): a dump
     * does not let a guess be tested with two hashes */
    v1 = seal_v1(KEY1, "x");
    raw = raw_str("SELECT secure_c_ses FROM gemini_accounts WHERE id = $1", a.id);
    TT_CHECK(raw && v1 && strncmp(raw + 7, v1 + 7, 8) != 0);
    free(raw);
    free(v1);

    /* swap the two accounts' cookie ciphertexts: both fail to open */
    ca = raw_str("SELECT secure_c_ses FROM gemini_accounts WHERE id = $1", a.id);
    cb = raw_str("SELECT secure_c_ses FROM gemini_accounts WHERE id = $1", b.id);
    TT_CHECK(ca && cb);
    set_col("secure_c_ses", cb, a.id);
    set_col("secure_c_ses", ca, b.id);
    memset(&got, 0, sizeof(got));
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_ERR);
    TT_CHECK(strstr(store_last_error(), "failed authentication") != NULL);
    TT_CHECK(strstr(store_last_error(), "COOKIE-OF") == NULL);
    TT_EQ_INT(store_account_get(s, b.id, &got), STORE_ERR);
    /* moved to another field of its own row: fails too */
    set_col("secure_c_ses", "plain-again", b.id);
    set_col("host_c_oses", cb, b.id);
    TT_EQ_INT(store_account_get(s, b.id, &got), STORE_ERR);
    free(ca);
    free(cb);

    /* a v1 record (written by an older gemgate) still reads, and
     * --reencrypt moves it to v2 */
    v1 = seal_v1(KEY1, "OLD-FORMAT-COOKIE");
    set_col("secure_c_ses", v1, b.id);
    set_col("host_c_oses", NULL, b.id);
    set_col("proxy", "http://plain-proxy:8080", b.id);
    set_col("secure_c_ses", "x", a.id);
    TT_EQ_INT(store_account_get(s, b.id, &got), STORE_OK);
    TT_EQ_STR(got.secure_c_ses, "OLD-FORMAT-COOKIE");
    TT_EQ_STR(got.proxy, "http://plain-proxy:8080");
    store_account_clear(&got);
    TT_EQ_INT(store_reencrypt(s, &cnt), STORE_OK);
    TT_EQ_INT(cnt, 2);
    raw = raw_str("SELECT secure_c_ses FROM gemini_accounts WHERE id = $1", b.id);
    TT_CHECK(raw && strncmp(raw, "enc:v2:", 7) == 0);
    free(raw);
    raw = raw_str("SELECT proxy FROM gemini_accounts WHERE id = $1", b.id);
    TT_CHECK(raw && strncmp(raw, "enc:v2:", 7) == 0 && !strstr(raw, "plain-proxy"));
    free(raw);
    TT_EQ_INT(store_account_get(s, b.id, &got), STORE_OK);
    TT_EQ_STR(got.secure_c_ses, "OLD-FORMAT-COOKIE");
    TT_EQ_STR(got.proxy, "http://plain-proxy:8080");
    store_account_clear(&got);
    free(v1);
    store_close(s);
    reset_db();
}

static void test_queue(void)
{
    struct store *s = open_store(NULL, NULL);
    struct store_account a, got;
    struct store_reqlog r;
    struct store_session ss, sg;
    struct storeq *q;
    char id[32];

    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    fill_account(&a, 80);
    TT_EQ_INT(store_account_insert(s, &a), STORE_OK);
    q = storeq_start(s, 200);
    TT_CHECK(q != NULL);
    memset(&r, 0, sizeof(r));
    r.model = (char *)"gemini-2.5-flash";
    r.account_id = a.id;
    r.status = 200;
    r.ttft_ms = -1;
    for (int i = 0; i < 50; i++) {
        char dialect[16];

        snprintf(id, sizeof(id), "q-%d", i);
        snprintf(dialect, sizeof(dialect), "%s", i % 2 ? "responses" : "gemini");
        r.request_id = id;
        r.ts = gg_now_ms();
        r.dialect = dialect;                /* the queue copies it */
        r.tool_calls = i % 2 ? 2 : 0;
        storeq_put_reqlog(q, &r);
        memset(dialect, 'x', sizeof(dialect) - 1);
        storeq_put_touch(q, a.id, 5000 + i, 1, 0);
    }
    r.dialect = NULL;
    r.tool_calls = 0;
    storeq_put_state(q, a.id, "cooldown", "test", 123456, 1);
    memset(&ss, 0, sizeof(ss));
    ss.conv_key = (char *)"qconv";
    ss.account_id = a.id;
    ss.session_name = (char *)"sessions/q";
    storeq_put_session(q, &ss);
    storeq_put_touch(q, 424242, 1, 1, 0);   /* unknown account: harmless */
    TT_EQ_INT(storeq_flush(q, 10000), 0);
    TT_EQ_INT(storeq_depth(q), 0);
    TT_EQ_INT(storeq_dropped(q), 0);
    TT_CHECK(storeq_store_ok(q));
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM request_logs", 0), 50);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM request_logs WHERE dialect = 'responses' AND "
                      "tool_calls = 2", 0), 25);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM request_logs WHERE dialect = 'gemini' AND "
                      "tool_calls = 0", 0), 25);
    TT_EQ_INT(store_account_get(s, a.id, &got), STORE_OK);
    TT_EQ_INT(got.requests_total, 50);
    TT_EQ_INT(got.last_used_at, 5049);
    TT_EQ_STR(got.status, "cooldown");
    store_account_clear(&got);
    TT_EQ_INT(store_session_get(s, "qconv", &sg), STORE_OK);
    store_session_clear(&sg);
    storeq_put_session_delete(q, "qconv");
    TT_EQ_INT(storeq_flush(q, 10000), 0);
    TT_EQ_INT(store_session_get(s, "qconv", &sg), STORE_NOTFOUND);

    /* store blocked: the writer stalls holding a batch; the cap drops the
     * excess; after the lock goes away everything admitted lands */
    {
        sqlite3 *db = NULL;
        PGconn *c = NULL;
        PGresult *pr;

        if (g_pg) {
            c = PQconnectdb(g_url);
            pr = PQexec(c, "BEGIN; LOCK TABLE request_logs IN ACCESS EXCLUSIVE MODE");
            TT_EQ_INT(PQresultStatus(pr), PGRES_COMMAND_OK);
            PQclear(pr);
        } else {
            sqlite3_open(g_dbpath, &db);
            TT_EQ_INT(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
        }
        for (int i = 0; i < 60; i++) {
            snprintf(id, sizeof(id), "b-%d", i);
            r.request_id = id;
            storeq_put_reqlog(q, &r);
        }
        usleep(600 * 1000);                 /* writer took the 60, now stuck */
        for (int i = 0; i < 200; i++) {
            snprintf(id, sizeof(id), "c-%d", i);
            r.request_id = id;
            storeq_put_reqlog(q, &r);
        }
        TT_EQ_INT(storeq_dropped(q), 60);
        TT_EQ_INT(storeq_depth(q), 200);
        TT_EQ_INT(storeq_flush(q, 300), -1);   /* still blocked */
        if (g_pg) {
            pr = PQexec(c, "COMMIT");
            PQclear(pr);
            PQfinish(c);
        } else {
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            sqlite3_close(db);
        }
        TT_EQ_INT(storeq_flush(q, 20000), 0);
        TT_EQ_INT(raw_int("SELECT COUNT(*) FROM request_logs", 0), 50 + 60 + 140);
    }
    storeq_stop(q, 5000);
    store_close(s);
    reset_db();
}

/* A write acknowledged by store_account_insert survives SIGKILL. */
static void test_durability(void)
{
    int pfd[2];
    pid_t pid;
    char buf[64] = "";
    ssize_t got = 0;
    long long id;
    struct store *s;
    struct store_account a;

    TT_EQ_INT(pipe(pfd), 0);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        struct store *cs;
        struct store_account ca;

        close(pfd[0]);
        cs = open_store(NULL, NULL);
        fill_account(&ca, 90);
        if (cs && store_account_insert(cs, &ca) == STORE_OK)
            dprintf(pfd[1], "%lld\n", (long long)ca.id);
        for (;;)
            pause();                        /* never closes, never exits */
    }
    close(pfd[1]);
    while (got < (ssize_t)sizeof(buf) - 1) {
        ssize_t k = read(pfd[0], buf + got, sizeof(buf) - 1 - (size_t)got);

        if (k <= 0)
            break;
        got += k;
        if (memchr(buf, '\n', (size_t)got))
            break;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pfd[0]);
    id = strtoll(buf, NULL, 10);
    TT_CHECK(id > 0);
    s = open_store(NULL, NULL);
    TT_EQ_INT(s ? store_account_get(s, id, &a) : STORE_ERR, STORE_OK);
    if (s)
        store_account_clear(&a);
    store_close(s);
    reset_db();
}

/* PostgreSQL stopped under a running store (needs GEMGATE_TEST_PG_STOP and
 * GEMGATE_TEST_PG_START): ping fails promptly, the queue holds records and
 * they land once the server is back. */
static void test_pg_down(void)
{
    const char *stop = getenv("GEMGATE_TEST_PG_STOP"), *start = getenv("GEMGATE_TEST_PG_START");
    struct store *s;
    struct storeq *q;
    struct store_reqlog r;
    int64_t t0;

    if (!g_pg || !stop || !*stop || !start || !*start) {
        printf("# pg down test skipped (set GEMGATE_TEST_PG_STOP/START)\n");
        return;
    }
    s = open_store(NULL, NULL);
    if (!s) {
        TT_CHECK(s != NULL);
        return;
    }
    q = storeq_start(s, 1000);
    TT_EQ_INT(system(stop), 0);
    t0 = gg_mono_ms();
    TT_EQ_INT(store_ping(s), STORE_ERR);
    TT_EQ_INT(store_ping(s), STORE_ERR);
    printf("# pg down: two pings failed in %lld ms (%s)\n", (long long)(gg_mono_ms() - t0),
           store_last_error());
    TT_CHECK(gg_mono_ms() - t0 < 5000);
    TT_CHECK(strstr(store_last_error(), "password") == NULL);
    memset(&r, 0, sizeof(r));
    r.request_id = (char *)"down-1";
    r.ts = gg_now_ms();
    r.status = 200;
    r.ttft_ms = -1;
    storeq_put_reqlog(q, &r);
    TT_EQ_INT(storeq_flush(q, 1500), -1);
    TT_CHECK(!storeq_store_ok(q));
    TT_EQ_INT(system(start), 0);
    TT_EQ_INT(storeq_flush(q, 20000), 0);
    TT_CHECK(storeq_store_ok(q));
    TT_EQ_INT(store_ping(s), STORE_OK);
    TT_EQ_INT(raw_int("SELECT COUNT(*) FROM request_logs", 0), 1);
    TT_EQ_INT(storeq_dropped(q), 0);
    storeq_stop(q, 2000);
    store_close(s);
    reset_db();
}

static void run_suite(void)
{
    TT_RUN(test_migrations);
    TT_RUN(test_migration_upgrade);
    TT_RUN(test_crud);
    TT_RUN(test_upsert);
    TT_RUN(test_state_touch);
    TT_RUN(test_sessions);
    TT_RUN(test_reqlog_stats);
    TT_RUN(test_kv);
    TT_RUN(test_encryption);
    TT_RUN(test_secret_binding);
    TT_RUN(test_queue);
    TT_RUN(test_durability);
    TT_RUN(test_pg_down);
}

int main(void)
{
    const char *pg = getenv("GEMGATE_TEST_PG_URL");
    char tmpl[] = "/tmp/gemstore-test-XXXXXX";
    char *base = mkdtemp(tmpl);
    char cmdline[600];

    if (!base) {
        perror("mkdtemp");
        return 1;
    }
    /* a not-yet-existing data dir: store_open must create it 0700 */
    snprintf(g_dir, sizeof(g_dir), "%s/data", base);
    snprintf(g_dbpath, sizeof(g_dbpath), "%s/gemgate.db", g_dir);
    if (pg && *pg) {
        g_url = pg;
        g_pg = true;
        printf("# backend: postgresql\n");
        /* start from an empty database */
        raw_exec("SET client_min_messages = warning; DROP TABLE IF EXISTS conv_sessions, request_logs, stats_hourly, settings, "
                 "gemini_accounts, schema_version CASCADE");
    } else {
        printf("# backend: sqlite (%s)\n", g_dir);
    }
    run_suite();
    snprintf(cmdline, sizeof(cmdline), "rm -rf '%s'", base);
    if (system(cmdline) != 0)
        fprintf(stderr, "could not remove %s\n", base);
    return TT_REPORT();
}
