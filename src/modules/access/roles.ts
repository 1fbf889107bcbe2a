import { type ListedRole, PERMISSION_SLUGS, PERMISSIONS, type Permission } from './permissions.ts';

/** Built-in roles, the same in every tenant: defined here, never stored, never edited. */
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

export interface RoleDefinition {
  slug: string;
  name: string;
  description: string;
  builtIn: boolean;
  permissions: readonly Permission[];
}

const DESCRIPTIONS: Record<RoleSlug, { name: string; description: string }> = {
  owner: { name: 'Owner', description: 'Runs the workspace: every permission, including roles and workspace settings.' },
  'security-admin': {
    name: 'Security admin',
    description:
      'Runs the security program: audit trail, alerts, SIEM forwarding, keys, backups, retention, API tokens and people’s roles.',
  },
  'privacy-officer': {
    name: 'Privacy officer',
    description: 'Answers for personal data: retention rules, and reads the audit trail. Privacy requests join as they arrive.',
  },
  'incident-commander': {
    name: 'Incident commander',
    description: 'Leads the response to security events: handles alerts and reads and exports the audit trail.',
  },
  responder: { name: 'Responder', description: 'Helps investigate: reads alerts and the audit trail.' },
  'vendor-manager': {
    name: 'Vendor manager',
    description: 'Keeps the vendor register and its assessments (permissions arrive with the vendor capability).',
  },
  'content-editor': {
    name: 'Content editor',
    description: 'Writes and publishes the Trust Center’s pages; policies go out only after an approver’s review.',
  },
  approver: {
    name: 'Approver',
    description:
      'Senior management: approves policies and privileged grants; sees who holds which role and the Trust Center’s drafts.',
  },
  auditor: {
    name: 'Auditor',
    description: 'Reads everything, including the audit trail; may export and verify; changes nothing.',
  },
  employee: { name: 'Employee', description: 'Self-service only: their own account, sessions and sign-in methods.' },
};

function builtInPermissions(slug: RoleSlug): Permission[] {
  if (slug === 'owner') return [...PERMISSION_SLUGS];
  // The auditor's read-only nature holds by construction: it gets exactly the permissions that change nothing.
  if (slug === 'auditor') return PERMISSIONS.filter((p) => p.effect === 'reads').map((p) => p.slug);
  return PERMISSIONS.filter((p) => (p.grantedTo as readonly ListedRole[]).includes(slug)).map((p) => p.slug);
}

export const BUILT_IN_ROLES: readonly RoleDefinition[] = ROLE_SLUGS.map((slug) => ({
  slug,
  ...DESCRIPTIONS[slug],
  builtIn: true,
  permissions: builtInPermissions(slug),
}));

const BUILT_IN_BY_SLUG: ReadonlyMap<string, RoleDefinition> = new Map(BUILT_IN_ROLES.map((r) => [r.slug, r]));

export function builtInRole(slug: string): RoleDefinition | undefined {
  return BUILT_IN_BY_SLUG.get(slug);
}

export function isBuiltInRole(slug: string): slug is RoleSlug {
  return BUILT_IN_BY_SLUG.has(slug);
}

/** A role whose grant deserves a second look (approval, off-hours alerts): it includes a privileged permission. */
export function isPrivilegedRole(role: { permissions: readonly Permission[] }): boolean {
  const privileged = new Set<string>(PERMISSIONS.filter((p) => 'privileged' in p && p.privileged).map((p) => p.slug));
  return role.permissions.some((p) => privileged.has(p));
}
