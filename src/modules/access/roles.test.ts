import { describe, expect, it } from 'vitest';
import { PERMISSION_SLUGS, PERMISSIONS, permissionDefinition } from './permissions.ts';
import { BUILT_IN_ROLES, builtInRole, isPrivilegedRole, ROLE_SLUGS } from './roles.ts';

const role = (slug: string) => {
  const found = builtInRole(slug);
  if (!found) throw new Error(`no built-in role ${slug}`);
  return found;
};

describe('the permission catalog', () => {
  it('covers every capability that exists or is being built, read and manage apart', () => {
    expect(PERMISSION_SLUGS).toEqual(
      expect.arrayContaining([
        'users.read',
        'users.manage',
        'roles.read',
        'roles.manage',
        'tokens.read',
        'tokens.manage',
        'audit.read',
        'audit.export',
        'audit.verify',
        'alerts.read',
        'alerts.manage',
        'siem.read',
        'siem.manage',
        'outbox.read',
        'settings.read',
        'settings.manage',
        'keys.read',
        'keys.manage',
        'backups.read',
        'backups.verify',
        'backups.manage',
        'retention.read',
        'retention.manage',
      ]),
    );
  });

  it('names each permission once, as capability.verb, with a description', () => {
    expect(new Set(PERMISSION_SLUGS).size).toBe(PERMISSION_SLUGS.length);
    for (const p of PERMISSIONS) {
      expect(p.slug).toMatch(/^[a-z][a-z-]*\.[a-z][a-z-]*$/);
      expect(p.description.length).toBeGreaterThan(10);
      expect(p.capability).not.toBe('');
    }
  });

  it('calls nothing that manages, creates or changes a mere read', () => {
    for (const p of PERMISSIONS) {
      if (/\.(manage|create|delete|grant|approve)$/.test(p.slug)) expect(p.effect, p.slug).toBe('changes');
    }
  });
});

describe('built-in roles', () => {
  it('are the ten of the issue, each described', () => {
    expect(BUILT_IN_ROLES.map((r) => r.slug)).toEqual([...ROLE_SLUGS]);
    expect(ROLE_SLUGS).toEqual([
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
    ]);
    for (const r of BUILT_IN_ROLES) expect(r.description.length, r.slug).toBeGreaterThan(20);
  });

  it('give the owner every permission', () => {
    expect([...role('owner').permissions].sort()).toEqual([...PERMISSION_SLUGS].sort());
  });

  it('give the auditor every permission that reads, exports or verifies, including the audit trail', () => {
    const reads = PERMISSIONS.filter((p) => p.effect === 'reads').map((p) => p.slug);
    expect([...role('auditor').permissions].sort()).toEqual([...reads].sort());
    expect(role('auditor').permissions).toEqual(expect.arrayContaining(['audit.read', 'audit.export', 'audit.verify']));
  });

  it('give the auditor no permission that changes anything', () => {
    const changing = role('auditor').permissions.filter((p) => permissionDefinition(p).effect !== 'reads');
    expect(changing).toEqual([]);
    expect(role('auditor').permissions.some((p) => p.endsWith('.manage'))).toBe(false);
  });

  it('keep role definitions and settings to the owner, and user administration to owners and security admins', () => {
    const holders = (permission: string) =>
      BUILT_IN_ROLES.filter((r) => (r.permissions as readonly string[]).includes(permission)).map((r) => r.slug);
    expect(holders('roles.manage')).toEqual(['owner']);
    expect(holders('settings.manage')).toEqual(['owner']);
    expect(holders('users.manage')).toEqual(['owner', 'security-admin']);
    expect(holders('tokens.manage')).toEqual(['owner', 'security-admin']);
  });

  it('give each role what its job needs', () => {
    expect(role('security-admin').permissions).toEqual(
      expect.arrayContaining(['audit.read', 'alerts.manage', 'siem.manage', 'keys.manage', 'backups.manage', 'outbox.read']),
    );
    expect(role('privacy-officer').permissions).toEqual(['audit.read', 'retention.read', 'retention.manage']);
    expect(role('incident-commander').permissions).toEqual(['audit.read', 'audit.export', 'alerts.read', 'alerts.manage']);
    expect(role('responder').permissions).toEqual(['audit.read', 'alerts.read']);
    expect(role('approver').permissions).toEqual([
      'users.read',
      'roles.read',
      'sod.read',
      'content.read',
      'content.approve',
      'documents.read',
      'documents.approve',
      'customers.read',
    ]);
    expect(role('employee').permissions).toEqual([]);
  });

  it('count owner and security admin as privileged, and no other built-in role', () => {
    expect(BUILT_IN_ROLES.filter(isPrivilegedRole).map((r) => r.slug)).toEqual(['owner', 'security-admin']);
  });
});
