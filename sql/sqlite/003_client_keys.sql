-- 003_client_keys.sql (SQLite) -- client keys with limits (issue 15), their
-- per-day usage, and account tags (a key bound to a group uses only the
-- accounts whose tags contain it).  Only the SHA-256 of a key's secret and a
-- short visible prefix are stored; the secret itself never is.
CREATE TABLE IF NOT EXISTS client_keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    prefix         TEXT NOT NULL,
    hash           TEXT NOT NULL UNIQUE,       -- SHA-256 hex of the secret
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,                    -- NULL = never
    enabled        INTEGER NOT NULL DEFAULT 1,
    models         TEXT NOT NULL DEFAULT '',   -- comma list of ids / '*' patterns; '' = all
    rpm            INTEGER NOT NULL DEFAULT 0, -- 0 = unlimited (all limits)
    tpm            INTEGER NOT NULL DEFAULT 0,
    tokens_day     INTEGER NOT NULL DEFAULT 0,
    tokens_month   INTEGER NOT NULL DEFAULT 0,
    max_concurrent INTEGER NOT NULL DEFAULT 0,
    grp            TEXT NOT NULL DEFAULT ''    -- account tag; '' = any account
);

-- One row per key, UTC day ('YYYY-MM-DD') and model; finished requests are
-- added to it in the request-log batches (storeq).
CREATE TABLE IF NOT EXISTS key_usage (
    key_id     INTEGER NOT NULL,
    day        TEXT NOT NULL,
    model      TEXT NOT NULL,
    requests   INTEGER NOT NULL DEFAULT 0,
    errors     INTEGER NOT NULL DEFAULT 0,
    tokens_in  INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day, model)
);
CREATE INDEX IF NOT EXISTS key_usage_day ON key_usage (day);

ALTER TABLE gemini_accounts ADD COLUMN tags TEXT NOT NULL DEFAULT '';
