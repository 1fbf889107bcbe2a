import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { type AuditEventRow, searchEvents } from '../../platform/audit/store.ts';
import type { RequestContext } from '../../platform/context.ts';
import { createPerson } from '../identity/service.ts';
import { createTenant } from '../tenants/service.ts';
import { createCustomRole, deleteCustomRole, getPerson, grantRole, listPeople, revokeRole } from './service.ts';

let t: TestApp;
let owner: SignedIn;
let ownerToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const jsonHeaders = (token: string) => ({ ...bearer(token), 'content-type': 'application/json' });

async function api<T = Record<string, unknown>>(
  path: string,
  token: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const res = await t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: jsonHeaders(token),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

const page = (path: string, session: SignedIn) => t.request(path, { headers: { cookie: session.cookie } });

/** The tenant's events with this action, oldest first. */
async function events(action: string, tenantId = t.tenant.id): Promise<AuditEventRow[]> {
  const rows = await t.runtime.db.withTenant(tenantId, (tx) => searchEvents(tx, { action }, 10_000, 0));
  return rows.filter((e) => e.action === action).reverse();
}

/** Roles a person holds, read straight from the service as the system. */
async function rolesOf(userId: string): Promise<string[]> {
  return (await getPerson(t.contextOf({ kind: 'system', name: 'test' }), userId)).roles;
}

/** A person created as the command line would, without signing in. */
async function person(email: string, role = 'employee'): Promise<string> {
  const user = await createPerson(t.contextOf({ kind: 'system', name: 'cli' }), {
    email,
    name: email.split('@')[0] ?? email,
    role,
  });
  return user.id;
}

beforeAll(async () => {
  t = await createTestApp();
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
});

afterAll(async () => {
  await t.close();
});

describe('people in the back office', () => {
  it('lists people with their roles and whether they can sign in, linking to each', async () => {
    const id = await person('no-password@acme.test', 'responder');
    const html = await (await page('/admin/users', owner)).text();
    expect(html).toContain(`href="/admin/users/${id}"`);
    expect(html).toContain('owner@acme.test');
    expect(html).toContain('Responder');
    expect(html).toContain('no password yet');
    expect(html).toContain('Add a person');
  });

  it('adds a person with a role from the form, and explains a duplicate address beside the field', async () => {
    const added = await t.postForm('/admin/users', owner, { name: 'Grace', email: 'Grace@Acme.test', role: 'approver' });
    expect(added.status).toBe(303);
    const id = added.headers.get('location')?.split('/').at(-1) ?? '';
    expect(await rolesOf(id)).toEqual(['approver']);
    const [created] = (await events('user.created')).filter((e) => e.targetId === id);
    expect(created).toMatchObject({ actorLabel: owner.email, details: { email: 'grace@acme.test', role: 'approver' } });

    const again = await t.postForm('/admin/users', owner, { name: 'Grace 2', email: 'grace@acme.test', role: 'employee' });
    expect(again.status).toBe(422);
    const html = await again.text();
    expect(html).toContain('a person with the email grace@acme.test already exists');
    expect(html).toContain('value="Grace 2"');
  });

  it('grants a role with the form, applies it from the person’s next request, and records it', async () => {
    const pat = await t.signInAs('employee', 'pat@acme.test');
    expect((await page('/admin/audit', pat)).status).toBe(403);
    const before = await (await page(`/admin/users/${pat.userId}`, owner)).text();
    expect(before).toContain('No role held gives any permission');

    const granted = await t.postForm(`/admin/users/${pat.userId}/roles`, owner, { role: 'auditor' });
    expect(granted.status).toBe(303);
    expect(await rolesOf(pat.userId)).toEqual(['auditor', 'employee']);
    const detail = await (await page(`/admin/users/${pat.userId}`, owner)).text();
    expect(detail).toContain('audit.export');
    expect(detail).toContain(`/admin/users/${pat.userId}/roles/auditor/revoke`);
    expect((await page('/admin/audit', pat)).status).toBe(200);
    expect((await events('access.role_granted')).at(-1)).toMatchObject({
      actorLabel: owner.email,
      targetType: 'user',
      targetId: pat.userId,
      details: { role: 'auditor', email: 'pat@acme.test', privileged: false },
    });
  });

  it('revokes a role with the form, effective from the next request, and records it', async () => {
    const pat = await t.signInAs('employee', 'pat@acme.test');
    const revoked = await t.postForm(`/admin/users/${pat.userId}/roles/auditor/revoke`, owner, {});
    expect(revoked.status).toBe(303);
    expect(await rolesOf(pat.userId)).toEqual(['employee']);
    expect((await page('/admin/audit', pat)).status).toBe(403);
    expect((await events('access.role_revoked')).at(-1)).toMatchObject({
      actorLabel: owner.email,
      targetId: pat.userId,
      details: { role: 'auditor', email: 'pat@acme.test' },
    });
  });

  it('refuses a grant whose form lacks the session’s token', async () => {
    const pat = await t.signInAs('employee', 'pat@acme.test');
    const res = await t.request(`/admin/users/${pat.userId}/roles`, {
      method: 'POST',
      headers: { cookie: owner.cookie, origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'role=auditor',
    });
    expect(res.status).toBe(403);
    expect(await rolesOf(pat.userId)).toEqual(['employee']);
  });

  it('shows people and roles read-only to an auditor', async () => {
    const auditor = await t.signInAs('auditor');
    const list = await (await page('/admin/users', auditor)).text();
    expect(list).not.toContain('Add a person');
    const detail = await (await page(`/admin/users/${owner.userId}`, auditor)).text();
    expect(detail).not.toContain('/revoke');
    expect(detail).not.toContain('Grant a role');
  });
});

describe('custom roles', () => {
  it('creates a role from the form with a slug from its name and the chosen permissions, and records it', async () => {
    const res = await t.postForm('/admin/roles', owner, {
      name: 'Vendor reviewers (EU)',
      description: 'Review vendors’ trail entries',
      permissions: 'audit.read',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/roles/vendor-reviewers-eu');
    const role = await api<{ permissions: string[]; builtIn: boolean }>('/roles/vendor-reviewers-eu', ownerToken);
    expect(role.body).toMatchObject({ permissions: ['audit.read'], builtIn: false });
    expect((await events('access.role_created')).at(-1)).toMatchObject({
      targetType: 'role',
      targetId: 'vendor-reviewers-eu',
      details: { name: 'Vendor reviewers (EU)', permissions: ['audit.read'], privileged: false },
    });
  });

  it('takes several permissions from one form', async () => {
    const body = new URLSearchParams({ _csrf: owner.csrfToken, name: 'Trail exporters' });
    body.append('permissions', 'audit.read');
    body.append('permissions', 'audit.export');
    const res = await t.request('/admin/roles', {
      method: 'POST',
      headers: { cookie: owner.cookie, origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    expect(res.status).toBe(303);
    expect((await api<{ permissions: string[] }>('/roles/trail-exporters', ownerToken)).body.permissions).toEqual([
      'audit.read',
      'audit.export',
    ]);
  });

  it('gives holders a permission added to their role from their next request', async () => {
    const holder = await t.signInAs('vendor-reviewers-eu', 'vera@acme.test');
    expect((await page('/admin/audit', holder)).status).toBe(200);
    expect((await page('/admin/alerts', holder)).status).toBe(403);
    const edited = await t.postForm('/admin/roles/vendor-reviewers-eu', owner, {
      name: 'Vendor reviewers (EU)',
      description: 'Also watch alerts',
      permissions: 'alerts.read',
    });
    expect(edited.status).toBe(303);
    expect((await page('/admin/alerts', holder)).status).toBe(200);
    expect((await page('/admin/audit', holder)).status).toBe(403); // removed by the same edit
    expect((await events('access.role_updated')).at(-1)?.details).toMatchObject({
      added: ['alerts.read'],
      removed: ['audit.read'],
    });
  });

  it('refuses to delete a role somebody holds, and deletes it once nobody does', async () => {
    const holder = await t.signInAs('vendor-reviewers-eu', 'vera@acme.test');
    const refused = await api<{ detail: string }>('/roles/vendor-reviewers-eu', ownerToken, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe('“Vendor reviewers (EU)” is held by 1 person; revoke it from them first');
    expect((await api(`/users/${holder.userId}/roles/vendor-reviewers-eu`, ownerToken, { method: 'DELETE' })).status).toBe(204);
    const deleted = await t.postForm('/admin/roles/vendor-reviewers-eu/delete', owner, {});
    expect(deleted.status).toBe(303);
    expect((await api('/roles/vendor-reviewers-eu', ownerToken)).status).toBe(404);
    expect((await events('access.role_deleted')).at(-1)).toMatchObject({ targetId: 'vendor-reviewers-eu' });
  });

  it('never changes or deletes a built-in role', async () => {
    const put = await api('/roles/auditor', ownerToken, {
      method: 'PUT',
      body: { name: 'Auditor', description: '', permissions: ['audit.read', 'keys.manage'] },
    });
    expect(put.status).toBe(403);
    expect((await api('/roles/auditor', ownerToken, { method: 'DELETE' })).status).toBe(403);
    expect((await t.postForm('/admin/roles/owner/delete', owner, {})).status).toBe(403);
    const view = await (await page('/admin/roles/auditor', owner)).text();
    expect(view).toContain('Built-in roles cannot be changed.');
    expect(view).not.toContain('Save role');
    expect((await api<{ permissions: string[] }>('/roles/auditor', ownerToken)).body.permissions).not.toContain('keys.manage');
  });

  it('refuses a name or slug of a built-in role, a duplicate name and an unknown permission', async () => {
    const clash = await api<{ errors: Record<string, string> }>('/roles', ownerToken, {
      method: 'POST',
      body: { name: 'Auditor', permissions: [] },
    });
    expect(clash.status).toBe(422);
    expect(clash.body.errors.name).toContain('built-in');
    const slug = await api('/roles', ownerToken, {
      method: 'POST',
      body: { name: 'Owners club', slug: 'owner', permissions: [] },
    });
    expect(slug.status).toBe(422);
    const dup = await api('/roles', ownerToken, { method: 'POST', body: { name: 'trail EXPORTERS', permissions: [] } });
    expect(dup.status).toBe(422);
    const unknown = await api<{ errors: Record<string, string> }>('/roles', ownerToken, {
      method: 'POST',
      body: { name: 'Emperors', permissions: ['galaxy.rule'] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors['permissions.0']).toContain('unknown permission');
    const form = await t.postForm('/admin/roles', owner, { name: 'Auditor', permissions: 'audit.read' });
    expect(form.status).toBe(422);
    expect(await form.text()).toContain('a built-in role has this name; choose another');
  });

  it('lists built-in roles with their permissions and custom roles with their holders', async () => {
    const html = await (await page('/admin/roles', owner)).text();
    for (const name of ['Owner', 'Security admin', 'Privacy officer', 'Incident commander', 'Auditor', 'Employee']) {
      expect(html).toContain(name);
    }
    expect(html).toContain('/admin/roles/trail-exporters');
    expect(html).toContain('Create a role');
    const roles = await api<{ items: { slug: string; builtIn: boolean; holders: number }[] }>('/roles', ownerToken);
    expect(roles.body.items.slice(0, 10).every((r) => r.builtIn)).toBe(true);
    expect(roles.body.items.find((r) => r.slug === 'owner')?.holders).toBe(1);
  });
});

describe('privilege escalation', () => {
  let admin: SignedIn;
  let adminToken: string;
  let victimId: string;

  beforeAll(async () => {
    admin = await t.signInAs('security-admin', 'sam@acme.test');
    adminToken = await t.apiToken('security-admin');
    victimId = await person('victor@acme.test');
  });

  const deniedSince = async (count: number) => (await events('access.denied')).slice(count);

  it('lets a security admin grant what they hold, never the owner role, by form or API', async () => {
    expect((await t.postForm(`/admin/users/${victimId}/roles`, admin, { role: 'responder' })).status).toBe(303);
    const before = (await events('access.denied')).length;
    const form = await t.postForm(`/admin/users/${victimId}/roles`, admin, { role: 'owner' });
    expect(form.status).toBe(403);
    expect(await form.text()).toContain('it includes permissions you do not hold (roles.manage, sod.manage, settings.manage)');
    const viaApi = await api(`/users/${victimId}/roles/owner`, adminToken, { method: 'PUT' });
    expect(viaApi.status).toBe(403);
    const created = await api('/users', adminToken, {
      method: 'POST',
      body: { email: 'sneaky@acme.test', name: 'Sneaky', role: 'owner' },
    });
    expect(created.status).toBe(403);
    expect(await rolesOf(victimId)).toEqual(['employee', 'responder']);
    expect((await api<{ items: { email: string }[] }>('/users', ownerToken)).body.items.map((p) => p.email)).not.toContain(
      'sneaky@acme.test',
    );
    const denials = await deniedSince(before);
    expect(denials).toHaveLength(3);
    expect(denials.map((d) => d.details.path)).toEqual([
      `/admin/users/${victimId}/roles`,
      `/api/v1/users/${victimId}/roles/owner`,
      '/api/v1/users',
    ]);
  });

  it('lets nobody take a role stronger than their own from someone else', async () => {
    const res = await t.postForm(`/admin/users/${owner.userId}/roles/owner/revoke`, admin, {});
    expect(res.status).toBe(403);
    expect(await rolesOf(owner.userId)).toEqual(['owner']);
  });

  it('lets nobody change their own roles', async () => {
    const grantSelf = await t.postForm(`/admin/users/${admin.userId}/roles`, admin, { role: 'privacy-officer' });
    expect(grantSelf.status).toBe(403);
    expect(await grantSelf.text()).toContain('you cannot change your own roles');
    const dropOwn = await t.postForm(`/admin/users/${owner.userId}/roles/owner/revoke`, owner, {});
    expect(dropOwn.status).toBe(403);
    expect(await rolesOf(admin.userId)).toEqual(['security-admin']);
    const detail = await (await page(`/admin/users/${admin.userId}`, admin)).text();
    expect(detail).toContain('Nobody changes their own roles');
  });

  it('lets a role editor put into a role only the permissions they hold', async () => {
    await createCustomRole(t.contextOf({ kind: 'system', name: 'cli' }), {
      name: 'Role stewards',
      permissions: ['roles.read', 'roles.manage', 'audit.read'],
    });
    const steward = await t.signInAs('role-stewards', 'stella@acme.test');
    const tooMuch = await t.postForm('/admin/roles', steward, { name: 'Key keepers', permissions: 'keys.manage' });
    expect(tooMuch.status).toBe(403);
    const stewardToken = (
      await api<{ token: string }>('/api-tokens', ownerToken, {
        method: 'POST',
        body: { name: 'steward', permissions: ['roles.read', 'roles.manage'] },
      })
    ).body.token;
    const viaApi = await api('/roles', stewardToken, {
      method: 'POST',
      body: { name: 'Exporters', permissions: ['audit.export'] },
    });
    expect(viaApi.status).toBe(403);
    // Editing a role that holds what the editor lacks keeps it, and adding it anew is refused.
    const keep = await api('/roles/trail-exporters', stewardToken, {
      method: 'PUT',
      body: { name: 'Trail exporters', description: 'renamed', permissions: ['audit.read', 'audit.export'] },
    });
    expect(keep.status).toBe(200);
    const add = await api('/roles/trail-exporters', stewardToken, {
      method: 'PUT',
      body: { name: 'Trail exporters', permissions: ['audit.read', 'audit.export', 'siem.manage'] },
    });
    expect(add.status).toBe(403);
    const fine = await t.postForm('/admin/roles', steward, { name: 'Readers', permissions: 'audit.read' });
    expect(fine.status).toBe(303);
    expect((await api<{ permissions: string[] }>('/roles/trail-exporters', ownerToken)).body.permissions).toEqual([
      'audit.read',
      'audit.export',
    ]);
  });

  it('gives a token no permission its creator lacks, by form, API or role shortcut', async () => {
    const form = await t.postForm('/admin/api-tokens', admin, { name: 'grab', permissions: 'roles.manage', expires: '' });
    expect(form.status).toBe(403);
    const shortcut = await t.postForm('/admin/api-tokens', admin, { name: 'grab', role: 'owner', expires: '' });
    expect(shortcut.status).toBe(403);
    const viaApi = await api('/api-tokens', adminToken, {
      method: 'POST',
      body: { name: 'grab', permissions: ['settings.manage'] },
    });
    expect(viaApi.status).toBe(403);
    const allowed = await api<{ permissions: string[] }>('/api-tokens', adminToken, {
      method: 'POST',
      body: { name: 'siem reader', permissions: ['siem.read'] },
    });
    expect(allowed.status).toBe(201);
    expect(allowed.body.permissions).toEqual(['siem.read']);
    const tokens = await api<{ items: { name: string }[] }>('/api-tokens', ownerToken);
    expect(tokens.body.items.filter((i) => i.name === 'grab')).toEqual([]);
  });

  it('acts with exactly the token’s scopes', async () => {
    const { body } = await api<{ token: string }>('/api-tokens', ownerToken, {
      method: 'POST',
      body: { name: 'narrow', permissions: ['users.read'] },
    });
    expect((await api('/users', body.token)).status).toBe(200);
    expect((await api('/roles', body.token)).status).toBe(403);
    expect((await api(`/users/${victimId}/roles/employee`, body.token, { method: 'DELETE' })).status).toBe(403);
  });

  it('keeps the last owner an owner', async () => {
    const last = await api<{ detail: string }>(`/users/${owner.userId}/roles/owner`, ownerToken, { method: 'DELETE' });
    expect(last.status).toBe(409);
    expect(last.body.detail).toBe('the last owner cannot lose the owner role; make someone else owner first');
    await expect(revokeRole(t.contextOf({ kind: 'system', name: 'cli' }), owner.userId, 'owner')).rejects.toThrow(/last owner/);
    const second = await t.signInAs('employee', 'olga@acme.test');
    // An operator's token grants at once (a person's grant of a privileged role waits for approval: approvals.test.ts).
    expect((await api(`/users/${second.userId}/roles/owner`, ownerToken, { method: 'PUT' })).status).toBe(200);
    // Owners must use two-step sign-in: the new owner enrols before the back office opens to them.
    await t.enrolIfRequired(second);
    expect((await t.postForm(`/admin/users/${owner.userId}/roles/owner/revoke`, second, {})).status).toBe(303);
    expect(await rolesOf(owner.userId)).toEqual([]);
    const back = await api(`/users/${owner.userId}/roles/owner`, ownerToken, { method: 'PUT' });
    expect(back.status).toBe(200);
    expect((await events('access.role_granted')).at(-1)?.details).toMatchObject({ role: 'owner', privileged: true });
  });

  it('ignores a tenant id or person id slipped into a form or a body', async () => {
    const other = await createTenant(t.runtime.db, { slug: 'globex', name: 'Globex', hosts: ['globex.test'] });
    const created = await api<{ id: string }>('/users', ownerToken, {
      method: 'POST',
      body: {
        email: 'dana@acme.test',
        name: 'Dana',
        role: 'employee',
        roles: ['owner'],
        permissions: ['roles.manage'],
        tenantId: other.id,
        tenant_id: other.id,
      },
    });
    expect(created.status).toBe(201);
    expect(await rolesOf(created.body.id)).toEqual(['employee']);
    const inOther = await t.runtime.db.withTenant(other.id, (tx) => searchEvents(tx, { action: 'user.created' }, 10, 0));
    expect(inOther).toEqual([]);
    const res = await t.postForm(`/admin/users/${created.body.id}/roles`, owner, {
      role: 'responder',
      tenantId: other.id,
      userId: owner.userId,
    });
    expect(res.status).toBe(303);
    expect(await rolesOf(created.body.id)).toEqual(['employee', 'responder']);
    // A role's identity comes from its URL: a slug or "built-in" flag in the body changes nothing.
    const put = await api<{ slug: string; builtIn: boolean }>('/roles/trail-exporters', ownerToken, {
      method: 'PUT',
      body: { name: 'Trail exporters', permissions: ['audit.read', 'audit.export'], slug: 'owner', builtIn: true },
    });
    expect(put.body).toMatchObject({ slug: 'trail-exporters', builtIn: false });
    expect((await api<{ permissions: string[] }>('/roles/owner', ownerToken)).body.permissions).toContain('roles.manage');
  });
});

describe('another tenant’s people and roles', () => {
  let outsiderId: string;
  let otherCtx: RequestContext;

  beforeAll(async () => {
    const other = await createTenant(t.runtime.db, { slug: 'initech', name: 'Initech', hosts: ['initech.test'] });
    otherCtx = { ...t.contextOf({ kind: 'system', name: 'cli' }), tenant: { id: other.id, slug: other.slug, name: other.name } };
    outsiderId = (await createPerson(otherCtx, { email: 'peter@initech.test', name: 'Peter', role: 'employee' })).id;
    await createCustomRole(otherCtx, { name: 'TPS reviewers', permissions: ['audit.read'] });
  });

  it('are not found through the API', async () => {
    expect((await api(`/users/${outsiderId}`, ownerToken)).status).toBe(404);
    expect((await api(`/users/${outsiderId}/roles/auditor`, ownerToken, { method: 'PUT' })).status).toBe(404);
    expect((await api(`/users/${outsiderId}/roles/employee`, ownerToken, { method: 'DELETE' })).status).toBe(404);
    expect((await api('/roles/tps-reviewers', ownerToken)).status).toBe(404);
    expect((await api('/roles/tps-reviewers', ownerToken, { method: 'DELETE' })).status).toBe(404);
    const put = await api('/roles/tps-reviewers', ownerToken, { method: 'PUT', body: { name: 'Mine', permissions: [] } });
    expect(put.status).toBe(404);
    const someone = await person('erin@acme.test');
    expect((await api(`/users/${someone}/roles/tps-reviewers`, ownerToken, { method: 'PUT' })).status).toBe(404);
    const list = await api<{ items: { email: string }[] }>('/users', ownerToken);
    expect(list.body.items.map((p) => p.email)).not.toContain('peter@initech.test');
  });

  it('are not found in the back office', async () => {
    expect((await page(`/admin/users/${outsiderId}`, owner)).status).toBe(404);
    expect((await page('/admin/roles/tps-reviewers', owner)).status).toBe(404);
    expect((await t.postForm(`/admin/users/${outsiderId}/roles`, owner, { role: 'auditor' })).status).toBe(404);
    expect((await t.postForm('/admin/roles/tps-reviewers/delete', owner, {})).status).toBe(404);
    expect((await getPerson(otherCtx, outsiderId)).roles).toEqual(['employee']);
  });
});

describe('the people and roles API', () => {
  it('shows a person’s grants with who granted them, and their effective permissions', async () => {
    const id = await person('quinn@acme.test', 'incident-commander');
    const { status, body } = await api<{
      grants: { role: string; grantedBy: string }[];
      permissions: string[];
      status: string;
    }>(`/users/${id}`, ownerToken);
    expect(status).toBe(200);
    expect(body.grants).toEqual([expect.objectContaining({ role: 'incident-commander', grantedBy: 'cli' })]);
    expect(body.permissions).toEqual(['audit.read', 'audit.export', 'alerts.read', 'alerts.manage']);
    expect(body.status).toBe('no-password');
  });

  it('grants idempotently and refuses to revoke a role the person does not hold', async () => {
    const id = await person('ravi@acme.test');
    const first = await api<{ status: string; user: { roles: string[] } }>(`/users/${id}/roles/responder`, ownerToken, {
      method: 'PUT',
    });
    expect(first.body).toMatchObject({ status: 'granted', user: { roles: ['employee', 'responder'] } });
    const again = await api<{ status: string }>(`/users/${id}/roles/responder`, ownerToken, { method: 'PUT' });
    expect(again.body.status).toBe('unchanged');
    expect((await events('access.role_granted')).filter((e) => e.targetId === id)).toHaveLength(2); // employee, responder
    expect((await api(`/users/${id}/roles/auditor`, ownerToken, { method: 'DELETE' })).status).toBe(404);
    expect((await api(`/users/${id}/roles/emperor`, ownerToken, { method: 'PUT' })).status).toBe(404);
  });

  it('explains a bad person with 422 and a duplicate with 409', async () => {
    const bad = await api<{ errors: Record<string, string> }>('/users', ownerToken, {
      method: 'POST',
      body: { email: 'not an address', name: '', role: 'employee' },
    });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.errors).sort()).toEqual(['email', 'name']);
    const unknownRole = await api<{ detail: string }>('/users', ownerToken, {
      method: 'POST',
      body: { email: 'uma@acme.test', name: 'Uma', role: 'emperor' },
    });
    expect(unknownRole.status).toBe(422);
    expect(unknownRole.body.detail).toContain('valid roles: owner, security-admin');
    const dup = await api('/users', ownerToken, {
      method: 'POST',
      body: { email: 'owner@acme.test', name: 'Again', role: 'employee' },
    });
    expect(dup.status).toBe(409);
  });

  it('publishes the permission catalog and describes every route in the OpenAPI document', async () => {
    const catalog = await api<{ items: { slug: string; effect: string }[] }>('/permissions', ownerToken);
    expect(catalog.body.items.find((p) => p.slug === 'audit.export')).toMatchObject({ effect: 'reads' });
    const doc = (await (await t.request('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/users', '/users/{id}', '/users/{id}/roles/{role}', '/roles', '/roles/{slug}', '/permissions']),
    );
  });
});

describe('changes at the same moment', () => {
  let ctx: RequestContext;

  beforeAll(async () => {
    const other = await createTenant(t.runtime.db, { slug: 'umbrella', name: 'Umbrella', hosts: ['umbrella.test'] });
    ctx = { ...t.contextOf({ kind: 'system', name: 'cli' }), tenant: { id: other.id, slug: other.slug, name: other.name } };
  });

  it('leaves one owner when two owners lose the role at once', async () => {
    const a = await createPerson(ctx, { email: 'a@umbrella.test', name: 'A', role: 'owner' });
    const b = await createPerson(ctx, { email: 'b@umbrella.test', name: 'B', role: 'owner' });
    const results = await Promise.allSettled([revokeRole(ctx, a.id, 'owner'), revokeRole(ctx, b.id, 'owner')]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(String(rejected?.status === 'rejected' ? rejected.reason : '')).toContain('last owner');
    const owners = (await listPeople(ctx)).filter((p) => p.roles.includes('owner'));
    expect(owners).toHaveLength(1);
  });

  it('never leaves a grant of a custom role deleted at the same time', async () => {
    const c = await createPerson(ctx, { email: 'c@umbrella.test', name: 'C', role: 'employee' });
    await createCustomRole(ctx, { name: 'Short lived', permissions: ['audit.read'] });
    const [deleted, granted] = await Promise.allSettled([
      deleteCustomRole(ctx, 'short-lived'),
      grantRole(ctx, c.id, 'short-lived'),
    ]);
    expect([deleted.status, granted.status].sort()).toEqual(['fulfilled', 'rejected']);
    const roles = (await getPerson(ctx, c.id)).roles;
    expect(roles).toEqual(deleted.status === 'fulfilled' ? ['employee'] : ['employee', 'short-lived']);
  });
});
