/* store_sqlite.c -- SQLite backend of the store (see store_internal.h).
 *
 * One connection (SQLITE_OPEN_NOMUTEX) guarded by one mutex: every op takes
 * the mutex for its whole duration, so statements, transactions and the
 * prepared-statement cache are never shared by two threads at once.
 * Journal WAL, synchronous=NORMAL (a committed transaction survives a crash
 * of the process; only a power loss can lose the last commits), foreign
 * keys on, busy_timeout 5000 ms for other processes using the file.
 *
 * Times are INTEGER Unix milliseconds; 0 in C is NULL in the database.
 * The database file is created with mode 0600 and its directory with 0700;
 * an existing file (or -wal/-shm) readable by others is chmod-ed to 0600
 * with a warning.
 */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "gg_log.h"
#include "gg_time.h"

enum {
    Q_ACC_LIST, Q_ACC_GET, Q_ACC_INSERT, Q_ACC_UPDATE, Q_ACC_DELETE, Q_ACC_FIND,
    Q_ACC_UPSERT_UPD, Q_ACC_SECRETS, Q_TOUCH, Q_STATE, Q_SESS_PUT, Q_SESS_GET, Q_SESS_DEL,
    Q_SESS_PURGE, Q_LOG_INSERT, Q_LOG_QUERY, Q_LOG_PURGE, Q_STATS_PRUNE, Q_KV_GET, Q_KV_PUT,
    Q_STATS_UPSERT, Q_KEY_USAGE, Q_COUNT
};

#define ACC_COLS "id, name, secure_c_ses, host_c_oses, csesidx, config_id, is_active, " \
    "status, reason, cooldown_until, fail_count, proxy, note, expires_at, last_used_at, " \
    "created_at, updated_at, requests_total, errors_total"

/* Bind order of the account columns (?1..?18) shared by insert and update. */
#define ACC_BIND "name, secure_c_ses, host_c_oses, csesidx, config_id, is_active, " \
    "status, reason, cooldown_until, fail_count, proxy, note, expires_at, last_used_at, " \
    "created_at, updated_at, requests_total, errors_total"

static const char *const sql_text[Q_COUNT] = {
    [Q_ACC_LIST] = "SELECT " ACC_COLS " FROM gemini_accounts ORDER BY id",
    [Q_ACC_GET] = "SELECT " ACC_COLS " FROM gemini_accounts WHERE id = ?1",
    [Q_ACC_INSERT] = "INSERT INTO gemini_accounts (" ACC_BIND ") VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    [Q_ACC_UPDATE] = "UPDATE gemini_accounts SET name = ?1, secure_c_ses = ?2, "
        "host_c_oses = ?3, csesidx = ?4, config_id = ?5, is_active = ?6, status = ?7, "
        "reason = ?8, cooldown_until = ?9, fail_count = ?10, proxy = ?11, note = ?12, "
        "expires_at = ?13, last_used_at = ?14, updated_at = ?16, requests_total = ?17, "
        "errors_total = ?18 WHERE id = ?19",
    [Q_ACC_DELETE] = "DELETE FROM gemini_accounts WHERE id = ?1",
    [Q_ACC_FIND] = "SELECT id, created_at FROM gemini_accounts "
        "WHERE csesidx = ?1 AND config_id = ?2",
    [Q_ACC_UPSERT_UPD] = "UPDATE gemini_accounts SET name = ?1, secure_c_ses = ?2, "
        "host_c_oses = ?3, is_active = ?6, status = ?7, reason = ?8, cooldown_until = ?9, "
        "fail_count = ?10, proxy = ?11, note = ?12, expires_at = ?13, updated_at = ?16 "
        "WHERE id = ?19",
    [Q_ACC_SECRETS] = "UPDATE gemini_accounts SET secure_c_ses = ?4, host_c_oses = ?5, proxy = ?7 "
        "WHERE id = ?1 AND secure_c_ses = ?2 AND host_c_oses IS ?3 AND proxy IS ?6",
    [Q_TOUCH] = "UPDATE gemini_accounts SET "
        "last_used_at = CASE WHEN ?2 > COALESCE(last_used_at, 0) THEN ?2 ELSE last_used_at END, "
        "requests_total = requests_total + ?3, errors_total = errors_total + ?4 WHERE id = ?1",
    [Q_STATE] = "UPDATE gemini_accounts SET status = ?2, reason = ?3, cooldown_until = ?4, "
        "fail_count = ?5, updated_at = ?6 WHERE id = ?1",
    [Q_SESS_PUT] = "INSERT INTO conv_sessions (conv_key, account_id, session_name, model, "
        "turns, updated_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6 "
        "WHERE EXISTS (SELECT 1 FROM gemini_accounts WHERE id = ?2) "
        "ON CONFLICT (conv_key) DO UPDATE SET account_id = excluded.account_id, "
        "session_name = excluded.session_name, model = excluded.model, "
        "turns = excluded.turns, updated_at = excluded.updated_at",
    [Q_SESS_GET] = "SELECT conv_key, account_id, session_name, model, turns, updated_at "
        "FROM conv_sessions WHERE conv_key = ?1",
    [Q_SESS_DEL] = "DELETE FROM conv_sessions WHERE conv_key = ?1",
    [Q_SESS_PURGE] = "DELETE FROM conv_sessions WHERE updated_at < ?1",
    [Q_LOG_INSERT] = "INSERT INTO request_logs (request_id, ts, model, account_id, status, "
        "error_kind, latency_ms, ttft_ms, bytes_out, prompt_tokens, completion_tokens, stream) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [Q_LOG_QUERY] = "SELECT request_id, ts, model, account_id, status, error_kind, latency_ms, "
        "ttft_ms, bytes_out, prompt_tokens, completion_tokens, stream FROM request_logs "
        "WHERE ts >= ?1 AND (?2 = 0 OR account_id = ?2) AND (?3 IS NULL OR model = ?3) "
        "AND status BETWEEN ?4 AND ?5 ORDER BY ts DESC, id DESC LIMIT ?6",
    [Q_LOG_PURGE] = "DELETE FROM request_logs WHERE id IN "
        "(SELECT id FROM request_logs WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
    [Q_STATS_PRUNE] = "DELETE FROM stats_hourly WHERE hour < ?1",
    [Q_KV_GET] = "SELECT value FROM settings WHERE key = ?1",
    [Q_KV_PUT] = "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    [Q_STATS_UPSERT] = NULL,    /* built at open by store_sql_stats_upsert('?') */
    [Q_KEY_USAGE] = "INSERT INTO key_usage (key_id, day, model, requests, errors, tokens_in, "
        "tokens_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key_id, day, model) DO UPDATE "
        "SET requests = requests + excluded.requests, errors = errors + excluded.errors, "
        "tokens_in = tokens_in + excluded.tokens_in, tokens_out = tokens_out + excluded.tokens_out",
};

struct sq {
    sqlite3 *db;
    pthread_mutex_t mu;
    char *stats_sql;
    sqlite3_stmt *st[Q_COUNT];
};

/* ---- helpers (call with the mutex held) -------------------------------- */

static int sq_fail(struct sq *q, const char *what)
{
    store_set_error("sqlite: %s: %s", what, sqlite3_errmsg(q->db));
    return STORE_ERR;
}

/* Cached prepared statement, reset and unbound; NULL on error. */
static sqlite3_stmt *stmt(struct sq *q, int id)
{
    const char *sql = id == Q_STATS_UPSERT ? q->stats_sql : sql_text[id];

    if (!q->st[id]) {
        if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->st[id], NULL) !=
            SQLITE_OK) {
            sq_fail(q, "prepare");
            return NULL;
        }
    }
    return q->st[id];
}

static void done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_ms(sqlite3_stmt *st, int i, int64_t v)    /* 0 = NULL */
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static char *col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return t ? strdup((const char *)t) : NULL;
}

static int exec(struct sq *q, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        store_set_error("sqlite: %s", msg ? msg : sqlite3_errmsg(q->db));
        sqlite3_free(msg);
        return STORE_ERR;
    }
    return STORE_OK;
}

/* Run a statement that returns no rows.  STORE_CONFLICT on a unique clash. */
static int step_done(struct sq *q, sqlite3_stmt *st, const char *what)
{
    int r = sqlite3_step(st);

    if (r == SQLITE_DONE || r == SQLITE_ROW)
        return STORE_OK;
    if (sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_UNIQUE ||
        sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
        store_set_error("sqlite: %s: duplicate key", what);
        return STORE_CONFLICT;
    }
    return sq_fail(q, what);
}

static void bind_account(sqlite3_stmt *st, const struct store_account *a)
{
    bind_str(st, 1, a->name);
    bind_str(st, 2, a->secure_c_ses);
    bind_str(st, 3, a->host_c_oses);
    bind_str(st, 4, a->csesidx);
    bind_str(st, 5, a->config_id);
    sqlite3_bind_int(st, 6, a->is_active ? 1 : 0);
    bind_str(st, 7, a->status);
    bind_str(st, 8, a->reason);
    bind_ms(st, 9, a->cooldown_until);
    sqlite3_bind_int64(st, 10, a->fail_count);
    bind_str(st, 11, a->proxy);
    bind_str(st, 12, a->note);
    bind_ms(st, 13, a->expires_at);
    bind_ms(st, 14, a->last_used_at);
    bind_ms(st, 15, a->created_at);
    sqlite3_bind_int64(st, 16, a->updated_at);
    sqlite3_bind_int64(st, 17, a->requests_total);
    sqlite3_bind_int64(st, 18, a->errors_total);
}

static void read_account(sqlite3_stmt *st, struct store_account *a)
{
    a->id = sqlite3_column_int64(st, 0);
    a->name = col_str(st, 1);
    a->secure_c_ses = col_str(st, 2);
    a->host_c_oses = col_str(st, 3);
    a->csesidx = col_str(st, 4);
    a->config_id = col_str(st, 5);
    a->is_active = sqlite3_column_int(st, 6) != 0;
    a->status = col_str(st, 7);
    a->reason = col_str(st, 8);
    a->cooldown_until = sqlite3_column_int64(st, 9);
    a->fail_count = sqlite3_column_int64(st, 10);
    a->proxy = col_str(st, 11);
    a->note = col_str(st, 12);
    a->expires_at = sqlite3_column_int64(st, 13);
    a->last_used_at = sqlite3_column_int64(st, 14);
    a->created_at = sqlite3_column_int64(st, 15);
    a->updated_at = sqlite3_column_int64(st, 16);
    a->requests_total = sqlite3_column_int64(st, 17);
    a->errors_total = sqlite3_column_int64(st, 18);
}

/* ---- open / migrations ------------------------------------------------- */

/* mkdir -p with mode 0700 for the components we create. */
static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(path))
        return n == 0 ? 0 : -1;
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int migrate(struct sq *q)
{
    sqlite3_stmt *st = NULL;
    int have = 0, rc = STORE_ERR;

    if (exec(q, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "applied_at INTEGER NOT NULL)") != STORE_OK)
        return STORE_ERR;
    /* IMMEDIATE: a second process opening at the same time waits here
     * (busy_timeout) and then sees the versions this one recorded. */
    if (exec(q, "BEGIN IMMEDIATE") != STORE_OK)
        return STORE_ERR;
    if (sqlite3_prepare_v2(q->db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1,
                           &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        sq_fail(q, "read schema_version");
        goto out;
    }
    have = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    for (size_t i = 0; i < store_sqlite_nmigrations; i++) {
        const struct store_migration *m = &store_sqlite_migrations[i];

        if (m->version <= have)
            continue;
        if (exec(q, m->sql) != STORE_OK) {
            store_set_error("sqlite: migration %s failed: %s", m->name, store_last_error());
            goto out;
        }
        if (sqlite3_prepare_v2(q->db, "INSERT INTO schema_version (version, applied_at) "
                               "VALUES (?1, ?2)", -1, &st, NULL) != SQLITE_OK) {
            sq_fail(q, "record migration");
            goto out;
        }
        sqlite3_bind_int(st, 1, m->version);
        sqlite3_bind_int64(st, 2, gg_now_ms());
        if (sqlite3_step(st) != SQLITE_DONE) {
            sq_fail(q, "record migration");
            goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    rc = exec(q, "COMMIT");
out:
    sqlite3_finalize(st);
    if (rc != STORE_OK)
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void sq_close(void *be)
{
    struct sq *q = be;

    if (!q)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_close(q->db);
    pthread_mutex_destroy(&q->mu);
    free(q->stats_sql);
    free(q);
}

static void *sq_open(const char *url, const char *data_dir, char *err, size_t errlen)
{
    char path[PATH_MAX], dir[PATH_MAX];
    struct sq *q = NULL;
    char *slash;
    int fd;

    if (url && *url) {
        if (strncmp(url, "sqlite://", 9) != 0 || url[9] != '/') {
            snprintf(err, errlen, "sqlite url must be sqlite:///absolute/path.db");
            return NULL;
        }
        snprintf(path, sizeof(path), "%s", url + 9);
    } else {
        snprintf(path, sizeof(path), "%s/gemgate.db", data_dir && *data_dir ? data_dir : ".");
    }
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (make_dirs(dir) != 0) {
            snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
            return NULL;
        }
    }
    /* create the file ourselves so it gets 0600 (SQLite copies the mode to
     * the -wal and -shm files) */
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open database %s: %s", path, strerror(errno));
        return NULL;
    }
    /* an existing file (and its -wal/-shm) keeps whatever mode it had:
     * tighten it to 0600, it holds cookies */
    for (int k = 0; k < 3; k++) {
        char side[4200];
        struct stat sb;
        int f = fd;
        snprintf(side, sizeof(side), "%s%s", path, k == 0 ? "" : k == 1 ? "-wal" : "-shm");
        if (k > 0)
            f = open(side, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (f < 0)
            continue;
        if (fstat(f, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077)) {
            if (fchmod(f, 0600) == 0)
                GG_WARN("store: %s had mode %03o; changed to 0600 (it holds account cookies)", side,
                        (unsigned)(sb.st_mode & 0777));
            else
                GG_WARN("store: %s has mode %03o and cannot be changed to 0600: %s", side,
                        (unsigned)(sb.st_mode & 0777), strerror(errno));
        }
        if (k > 0)
            close(f);
    }
    close(fd);

    q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&q->mu, NULL);
    q->stats_sql = store_sql_stats_upsert('?');
    if (!q->stats_sql) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: cannot open %s: %s", path,
                 q->db ? sqlite3_errmsg(q->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(q->db, 5000);
    if (exec(q, "PRAGMA journal_mode=WAL") != STORE_OK ||
        exec(q, "PRAGMA synchronous=NORMAL") != STORE_OK ||
        exec(q, "PRAGMA foreign_keys=ON") != STORE_OK || migrate(q) != STORE_OK) {
        snprintf(err, errlen, "%s: %s", path, store_last_error());
        goto fail;
    }
    return q;
fail:
    sq_close(q);
    return NULL;
}

/* ---- ops --------------------------------------------------------------- */

static int sq_ping(void *be)
{
    struct sq *q = be;
    int rc;

    pthread_mutex_lock(&q->mu);
    rc = exec(q, "SELECT 1");
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_schema_version(void *be)
{
    struct sq *q = be;
    sqlite3_stmt *st = NULL;
    int v = -1;

    pthread_mutex_lock(&q->mu);
    if (sqlite3_prepare_v2(q->db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1,
                           &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    else
        sq_fail(q, "schema version");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->mu);
    return v;
}

static int sq_account_list(void *be, struct store_account **out, size_t *n)
{
    struct sq *q = be;
    struct store_account *list = NULL, *tmp;
    size_t cnt = 0, cap = 0;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_ACC_LIST);
    if (!st)
        goto out;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 64;
            tmp = realloc(list, cap * sizeof(*list));
            if (!tmp) {
                store_set_error("out of memory");
                goto out;
            }
            list = tmp;
        }
        memset(&list[cnt], 0, sizeof(list[cnt]));
        read_account(st, &list[cnt++]);
    }
    if (r != SQLITE_DONE) {
        sq_fail(q, "list accounts");
        goto out;
    }
    rc = STORE_OK;
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    if (rc != STORE_OK) {
        store_account_list_free(list, cnt);
        list = NULL;
        cnt = 0;
    }
    *out = list;
    *n = cnt;
    return rc;
}

static int sq_account_get(void *be, int64_t id, struct store_account *out)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_ACC_GET);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        read_account(st, out);
        rc = STORE_OK;
    } else if (r == SQLITE_DONE) {
        store_set_error("account %lld not found", (long long)id);
        rc = STORE_NOTFOUND;
    } else {
        sq_fail(q, "get account");
    }
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_account_insert(void *be, struct store_account *a)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_ACC_INSERT);
    if (!st)
        goto out;
    bind_account(st, a);
    rc = step_done(q, st, "insert account");
    if (rc == STORE_OK)
        a->id = sqlite3_last_insert_rowid(q->db);
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_account_update(void *be, const struct store_account *a)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_ACC_UPDATE);
    if (!st)
        goto out;
    bind_account(st, a);
    sqlite3_bind_int64(st, 19, a->id);
    rc = step_done(q, st, "update account");
    if (rc == STORE_OK && sqlite3_changes(q->db) == 0) {
        store_set_error("account %lld not found", (long long)a->id);
        rc = STORE_NOTFOUND;
    }
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_account_delete(void *be, int64_t id)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_ACC_DELETE);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    rc = step_done(q, st, "delete account");
    if (rc == STORE_OK && sqlite3_changes(q->db) == 0) {
        store_set_error("account %lld not found", (long long)id);
        rc = STORE_NOTFOUND;
    }
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int upsert_one(struct sq *q, struct store_account *a, bool *created)
{
    sqlite3_stmt *st = stmt(q, Q_ACC_FIND);
    int r, rc = STORE_ERR;

    if (!st)
        return STORE_ERR;
    bind_str(st, 1, a->csesidx);
    bind_str(st, 2, a->config_id);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        a->id = sqlite3_column_int64(st, 0);
        a->created_at = sqlite3_column_int64(st, 1);
    } else if (r != SQLITE_DONE) {
        done(st);
        return sq_fail(q, "find account");
    }
    done(st);
    if (r == SQLITE_ROW) {
        *created = false;
        st = stmt(q, Q_ACC_UPSERT_UPD);
        if (!st)
            return STORE_ERR;
        bind_account(st, a);
        sqlite3_bind_int64(st, 19, a->id);
        rc = step_done(q, st, "update account");
    } else {
        *created = true;
        st = stmt(q, Q_ACC_INSERT);
        if (!st)
            return STORE_ERR;
        bind_account(st, a);
        rc = step_done(q, st, "insert account");
        if (rc == STORE_OK)
            a->id = sqlite3_last_insert_rowid(q->db);
    }
    done(st);
    return rc;
}

static int sq_account_upsert_many(void *be, struct store_account *a, size_t n, int *results,
                                  bool *created)
{
    struct sq *q = be;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    if (exec(q, "BEGIN IMMEDIATE") != STORE_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (results[i] != STORE_OK)
            continue;
        results[i] = upsert_one(q, &a[i], &created[i]);
        if (results[i] == STORE_ERR) {
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
    }
    rc = exec(q, "COMMIT");
    if (rc != STORE_OK)
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
out:
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_account_set_secrets(void *be, int64_t id, const char *old_scs, const char *old_hcs,
                                  const char *old_proxy, const char *new_scs, const char *new_hcs,
                                  const char *new_proxy)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_ACC_SECRETS);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    bind_str(st, 2, old_scs);
    bind_str(st, 3, old_hcs);
    bind_str(st, 4, new_scs);
    bind_str(st, 5, new_hcs);
    bind_str(st, 6, old_proxy);
    bind_str(st, 7, new_proxy);
    rc = step_done(q, st, "rewrite secrets");
    if (rc == STORE_OK && sqlite3_changes(q->db) == 0)
        rc = STORE_NOTFOUND;
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* One record inside the apply transaction. */
static int apply_one(struct sq *q, const struct store_rec *r)
{
    const struct store_reqlog *l;
    sqlite3_stmt *st = NULL;
    int rc = STORE_ERR;
    bool count_rows = true;

    switch (r->kind) {
    case STORE_REC_TOUCH:
        st = stmt(q, Q_TOUCH);
        if (!st)
            return STORE_ERR;
        sqlite3_bind_int64(st, 1, r->u.touch.account_id);
        sqlite3_bind_int64(st, 2, r->u.touch.last_used_at);
        sqlite3_bind_int64(st, 3, r->u.touch.req_delta);
        sqlite3_bind_int64(st, 4, r->u.touch.err_delta);
        break;
    case STORE_REC_STATE:
        st = stmt(q, Q_STATE);
        if (!st)
            return STORE_ERR;
        sqlite3_bind_int64(st, 1, r->u.state.account_id);
        bind_str(st, 2, r->u.state.status ? r->u.state.status : "active");
        bind_str(st, 3, r->u.state.reason);
        bind_ms(st, 4, r->u.state.cooldown_until);
        sqlite3_bind_int64(st, 5, r->u.state.fail_count);
        sqlite3_bind_int64(st, 6, r->u.state.updated_at ? r->u.state.updated_at : gg_now_ms());
        break;
    case STORE_REC_SESSION:
        st = stmt(q, Q_SESS_PUT);
        if (!st)
            return STORE_ERR;
        bind_str(st, 1, r->u.session.conv_key);
        sqlite3_bind_int64(st, 2, r->u.session.account_id);
        bind_str(st, 3, r->u.session.session_name);
        bind_str(st, 4, r->u.session.model);
        sqlite3_bind_int64(st, 5, r->u.session.turns);
        sqlite3_bind_int64(st, 6, r->u.session.updated_at ? r->u.session.updated_at
                                                          : gg_now_ms());
        break;
    case STORE_REC_SESSION_DEL:
        st = stmt(q, Q_SESS_DEL);
        if (!st)
            return STORE_ERR;
        bind_str(st, 1, r->u.session.conv_key);
        break;
    case STORE_REC_REQLOG:
        l = &r->u.reqlog;
        st = stmt(q, Q_LOG_INSERT);
        if (!st)
            return STORE_ERR;
        bind_str(st, 1, l->request_id);
        sqlite3_bind_int64(st, 2, l->ts);
        bind_str(st, 3, l->model);
        sqlite3_bind_int64(st, 4, l->account_id);
        sqlite3_bind_int(st, 5, l->status);
        bind_str(st, 6, l->error_kind);
        sqlite3_bind_int64(st, 7, l->latency_ms);
        sqlite3_bind_int64(st, 8, l->ttft_ms);
        sqlite3_bind_int64(st, 9, l->bytes_out);
        sqlite3_bind_int64(st, 10, l->prompt_tokens);
        sqlite3_bind_int64(st, 11, l->completion_tokens);
        sqlite3_bind_int(st, 12, l->stream ? 1 : 0);
        count_rows = false;
        break;
    case STORE_REC_KEY_USAGE:
        st = stmt(q, Q_KEY_USAGE);
        if (!st)
            return STORE_ERR;
        sqlite3_bind_int64(st, 1, r->u.key_usage.key_id);
        bind_str(st, 2, r->u.key_usage.day);
        bind_str(st, 3, r->u.key_usage.model);
        sqlite3_bind_int64(st, 4, r->u.key_usage.requests);
        sqlite3_bind_int64(st, 5, r->u.key_usage.errors);
        sqlite3_bind_int64(st, 6, r->u.key_usage.tokens_in);
        sqlite3_bind_int64(st, 7, r->u.key_usage.tokens_out);
        count_rows = false;
        break;
    }
    rc = step_done(q, st, "apply");
    if (rc == STORE_OK && count_rows && sqlite3_changes(q->db) == 0)
        rc = STORE_NOTFOUND;
    done(st);
    return rc;
}

static int sq_apply(void *be, const struct store_rec *recs, size_t n,
                    const struct store_stat_delta *d, size_t nd, int *results)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    if (exec(q, "BEGIN IMMEDIATE") != STORE_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        int r = apply_one(q, &recs[i]);

        if (r == STORE_ERR || r == STORE_CONFLICT)
            goto fail;
        if (results)
            results[i] = r;
    }
    for (size_t i = 0; i < nd; i++) {
        int k = 1;

        st = stmt(q, Q_STATS_UPSERT);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, k++, d[i].hour);
        bind_str(st, k++, d[i].model);
        sqlite3_bind_int64(st, k++, d[i].account_id);
        sqlite3_bind_int64(st, k++, d[i].requests);
        sqlite3_bind_int64(st, k++, d[i].errors);
        sqlite3_bind_int64(st, k++, d[i].err_rate_limit);
        sqlite3_bind_int64(st, k++, d[i].err_auth);
        sqlite3_bind_int64(st, k++, d[i].err_upstream);
        sqlite3_bind_int64(st, k++, d[i].err_client);
        sqlite3_bind_int64(st, k++, d[i].prompt_tokens);
        sqlite3_bind_int64(st, k++, d[i].completion_tokens);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            sqlite3_bind_int64(st, k++, d[i].lat_hist[j]);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            sqlite3_bind_int64(st, k++, d[i].ttft_hist[j]);
        k = step_done(q, st, "stats upsert");
        done(st);
        if (k != STORE_OK)
            goto fail;
    }
    rc = exec(q, "COMMIT");
    if (rc == STORE_OK)
        goto out;
fail:
    rc = STORE_ERR;
    sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
out:
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_session_get(void *be, const char *conv_key, struct store_session *out)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_SESS_GET);
    if (!st)
        goto out;
    bind_str(st, 1, conv_key);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        out->conv_key = col_str(st, 0);
        out->account_id = sqlite3_column_int64(st, 1);
        out->session_name = col_str(st, 2);
        out->model = col_str(st, 3);
        out->turns = sqlite3_column_int64(st, 4);
        out->updated_at = sqlite3_column_int64(st, 5);
        rc = STORE_OK;
    } else if (r == SQLITE_DONE) {
        store_set_error("session not found");
        rc = STORE_NOTFOUND;
    } else {
        sq_fail(q, "get session");
    }
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* DELETE statement with one int64 parameter; *changes may be NULL. */
static int delete_before(struct sq *q, int id, int64_t before, int64_t limit, int64_t *changes)
{
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, id);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, before);
    if (limit > 0)
        sqlite3_bind_int64(st, 2, limit);
    rc = step_done(q, st, "delete");
    if (rc == STORE_OK && changes)
        *changes = sqlite3_changes(q->db);
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_session_purge(void *be, int64_t older_than)
{
    return delete_before(be, Q_SESS_PURGE, older_than, 0, NULL);
}

static int sq_stats_prune(void *be, int64_t before_hour)
{
    return delete_before(be, Q_STATS_PRUNE, before_hour, 0, NULL);
}

static int sq_reqlog_purge(void *be, int64_t before, size_t batch, int64_t *deleted)
{
    int64_t ch = 0;
    int rc;

    /* each batch is its own statement: the mutex and the write lock are
     * released between batches so other writers get through */
    do {
        rc = delete_before(be, Q_LOG_PURGE, before, (int64_t)batch, &ch);
        if (rc != STORE_OK)
            return rc;
        *deleted += ch;
    } while (ch == (int64_t)batch);
    return STORE_OK;
}

static int sq_reqlog_query(void *be, const struct store_reqlog_filter *f,
                           struct store_reqlog **out, size_t *n)
{
    struct sq *q = be;
    struct store_reqlog *list = NULL;
    size_t cnt = 0, limit = f->limit ? f->limit : 100;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_LOG_QUERY);
    if (!st)
        goto out;
    list = calloc(limit < 1024 ? limit : 1024, sizeof(*list));
    if (!list) {
        store_set_error("out of memory");
        goto out;
    }
    sqlite3_bind_int64(st, 1, f->since);
    sqlite3_bind_int64(st, 2, f->account_id);
    bind_str(st, 3, f->model);
    sqlite3_bind_int(st, 4, f->status_max ? f->status_min : 0);
    sqlite3_bind_int(st, 5, f->status_max ? f->status_max : 999);
    sqlite3_bind_int64(st, 6, (int64_t)limit);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_reqlog *l;

        if (cnt >= 1024 && (cnt & (cnt - 1)) == 0) {
            struct store_reqlog *tmp = realloc(list, 2 * cnt * sizeof(*list));

            if (!tmp) {
                store_set_error("out of memory");
                goto out;
            }
            list = tmp;
        }
        l = &list[cnt++];
        memset(l, 0, sizeof(*l));
        l->request_id = col_str(st, 0);
        l->ts = sqlite3_column_int64(st, 1);
        l->model = col_str(st, 2);
        l->account_id = sqlite3_column_int64(st, 3);
        l->status = sqlite3_column_int(st, 4);
        l->error_kind = col_str(st, 5);
        l->latency_ms = sqlite3_column_int64(st, 6);
        l->ttft_ms = sqlite3_column_int64(st, 7);
        l->bytes_out = sqlite3_column_int64(st, 8);
        l->prompt_tokens = sqlite3_column_int64(st, 9);
        l->completion_tokens = sqlite3_column_int64(st, 10);
        l->stream = sqlite3_column_int(st, 11) != 0;
    }
    if (r != SQLITE_DONE) {
        sq_fail(q, "query request log");
        goto out;
    }
    rc = STORE_OK;
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    if (rc != STORE_OK) {
        store_reqlog_list_free(list, cnt);
        list = NULL;
        cnt = 0;
    }
    *out = list;
    *n = cnt;
    return rc;
}

static int sq_stats_query(void *be, const char *sql, int64_t since_hour,
                          struct store_stat_row **out, size_t *n)
{
    struct sq *q = be;
    struct store_stat_row *list = NULL, *tmp;
    size_t cnt = 0, cap = 0;
    sqlite3_stmt *st = NULL;
    int r, rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sq_fail(q, "prepare stats query");
        goto out;
    }
    sqlite3_bind_int64(st, 1, since_hour);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_stat_row *row;
        int k = 2;

        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            tmp = realloc(list, cap * sizeof(*list));
            if (!tmp) {
                store_set_error("out of memory");
                goto out;
            }
            list = tmp;
        }
        row = &list[cnt++];
        memset(row, 0, sizeof(*row));
        row->model = col_str(st, 0);
        row->account_id = sqlite3_column_int64(st, 1);
        row->requests = sqlite3_column_int64(st, k++);
        row->errors = sqlite3_column_int64(st, k++);
        row->err_rate_limit = sqlite3_column_int64(st, k++);
        row->err_auth = sqlite3_column_int64(st, k++);
        row->err_upstream = sqlite3_column_int64(st, k++);
        row->err_client = sqlite3_column_int64(st, k++);
        row->prompt_tokens = sqlite3_column_int64(st, k++);
        row->completion_tokens = sqlite3_column_int64(st, k++);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            row->lat_hist[j] = sqlite3_column_int64(st, k++);
        for (int j = 0; j < STORE_HIST_BUCKETS; j++)
            row->ttft_hist[j] = sqlite3_column_int64(st, k++);
    }
    if (r != SQLITE_DONE) {
        sq_fail(q, "stats query");
        goto out;
    }
    rc = STORE_OK;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->mu);
    if (rc != STORE_OK) {
        store_stats_free(list, cnt);
        list = NULL;
        cnt = 0;
    }
    *out = list;
    *n = cnt;
    return rc;
}

static int sq_kv_get(void *be, const char *key, char **value)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int r, rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_KV_GET);
    if (!st)
        goto out;
    bind_str(st, 1, key);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *value = col_str(st, 0);
        rc = *value ? STORE_OK : STORE_ERR;
    } else if (r == SQLITE_DONE) {
        store_set_error("setting not found");
        rc = STORE_NOTFOUND;
    } else {
        sq_fail(q, "get setting");
    }
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int sq_kv_put(void *be, const char *key, const char *value, int64_t now)
{
    struct sq *q = be;
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = stmt(q, Q_KV_PUT);
    if (!st)
        goto out;
    bind_str(st, 1, key);
    bind_str(st, 2, value);
    sqlite3_bind_int64(st, 3, now);
    rc = step_done(q, st, "put setting");
out:
    done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* store_ops.query: $N placeholders are SQLite named parameters ("$1"). */
static int sq_query(void *be, const char *sql, const char *const *params, int nparams,
                    struct store_rows *rows)
{
    struct sq *q = be;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int r, rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sq_fail(q, "prepare");
        goto out;
    }
    for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
        const char *nm = sqlite3_bind_parameter_name(st, i);
        long k = nm && nm[0] == '$' ? strtol(nm + 1, NULL, 10) : i;

        bind_str(st, i, k >= 1 && k <= nparams ? params[k - 1] : NULL);
    }
    if (rows) {
        memset(rows, 0, sizeof(*rows));
        rows->ncols = (size_t)sqlite3_column_count(st);
    }
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!rows || rows->ncols == 0)
            continue;
        if (rows->nrows * rows->ncols + rows->ncols > cap) {
            size_t nc = cap ? cap * 2 : rows->ncols * 16;
            char **cell = realloc(rows->cell, nc * sizeof(*cell));

            if (!cell) {
                store_set_error("out of memory");
                goto out;
            }
            rows->cell = cell;
            cap = nc;
        }
        for (size_t c = 0; c < rows->ncols; c++)
            rows->cell[rows->nrows * rows->ncols + c] = col_str(st, (int)c);
        rows->nrows++;
    }
    if (r != SQLITE_DONE) {
        rc = sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_UNIQUE ? STORE_CONFLICT : STORE_ERR;
        sq_fail(q, "query");
        goto out;
    }
    rc = STORE_OK;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->mu);
    if (rc != STORE_OK && rows)
        store_rows_free(rows);
    return rc;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .schema_version = sq_schema_version,
    .account_list = sq_account_list,
    .account_get = sq_account_get,
    .account_insert = sq_account_insert,
    .account_update = sq_account_update,
    .account_delete = sq_account_delete,
    .account_upsert_many = sq_account_upsert_many,
    .account_set_secrets = sq_account_set_secrets,
    .apply = sq_apply,
    .session_get = sq_session_get,
    .session_purge = sq_session_purge,
    .reqlog_query = sq_reqlog_query,
    .reqlog_purge = sq_reqlog_purge,
    .stats_prune = sq_stats_prune,
    .stats_query = sq_stats_query,
    .kv_get = sq_kv_get,
    .kv_put = sq_kv_put,
    .query = sq_query,
};
