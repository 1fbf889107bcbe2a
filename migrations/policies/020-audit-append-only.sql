-- The audit trail is append-only for the application. Idempotent: re-applied on every migrate.
-- The application role may add events and checkpoints and read them; it can never change or remove one.
-- Only the retention purge, running as the schema owner with candor.audit_purge set for its transaction,
-- may delete events older than the trail's retention (and only after a signed checkpoint anchors the rest).

REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_checkpoints FROM candor_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_signing_keys FROM candor_app;

CREATE OR REPLACE FUNCTION candor_audit_append_only() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('candor.audit_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only (% refused on %)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION candor_audit_append_only();
DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events;
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION candor_audit_append_only();

DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints;
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION candor_audit_append_only();
