-- Install-wide tables (no tenant_id, so no row-level security) are not for the application role: a
-- tenant's request must not read or change another tenant's backups or the master key check. Code that
-- needs them runs as the schema owner (withSystem). The master key check stays readable, because key
-- creation inside a tenant transaction confirms which master key the database records.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['backups', 'backup_settings', 'backup_events', 'backup_notices'] LOOP
    IF to_regclass(format('public.%I', t)) IS NOT NULL THEN
      EXECUTE format('REVOKE ALL ON %I FROM candor_app', t);
    END IF;
  END LOOP;
END $$;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON master_key_check FROM candor_app;
