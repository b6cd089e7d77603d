-- 002_logs_stats.sql (PostgreSQL) -- conversation sessions, request log,
-- hourly stats.  Times here are BIGINT Unix ms (hot tables, no conversion).
CREATE TABLE IF NOT EXISTS conv_sessions (
    conv_key     TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES gemini_accounts(id) ON DELETE CASCADE,
    session_name TEXT NOT NULL,
    model        TEXT,
    turns        BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS conv_sessions_updated ON conv_sessions (updated_at);
CREATE INDEX IF NOT EXISTS conv_sessions_account ON conv_sessions (account_id);

-- No foreign key: log rows outlive deleted accounts.
CREATE TABLE IF NOT EXISTS request_logs (
    id                BIGSERIAL PRIMARY KEY,
    request_id        TEXT NOT NULL,
    ts                BIGINT NOT NULL,
    model             TEXT,
    account_id        BIGINT NOT NULL DEFAULT 0,
    status            INTEGER NOT NULL,
    error_kind        TEXT,
    latency_ms        BIGINT NOT NULL DEFAULT 0,
    ttft_ms           BIGINT NOT NULL DEFAULT -1,
    bytes_out         BIGINT NOT NULL DEFAULT 0,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    stream            BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS request_logs_ts ON request_logs (ts);
CREATE INDEX IF NOT EXISTS request_logs_account ON request_logs (account_id, ts);
CREATE INDEX IF NOT EXISTS request_logs_model ON request_logs (model, ts);

-- Hourly aggregates; hour = Unix ms of the hour start.  l0..l23 / t0..t23
-- are latency / time-to-first-token histogram buckets (bounds in store.c).
CREATE TABLE IF NOT EXISTS stats_hourly (
    hour              BIGINT NOT NULL,
    model             TEXT NOT NULL DEFAULT '',
    account_id        BIGINT NOT NULL DEFAULT 0,
    requests          BIGINT NOT NULL DEFAULT 0,
    errors            BIGINT NOT NULL DEFAULT 0,
    err_rate_limit    BIGINT NOT NULL DEFAULT 0,
    err_auth          BIGINT NOT NULL DEFAULT 0,
    err_upstream      BIGINT NOT NULL DEFAULT 0,
    err_client        BIGINT NOT NULL DEFAULT 0,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    l0 BIGINT NOT NULL DEFAULT 0,
    l1 BIGINT NOT NULL DEFAULT 0,
    l2 BIGINT NOT NULL DEFAULT 0,
    l3 BIGINT NOT NULL DEFAULT 0,
    l4 BIGINT NOT NULL DEFAULT 0,
    l5 BIGINT NOT NULL DEFAULT 0,
    l6 BIGINT NOT NULL DEFAULT 0,
    l7 BIGINT NOT NULL DEFAULT 0,
    l8 BIGINT NOT NULL DEFAULT 0,
    l9 BIGINT NOT NULL DEFAULT 0,
    l10 BIGINT NOT NULL DEFAULT 0,
    l11 BIGINT NOT NULL DEFAULT 0,
    l12 BIGINT NOT NULL DEFAULT 0,
    l13 BIGINT NOT NULL DEFAULT 0,
    l14 BIGINT NOT NULL DEFAULT 0,
    l15 BIGINT NOT NULL DEFAULT 0,
    l16 BIGINT NOT NULL DEFAULT 0,
    l17 BIGINT NOT NULL DEFAULT 0,
    l18 BIGINT NOT NULL DEFAULT 0,
    l19 BIGINT NOT NULL DEFAULT 0,
    l20 BIGINT NOT NULL DEFAULT 0,
    l21 BIGINT NOT NULL DEFAULT 0,
    l22 BIGINT NOT NULL DEFAULT 0,
    l23 BIGINT NOT NULL DEFAULT 0,
    t0 BIGINT NOT NULL DEFAULT 0,
    t1 BIGINT NOT NULL DEFAULT 0,
    t2 BIGINT NOT NULL DEFAULT 0,
    t3 BIGINT NOT NULL DEFAULT 0,
    t4 BIGINT NOT NULL DEFAULT 0,
    t5 BIGINT NOT NULL DEFAULT 0,
    t6 BIGINT NOT NULL DEFAULT 0,
    t7 BIGINT NOT NULL DEFAULT 0,
    t8 BIGINT NOT NULL DEFAULT 0,
    t9 BIGINT NOT NULL DEFAULT 0,
    t10 BIGINT NOT NULL DEFAULT 0,
    t11 BIGINT NOT NULL DEFAULT 0,
    t12 BIGINT NOT NULL DEFAULT 0,
    t13 BIGINT NOT NULL DEFAULT 0,
    t14 BIGINT NOT NULL DEFAULT 0,
    t15 BIGINT NOT NULL DEFAULT 0,
    t16 BIGINT NOT NULL DEFAULT 0,
    t17 BIGINT NOT NULL DEFAULT 0,
    t18 BIGINT NOT NULL DEFAULT 0,
    t19 BIGINT NOT NULL DEFAULT 0,
    t20 BIGINT NOT NULL DEFAULT 0,
    t21 BIGINT NOT NULL DEFAULT 0,
    t22 BIGINT NOT NULL DEFAULT 0,
    t23 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, model, account_id)
);
CREATE INDEX IF NOT EXISTS stats_hourly_account ON stats_hourly (account_id, hour);
