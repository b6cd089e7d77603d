-- 005_reqlog_dialect.sql (PostgreSQL) -- the request log keeps the client
-- dialect of each request (openai, anthropic, responses, gemini, images) and
-- how many tool calls its answer returned.  Rows written before this
-- migration read back as 'openai' / 0.  ADD COLUMN with a constant default
-- does not rewrite the table (PostgreSQL 11+).
ALTER TABLE request_logs
    ADD COLUMN IF NOT EXISTS dialect    TEXT NOT NULL DEFAULT 'openai',
    ADD COLUMN IF NOT EXISTS tool_calls INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS request_logs_dialect ON request_logs (dialect, ts);
