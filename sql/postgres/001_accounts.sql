-- 001_accounts.sql (PostgreSQL) -- accounts and settings.
-- Account times are TIMESTAMPTZ (converted to/from Unix ms by gg_ms2ts /
-- gg_ts2ms, NULL = unset).  CREATE ... IF NOT EXISTS + ADD COLUMN IF NOT
-- EXISTS adopt a table created by the seed service (which used TIMESTAMP
-- in the session time zone; the type change below converts those values
-- using the same session time zone).
CREATE OR REPLACE FUNCTION gg_ms2ts(bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN $1 IS NULL OR $1 = 0 THEN NULL
                      ELSE 'epoch'::timestamptz + $1 * interval '1 millisecond' END $$;
CREATE OR REPLACE FUNCTION gg_ts2ms(timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT COALESCE(round(extract(epoch FROM $1) * 1000)::bigint, 0) $$;

CREATE TABLE IF NOT EXISTS gemini_accounts (
    id           SERIAL PRIMARY KEY,
    name         VARCHAR(255),
    secure_c_ses TEXT NOT NULL,
    host_c_oses  TEXT,
    csesidx      TEXT NOT NULL,
    config_id    TEXT NOT NULL,
    is_active    BOOLEAN DEFAULT TRUE,
    last_used_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);
ALTER TABLE gemini_accounts
    ALTER COLUMN last_used_at TYPE TIMESTAMPTZ,
    ALTER COLUMN created_at TYPE TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS status         TEXT NOT NULL DEFAULT 'active',
    ADD COLUMN IF NOT EXISTS reason         TEXT,
    ADD COLUMN IF NOT EXISTS cooldown_until TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS fail_count     BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS proxy          TEXT,
    ADD COLUMN IF NOT EXISTS note           TEXT,
    ADD COLUMN IF NOT EXISTS expires_at     TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS updated_at     TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ADD COLUMN IF NOT EXISTS requests_total BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS errors_total   BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS source         TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS gemini_accounts_cses_config
    ON gemini_accounts (csesidx, config_id);

CREATE TABLE IF NOT EXISTS settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
