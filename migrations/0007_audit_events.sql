-- The audit trail: every security event (server/events/security-event.ts),
-- append-only. Rows are written in batches by the server (and by the CLI for
-- admin changes) and read by `latchkey audit list|tail` and /account.
CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  time timestamptz NOT NULL,
  schema integer NOT NULL,
  type text NOT NULL,
  -- account | client | admin | anonymous
  actor_kind text NOT NULL,
  actor_id text,
  -- The host an admin ran the CLI on.
  actor_host text,
  subject text,
  client_id text,
  ip text,
  user_agent text,
  request_id text,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
  reason text,
  method text,
  -- Ids, kinds and counts only.
  details jsonb
);
-- The filters of `audit list` (--account matches the subject or the acting account) and /account's activity.
CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_subject ON audit_events (subject, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_client ON audit_events (client_id, id);
CREATE INDEX audit_events_type ON audit_events (type, id);

-- Append-only. UPDATE and TRUNCATE always fail. DELETE fails unless the
-- transaction runs the retention prune (audit_prune below sets
-- latchkey.audit_prune for its own transaction only), and even then only rows
-- older than a day go: no code path of the application can rewrite or remove
-- recent history. The server and migrations share one Postgres role, which
-- owns the table and could drop these triggers; an operator who wants that
-- ruled out too runs the server under a role granted only SELECT and INSERT
-- on audit_events (README, "Audit trail").
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE'
     AND current_setting('latchkey.audit_prune', true) = 'on'
     AND OLD.time < now() - interval '1 day' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The retention prune: deletes at most `batch` events older than `older_than`
-- (never younger than a day) and returns how many went.
CREATE FUNCTION audit_prune(older_than timestamptz, batch integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  removed integer;
BEGIN
  PERFORM set_config('latchkey.audit_prune', 'on', true);
  DELETE FROM audit_events WHERE id IN (
    SELECT id FROM audit_events WHERE time < LEAST(older_than, now() - interval '1 day') ORDER BY id LIMIT batch
  );
  GET DIAGNOSTICS removed = ROW_COUNT;
  PERFORM set_config('latchkey.audit_prune', 'off', true);
  RETURN removed;
END;
$$;
