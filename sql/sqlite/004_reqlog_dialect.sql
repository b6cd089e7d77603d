-- 004_reqlog_dialect.sql (SQLite) -- the request log keeps the client dialect
-- of each request (openai, anthropic, responses, gemini, images) and how many
-- tool calls its answer returned.  Rows written before this migration read
-- back as 'openai' / 0 (the only dialect there was).
ALTER TABLE request_logs ADD COLUMN dialect TEXT NOT NULL DEFAULT 'openai';
ALTER TABLE request_logs ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS request_logs_dialect ON request_logs (dialect, ts);
