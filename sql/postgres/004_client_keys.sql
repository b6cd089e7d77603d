-- 004_client_keys.sql (PostgreSQL) -- client keys with limits (issue 15),
-- their per-day usage, and account tags.  Only the SHA-256 of a key's secret
-- and a short visible prefix are stored.  Instances poll client_keys and the
-- day/month sums of key_usage every few seconds (keys_store.c).
CREATE TABLE IF NOT EXISTS client_keys (
    id             BIGSERIAL PRIMARY KEY,
    name           TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    prefix         TEXT NOT NULL,
    hash           TEXT NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    models         TEXT NOT NULL DEFAULT '',
    rpm            BIGINT NOT NULL DEFAULT 0,
    tpm            BIGINT NOT NULL DEFAULT 0,
    tokens_day     BIGINT NOT NULL DEFAULT 0,
    tokens_month   BIGINT NOT NULL DEFAULT 0,
    max_concurrent BIGINT NOT NULL DEFAULT 0,
    grp            TEXT NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS key_usage (
    key_id     BIGINT NOT NULL,
    day        TEXT NOT NULL,
    model      TEXT NOT NULL,
    requests   BIGINT NOT NULL DEFAULT 0,
    errors     BIGINT NOT NULL DEFAULT 0,
    tokens_in  BIGINT NOT NULL DEFAULT 0,
    tokens_out BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day, model)
);
CREATE INDEX IF NOT EXISTS key_usage_day ON key_usage (day);

ALTER TABLE gemini_accounts ADD COLUMN IF NOT EXISTS tags TEXT NOT NULL DEFAULT '';

-- What each instance counts for a key right now (rolling minute, in flight);
-- every instance upserts its own rows and adds up the others' fresh rows
-- (keys_store.c, every 2 s), so rpm, tpm and max_concurrent hold for the
-- cluster within one sync period.
CREATE TABLE IF NOT EXISTS key_rates (
    instance        TEXT NOT NULL,
    key_id          BIGINT NOT NULL,
    minute_requests BIGINT NOT NULL DEFAULT 0,
    minute_tokens   BIGINT NOT NULL DEFAULT 0,
    inflight        BIGINT NOT NULL DEFAULT 0,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (instance, key_id)
);
