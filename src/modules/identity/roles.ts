/** Built-in roles. The identity issue gives each its permissions; here only `owner` exists in practice. */
export const ROLE_SLUGS = [
  'owner',
  'security-admin',
  'privacy-officer',
  'incident-commander',
  'responder',
  'vendor-manager',
  'content-editor',
  'approver',
  'auditor',
  'employee',
] as const;

export type RoleSlug = (typeof ROLE_SLUGS)[number];
