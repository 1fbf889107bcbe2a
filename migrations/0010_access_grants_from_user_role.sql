-- Identity and access: each person's single users.role becomes a grant, and each API token's role becomes
-- the permissions that role held when this migration was written (a token keeps exactly what it could do).
INSERT INTO "role_grants" ("tenant_id", "user_id", "role", "granted_by_id", "granted_by_label", "granted_at")
SELECT "tenant_id", "id", "role", NULL, 'migration', "created_at" FROM "users"
ON CONFLICT DO NOTHING;
--> statement-breakpoint
UPDATE "api_tokens" SET "permissions" = CASE "role"
  WHEN 'owner' THEN ARRAY['users.read', 'users.manage', 'roles.read', 'roles.manage', 'tokens.read', 'tokens.manage', 'audit.read', 'audit.export', 'audit.verify', 'alerts.read', 'alerts.manage', 'siem.read', 'siem.manage', 'outbox.read', 'settings.read', 'settings.manage', 'keys.read', 'keys.manage', 'backups.read', 'backups.verify', 'backups.manage', 'retention.read', 'retention.manage']::text[]
  WHEN 'security-admin' THEN ARRAY['users.read', 'users.manage', 'roles.read', 'tokens.read', 'tokens.manage', 'audit.read', 'audit.export', 'audit.verify', 'alerts.read', 'alerts.manage', 'siem.read', 'siem.manage', 'outbox.read', 'settings.read', 'keys.read', 'keys.manage', 'backups.read', 'backups.verify', 'backups.manage', 'retention.read', 'retention.manage']::text[]
  WHEN 'privacy-officer' THEN ARRAY['audit.read', 'retention.read', 'retention.manage']::text[]
  WHEN 'incident-commander' THEN ARRAY['audit.read', 'audit.export', 'alerts.read', 'alerts.manage']::text[]
  WHEN 'responder' THEN ARRAY['audit.read', 'alerts.read']::text[]
  WHEN 'vendor-manager' THEN ARRAY[]::text[]
  WHEN 'content-editor' THEN ARRAY[]::text[]
  WHEN 'approver' THEN ARRAY['users.read', 'roles.read']::text[]
  WHEN 'auditor' THEN ARRAY['users.read', 'roles.read', 'tokens.read', 'audit.read', 'audit.export', 'audit.verify', 'alerts.read', 'siem.read', 'outbox.read', 'settings.read', 'keys.read', 'backups.read', 'backups.verify', 'retention.read']::text[]
  WHEN 'employee' THEN ARRAY[]::text[]
  ELSE ARRAY[]::text[]
END;
