/* store_sqlite.c -- SQLite backend of the store (see store_internal.h):
 * opening the file, migrations, the prepared-statement cache and the helpers
 * shared with its other parts, ping and the ops table.  The ops themselves
 * live in store_sqlite_accounts.c, store_sqlite_log.c and store_sqlite_kv.c
 * (map and shared contract in store_sqlite_internal.h).
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
#include "store_sqlite_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gg_log.h"
#include "gg_time.h"

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
        "error_kind, latency_ms, ttft_ms, bytes_out, prompt_tokens, completion_tokens, stream, "
        "dialect, tool_calls) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [Q_LOG_QUERY] = "SELECT request_id, ts, model, account_id, status, error_kind, latency_ms, "
        "ttft_ms, bytes_out, prompt_tokens, completion_tokens, stream, dialect, tool_calls "
        "FROM request_logs "
        "WHERE ts >= ?1 AND (?2 = 0 OR account_id = ?2) AND (?3 IS NULL OR model = ?3) "
        "AND status BETWEEN ?4 AND ?5 AND (?7 IS NULL OR dialect = ?7) "
        "ORDER BY ts DESC, id DESC LIMIT ?6",
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

/* ---- helpers (call with the mutex held) -------------------------------- */

int sq_fail(struct sq *q, const char *what)
{
    store_set_error("sqlite: %s: %s", what, sqlite3_errmsg(q->db));
    return STORE_ERR;
}

/* Cached prepared statement, reset and unbound; NULL on error. */
sqlite3_stmt *sq_stmt(struct sq *q, int id)
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

void sq_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

void sq_bind_str(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void sq_bind_ms(sqlite3_stmt *st, int i, int64_t v)    /* 0 = NULL */
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

char *sq_col_str(sqlite3_stmt *st, int i, int *oom)
{
    const unsigned char *t;
    char *s;

    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    t = sqlite3_column_text(st, i);     /* NULL here: out of memory */
    s = t ? strdup((const char *)t) : NULL;
    if (!s)
        ++*oom;
    return s;
}

int sq_exec(struct sq *q, const char *sql)
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
int sq_step_done(struct sq *q, sqlite3_stmt *st, const char *what)
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

/* ---- shared DELETE (takes the mutex) ----------------------------------- */

int sq_delete_before(struct sq *q, int id, int64_t before, int64_t limit, int64_t *changes)
{
    sqlite3_stmt *st;
    int rc = STORE_ERR;

    pthread_mutex_lock(&q->mu);
    st = sq_stmt(q, id);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, before);
    if (limit > 0)
        sqlite3_bind_int64(st, 2, limit);
    rc = sq_step_done(q, st, "delete");
    if (rc == STORE_OK && changes)
        *changes = sqlite3_changes(q->db);
out:
    sq_done(st);
    pthread_mutex_unlock(&q->mu);
    return rc;
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

    if (sq_exec(q, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "applied_at INTEGER NOT NULL)") != STORE_OK)
        return STORE_ERR;
    /* IMMEDIATE: a second process opening at the same time waits here
     * (busy_timeout) and then sees the versions this one recorded. */
    if (sq_exec(q, "BEGIN IMMEDIATE") != STORE_OK)
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
        if (sq_exec(q, m->sql) != STORE_OK) {
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
    rc = sq_exec(q, "COMMIT");
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
    if (sq_exec(q, "PRAGMA journal_mode=WAL") != STORE_OK ||
        sq_exec(q, "PRAGMA synchronous=NORMAL") != STORE_OK ||
        sq_exec(q, "PRAGMA foreign_keys=ON") != STORE_OK || migrate(q) != STORE_OK) {
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
    rc = sq_exec(q, "SELECT 1");
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
