-- 002_logs_stats.sql (SQLite) -- conversation sessions, request log, hourly stats.
CREATE TABLE IF NOT EXISTS conv_sessions (
    conv_key     TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES gemini_accounts(id) ON DELETE CASCADE,
    session_name TEXT NOT NULL,
    model        TEXT,
    turns        INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conv_sessions_updated ON conv_sessions (updated_at);
CREATE INDEX IF NOT EXISTS conv_sessions_account ON conv_sessions (account_id);

-- No foreign key: log rows outlive deleted accounts.
CREATE TABLE IF NOT EXISTS request_logs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id        TEXT NOT NULL,
    ts                INTEGER NOT NULL,
    model             TEXT,
    account_id        INTEGER NOT NULL DEFAULT 0,
    status            INTEGER NOT NULL,
    error_kind        TEXT,
    latency_ms        INTEGER NOT NULL DEFAULT 0,
    ttft_ms           INTEGER NOT NULL DEFAULT -1,
    bytes_out         INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    stream            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS request_logs_ts ON request_logs (ts);
CREATE INDEX IF NOT EXISTS request_logs_account ON request_logs (account_id, ts);
CREATE INDEX IF NOT EXISTS request_logs_model ON request_logs (model, ts);

-- Hourly aggregates; hour = Unix ms of the hour start.  l0..l23 / t0..t23
-- are latency / time-to-first-token histogram buckets (bounds in store.c).
CREATE TABLE IF NOT EXISTS stats_hourly (
    hour              INTEGER NOT NULL,
    model             TEXT NOT NULL DEFAULT '',
    account_id        INTEGER NOT NULL DEFAULT 0,
    requests          INTEGER NOT NULL DEFAULT 0,
    errors            INTEGER NOT NULL DEFAULT 0,
    err_rate_limit    INTEGER NOT NULL DEFAULT 0,
    err_auth          INTEGER NOT NULL DEFAULT 0,
    err_upstream      INTEGER NOT NULL DEFAULT 0,
    err_client        INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    l0 INTEGER NOT NULL DEFAULT 0,
    l1 INTEGER NOT NULL DEFAULT 0,
    l2 INTEGER NOT NULL DEFAULT 0,
    l3 INTEGER NOT NULL DEFAULT 0,
    l4 INTEGER NOT NULL DEFAULT 0,
    l5 INTEGER NOT NULL DEFAULT 0,
    l6 INTEGER NOT NULL DEFAULT 0,
    l7 INTEGER NOT NULL DEFAULT 0,
    l8 INTEGER NOT NULL DEFAULT 0,
    l9 INTEGER NOT NULL DEFAULT 0,
    l10 INTEGER NOT NULL DEFAULT 0,
    l11 INTEGER NOT NULL DEFAULT 0,
    l12 INTEGER NOT NULL DEFAULT 0,
    l13 INTEGER NOT NULL DEFAULT 0,
    l14 INTEGER NOT NULL DEFAULT 0,
    l15 INTEGER NOT NULL DEFAULT 0,
    l16 INTEGER NOT NULL DEFAULT 0,
    l17 INTEGER NOT NULL DEFAULT 0,
    l18 INTEGER NOT NULL DEFAULT 0,
    l19 INTEGER NOT NULL DEFAULT 0,
    l20 INTEGER NOT NULL DEFAULT 0,
    l21 INTEGER NOT NULL DEFAULT 0,
    l22 INTEGER NOT NULL DEFAULT 0,
    l23 INTEGER NOT NULL DEFAULT 0,
    t0 INTEGER NOT NULL DEFAULT 0,
    t1 INTEGER NOT NULL DEFAULT 0,
    t2 INTEGER NOT NULL DEFAULT 0,
    t3 INTEGER NOT NULL DEFAULT 0,
    t4 INTEGER NOT NULL DEFAULT 0,
    t5 INTEGER NOT NULL DEFAULT 0,
    t6 INTEGER NOT NULL DEFAULT 0,
    t7 INTEGER NOT NULL DEFAULT 0,
    t8 INTEGER NOT NULL DEFAULT 0,
    t9 INTEGER NOT NULL DEFAULT 0,
    t10 INTEGER NOT NULL DEFAULT 0,
    t11 INTEGER NOT NULL DEFAULT 0,
    t12 INTEGER NOT NULL DEFAULT 0,
    t13 INTEGER NOT NULL DEFAULT 0,
    t14 INTEGER NOT NULL DEFAULT 0,
    t15 INTEGER NOT NULL DEFAULT 0,
    t16 INTEGER NOT NULL DEFAULT 0,
    t17 INTEGER NOT NULL DEFAULT 0,
    t18 INTEGER NOT NULL DEFAULT 0,
    t19 INTEGER NOT NULL DEFAULT 0,
    t20 INTEGER NOT NULL DEFAULT 0,
    t21 INTEGER NOT NULL DEFAULT 0,
    t22 INTEGER NOT NULL DEFAULT 0,
    t23 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, model, account_id)
);
CREATE INDEX IF NOT EXISTS stats_hourly_account ON stats_hourly (account_id, hour);
