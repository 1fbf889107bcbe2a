-- Row-level security: the second wall behind the application's own checks.
-- Idempotent: applied after the generated migrations on every `candor migrate` and start.
--
-- Every table in schema public with a tenant_id column is isolated automatically, so a new capability's
-- table is protected the moment its migration creates it. The application works as candor_app (a role
-- without login, switched to per transaction by withTenant); the schema owner is not filtered and is
-- used only for cross-tenant platform work (withSystem).

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'candor_app') THEN
    BEGIN
      CREATE ROLE candor_app NOLOGIN;
    EXCEPTION
      -- Roles are cluster-wide: another database of the same cluster may be migrating right now.
      WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF NOT pg_has_role(current_user, 'candor_app', 'MEMBER') THEN
    EXECUTE format('GRANT candor_app TO %I', current_user);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION candor_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('candor.tenant_id', true), '')::uuid $$;

GRANT USAGE ON SCHEMA public TO candor_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO candor_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO candor_app;
REVOKE ALL ON candor_migrations FROM candor_app;

DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT c.relname
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t.relname);
    IF NOT EXISTS (
      SELECT FROM pg_policies WHERE schemaname = 'public' AND tablename = t.relname AND policyname = 'tenant_isolation'
    ) THEN
      EXECUTE format(
        'CREATE POLICY tenant_isolation ON public.%I USING (tenant_id = candor_current_tenant()) '
        'WITH CHECK (tenant_id = candor_current_tenant())',
        t.relname
      );
    END IF;
  END LOOP;
END
$$;

-- The tenants table itself: the application role sees only the tenant it works for.
ALTER TABLE public.tenants ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_self ON public.tenants;
CREATE POLICY tenant_self ON public.tenants USING (id = candor_current_tenant()) WITH CHECK (id = candor_current_tenant());
