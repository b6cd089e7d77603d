-- 003_cluster.sql (PostgreSQL) -- change notifications for multi-instance
-- deployments.  Every change an operator or the pool makes to an account
-- (insert, delete, credentials, admin switch, status/cooldown) is published
-- on channel `gemgate_accounts` as {"op":"INSERT|UPDATE|DELETE","id":N};
-- usage touches (last_used_at, counters) are not, to keep the channel quiet.
CREATE OR REPLACE FUNCTION gg_accounts_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gemgate_accounts', json_build_object('op', TG_OP, 'id', OLD.id)::text);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('gemgate_accounts', json_build_object('op', TG_OP, 'id', NEW.id)::text);
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS gemini_accounts_notify_ins_del ON gemini_accounts;
CREATE TRIGGER gemini_accounts_notify_ins_del
    AFTER INSERT OR DELETE ON gemini_accounts
    FOR EACH ROW EXECUTE FUNCTION gg_accounts_notify();

DROP TRIGGER IF EXISTS gemini_accounts_notify_upd ON gemini_accounts;
CREATE TRIGGER gemini_accounts_notify_upd
    AFTER UPDATE ON gemini_accounts
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.reason IS DISTINCT FROM NEW.reason
          OR OLD.cooldown_until IS DISTINCT FROM NEW.cooldown_until
          OR OLD.is_active IS DISTINCT FROM NEW.is_active
          OR OLD.secure_c_ses IS DISTINCT FROM NEW.secure_c_ses
          OR OLD.host_c_oses IS DISTINCT FROM NEW.host_c_oses
          OR OLD.csesidx IS DISTINCT FROM NEW.csesidx
          OR OLD.config_id IS DISTINCT FROM NEW.config_id
          OR OLD.name IS DISTINCT FROM NEW.name
          OR OLD.proxy IS DISTINCT FROM NEW.proxy
          OR OLD.note IS DISTINCT FROM NEW.note)
    EXECUTE FUNCTION gg_accounts_notify();
