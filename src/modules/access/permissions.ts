/**
 * The permission catalog: every permission any capability checks, with who holds it among the built-in roles.
 *
 * A capability that arrives later adds one entry per permission here, nothing else: `owner` holds every
 * permission, `auditor` every permission whose effect is `reads`, and the roles named in `grantedTo` the rest.
 * Custom roles pick from this list. Slugs are stored (custom roles, API token scopes), so never rename one.
 */

/** Built-in roles that receive permissions by listing (owner and auditor receive theirs by rule). */
export type ListedRole =
  | 'security-admin'
  | 'privacy-officer'
  | 'incident-commander'
  | 'responder'
  | 'vendor-manager'
  | 'content-editor'
  | 'approver'
  | 'employee';

export interface PermissionDefinition {
  slug: string;
  /** The capability it belongs to, as the back office groups permissions. */
  capability: string;
  description: string;
  /**
   * `reads`: looks, exports or verifies and changes nothing anyone relies on (the auditor holds all of these).
   * `changes`: creates, edits, deletes, grants or runs something.
   */
  effect: 'reads' | 'changes';
  /** Power over who may do what or over the workspace's keys and data as a whole: its grants deserve a second look. */
  privileged?: boolean;
  grantedTo: readonly ListedRole[];
}

export const PERMISSIONS = [
  {
    slug: 'users.read',
    capability: 'People and roles',
    description: 'See people, the roles they hold and their effective permissions',
    effect: 'reads',
    grantedTo: ['security-admin', 'approver'],
  },
  {
    slug: 'users.manage',
    capability: 'People and roles',
    description: 'Add people and grant or revoke their roles',
    effect: 'changes',
    privileged: true,
    grantedTo: ['security-admin'],
  },
  {
    slug: 'roles.read',
    capability: 'People and roles',
    description: 'See roles and the permissions each includes',
    effect: 'reads',
    grantedTo: ['security-admin', 'approver'],
  },
  {
    slug: 'roles.manage',
    capability: 'People and roles',
    description: 'Create, edit and delete custom roles',
    effect: 'changes',
    privileged: true,
    grantedTo: [],
  },
  {
    slug: 'sod.read',
    capability: 'People and roles',
    description: 'See separation-of-duties rules, who breaks them, and privileged grants waiting for approval',
    effect: 'reads',
    grantedTo: ['security-admin', 'approver'],
  },
  {
    slug: 'sod.manage',
    capability: 'People and roles',
    description: 'Add, change, switch off and delete separation-of-duties rules',
    effect: 'changes',
    privileged: true,
    grantedTo: [],
  },
  {
    slug: 'tokens.read',
    capability: 'API tokens',
    description: 'See API tokens and their scopes (never their secrets)',
    effect: 'reads',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'tokens.manage',
    capability: 'API tokens',
    description: 'Create and revoke API tokens',
    effect: 'changes',
    privileged: true,
    grantedTo: ['security-admin'],
  },
  {
    slug: 'audit.read',
    capability: 'Audit trail',
    description: 'Read the audit trail and its verification status',
    effect: 'reads',
    grantedTo: ['security-admin', 'privacy-officer', 'incident-commander', 'responder'],
  },
  {
    slug: 'audit.export',
    capability: 'Audit trail',
    description: 'Export the audit trail (JSON Lines with signatures, CSV)',
    effect: 'reads',
    grantedTo: ['security-admin', 'incident-commander'],
  },
  {
    slug: 'audit.verify',
    capability: 'Audit trail',
    description: 'Verify the audit trail’s hash chain and signed checkpoints',
    effect: 'reads',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'alerts.read',
    capability: 'Alerts',
    description: 'Read security alerts, the events behind them and the alert settings',
    effect: 'reads',
    grantedTo: ['security-admin', 'incident-commander', 'responder'],
  },
  {
    slug: 'alerts.manage',
    capability: 'Alerts',
    description: 'Acknowledge and close alerts; change thresholds, business hours and contacts',
    effect: 'changes',
    grantedTo: ['security-admin', 'incident-commander'],
  },
  {
    slug: 'siem.read',
    capability: 'SIEM forwarding',
    description: 'See SIEM destinations and how far each has received the trail',
    effect: 'reads',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'siem.manage',
    capability: 'SIEM forwarding',
    description: 'Add, pause, delete and test SIEM destinations',
    effect: 'changes',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'outbox.read',
    capability: 'Outbox',
    description: 'Read outgoing mail, which carries personal data and one-time links',
    effect: 'reads',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'settings.read',
    capability: 'Workspace settings',
    description: 'See the workspace’s settings',
    effect: 'reads',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'settings.manage',
    capability: 'Workspace settings',
    description: 'Change the workspace’s settings',
    effect: 'changes',
    privileged: true,
    grantedTo: [],
  },
  {
    slug: 'keys.read',
    capability: 'Encryption keys',
    description: 'See the state and rotation history of encryption keys (never key material)',
    effect: 'reads',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'keys.manage',
    capability: 'Encryption keys',
    description: 'Rotate encryption keys',
    effect: 'changes',
    privileged: true,
    grantedTo: ['security-admin'],
  },
  {
    slug: 'backups.read',
    capability: 'Backups',
    description: 'See backups, their checksums and verification results',
    effect: 'reads',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'backups.verify',
    capability: 'Backups',
    description: 'Re-check backups’ checksums on demand',
    effect: 'reads',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'backups.manage',
    capability: 'Backups',
    description: 'Run backups, change their schedule and who answers for them',
    effect: 'changes',
    privileged: true,
    grantedTo: ['security-admin'],
  },
  {
    slug: 'retention.read',
    capability: 'Retention',
    description: 'See retention rules per data category and the deletion records',
    effect: 'reads',
    grantedTo: ['security-admin', 'privacy-officer'],
  },
  {
    slug: 'retention.manage',
    capability: 'Retention',
    description: 'Change retention rules per data category',
    effect: 'changes',
    grantedTo: ['security-admin', 'privacy-officer'],
  },
  {
    slug: 'reviews.read',
    capability: 'Access reviews',
    description: 'See access review campaigns, their decisions and evidence exports',
    effect: 'reads',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'reviews.manage',
    capability: 'Access reviews',
    description: 'Start, close and reassign access reviews; turn the quarterly schedule on or off',
    effect: 'changes',
    grantedTo: ['security-admin'],
  },
  {
    slug: 'content.read',
    capability: 'Trust Center content',
    description: 'See Trust Center drafts, versions, reviews and their history',
    effect: 'reads',
    grantedTo: ['security-admin', 'content-editor', 'approver'],
  },
  {
    slug: 'content.edit',
    capability: 'Trust Center content',
    description: 'Write Trust Center drafts and ask for a policy’s review',
    effect: 'changes',
    grantedTo: ['security-admin', 'content-editor'],
  },
  {
    slug: 'content.publish',
    capability: 'Trust Center content',
    description: 'Publish drafts and roll back to an earlier version (policies only once approved)',
    effect: 'changes',
    grantedTo: ['security-admin', 'content-editor'],
  },
  {
    slug: 'content.approve',
    capability: 'Trust Center content',
    description: 'Approve a policy someone else wrote before it is published',
    effect: 'changes',
    grantedTo: ['security-admin', 'approver'],
  },
  {
    slug: 'documents.read',
    capability: 'Gated documents',
    description: 'See gated documents, their settings and version history, and download their files',
    effect: 'reads',
    grantedTo: ['security-admin', 'content-editor', 'approver'],
  },
  {
    slug: 'documents.manage',
    capability: 'Gated documents',
    description: 'Create gated documents, change their access level and settings, and upload new versions',
    effect: 'changes',
    grantedTo: ['security-admin', 'content-editor'],
  },
  {
    slug: 'documents.approve',
    capability: 'Gated documents',
    description: 'Approve or deny requests for gated documents, and revoke access already granted',
    effect: 'changes',
    grantedTo: ['security-admin', 'approver'],
  },
  {
    slug: 'customers.read',
    capability: 'Customer accounts',
    description: 'See the registry of customer organizations, their mail domains and contacts',
    effect: 'reads',
    grantedTo: ['security-admin', 'content-editor', 'approver'],
  },
  {
    slug: 'customers.manage',
    capability: 'Customer accounts',
    description: 'Add, change and remove customer organizations, their mail domains and contacts',
    effect: 'changes',
    grantedTo: ['security-admin'],
  },
] as const satisfies readonly PermissionDefinition[];

export type Permission = (typeof PERMISSIONS)[number]['slug'];

export const PERMISSION_SLUGS: readonly Permission[] = PERMISSIONS.map((p) => p.slug);

const BY_SLUG: ReadonlyMap<string, PermissionDefinition> = new Map(PERMISSIONS.map((p) => [p.slug, p]));

export function isPermission(value: string): value is Permission {
  return BY_SLUG.has(value);
}

export function permissionDefinition(slug: Permission): PermissionDefinition {
  const found = BY_SLUG.get(slug);
  if (!found) throw new Error(`unknown permission ${slug}`);
  return found;
}

/** Known permissions among `values`, in catalog order; stored lists may name permissions since retired. */
export function knownPermissions(values: Iterable<string>): Permission[] {
  const wanted = new Set(values);
  return PERMISSION_SLUGS.filter((p) => wanted.has(p));
}

/** The catalog grouped by capability, in catalog order, for pages that list permissions. */
export function permissionsByCapability(): { capability: string; permissions: PermissionDefinition[] }[] {
  const groups = new Map<string, PermissionDefinition[]>();
  for (const p of PERMISSIONS) groups.set(p.capability, [...(groups.get(p.capability) ?? []), p]);
  return [...groups].map(([capability, permissions]) => ({ capability, permissions }));
}
