-- 001_accounts.sql (SQLite) -- accounts and settings.
-- Times in this schema are INTEGER Unix milliseconds (NULL = unset).
-- The seed's gemini_accounts columns (id, name, secure_c_ses, host_c_oses,
-- csesidx, config_id, is_active, last_used_at, created_at) are kept by name.
CREATE TABLE IF NOT EXISTS gemini_accounts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT,
    secure_c_ses   TEXT NOT NULL,          -- "enc:v1:..." when SECRET_KEY is set
    host_c_oses    TEXT,
    csesidx        TEXT NOT NULL,
    config_id      TEXT NOT NULL,
    is_active      INTEGER NOT NULL DEFAULT 1,
    last_used_at   INTEGER,
    created_at     INTEGER NOT NULL,
    status         TEXT NOT NULL DEFAULT 'active',
    reason         TEXT,
    cooldown_until INTEGER,
    fail_count     INTEGER NOT NULL DEFAULT 0,
    proxy          TEXT,
    note           TEXT,
    expires_at     INTEGER,
    updated_at     INTEGER NOT NULL,
    requests_total INTEGER NOT NULL DEFAULT 0,
    errors_total   INTEGER NOT NULL DEFAULT 0,
    source         TEXT,
    UNIQUE (csesidx, config_id)
);

CREATE TABLE IF NOT EXISTS settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
