import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { type AuditEventRow, searchEvents } from '../../platform/audit/store.ts';
import type { Actor } from '../../platform/context.ts';
import { defaultAlertSettings } from '../alerts/schema.ts';
import { updateAlertSettings } from '../alerts/service.ts';
import { defaultBackupSettings } from '../backups/schema.ts';
import { saveBackupSettings } from '../backups/service.ts';
import { createApiToken, createPerson } from '../identity/service.ts';
import { approveGrantRequest } from './approvals.ts';
import { PERMISSION_SLUGS } from './permissions.ts';
import { createCustomRole, getPerson } from './service.ts';

let t: TestApp;
let clock: TestClock;
let owner: SignedIn;
/** An operator's token (made on the command line): it grants privileged roles at once, the break-glass path. */
let operatorToken: string;

const SYSTEM: Actor = { kind: 'system', name: 'cli' };

async function api<T = Record<string, unknown>>(
  path: string,
  token: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const res = await t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

const page = (path: string, session: SignedIn) => t.request(path, { headers: { cookie: session.cookie } });

async function events(action: string): Promise<AuditEventRow[]> {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, { action }, 10_000, 0));
  return rows.filter((e) => e.action === action).reverse();
}

async function rolesOf(userId: string): Promise<string[]> {
  return (await getPerson(t.contextOf(SYSTEM), userId)).roles;
}

async function person(email: string, role = 'employee'): Promise<string> {
  return (await createPerson(t.contextOf(SYSTEM), { email, name: email.split('@')[0] ?? email, role })).id;
}

/** A person as the actor of a service call, holding every permission (an owner). */
function ownerActor(session: SignedIn): Actor {
  return {
    kind: 'user',
    id: session.userId,
    email: session.email,
    name: 'owner',
    roles: ['owner'],
    permissions: new Set(PERMISSION_SLUGS),
  };
}

/** A token made by a person in the back office: it acts for them, so their grants wait for approval too. */
async function tokenOf(session: SignedIn, role = 'owner'): Promise<string> {
  const { token } = await createApiToken(
    t.runtime,
    { tenantId: t.tenant.id, actor: ownerActor(session) },
    { name: `of ${session.email}`, role },
  );
  return token;
}

beforeAll(async () => {
  clock = new TestClock(new Date('2030-01-07T10:00:00Z'));
  t = await createTestApp({ clock });
  owner = await t.signInAsOwner();
  operatorToken = await t.apiToken('owner');
});

afterAll(async () => {
  await t.close();
});

describe('separation of duties', () => {
  it('starts every tenant with the default rules, which can be switched off but not edited or deleted', async () => {
    const { status, body } = await api<{ items: { id: string; name: string; builtIn: boolean; enabled: boolean }[] }>(
      '/sod/rules',
      operatorToken,
    );
    expect(status).toBe(200);
    expect(body.items.filter((r) => r.builtIn).map((r) => r.name)).toEqual(
      expect.arrayContaining(['User administration vs. audit', 'Security administration vs. audit']),
    );
    expect(body.items.every((r) => r.enabled)).toBe(true);
    expect((await api('/sod/rules/user-administration-vs-audit', operatorToken, { method: 'DELETE' })).status).toBe(403);
    const edit = await api('/sod/rules/user-administration-vs-audit', operatorToken, {
      method: 'PUT',
      body: { name: 'Renamed', a: { roles: ['owner'] }, b: { roles: ['auditor'] } },
    });
    expect(edit.status).toBe(403);
    const html = await (await page('/admin/separation-of-duties', owner)).text();
    expect(html).toContain('Security administration vs. audit');
    expect(html).toContain('0 current violations');
  });

  it('refuses a grant that would break a rule, naming the rule, by form and API, and records the refusal', async () => {
    const sam = await person('sam-sod@acme.test', 'security-admin');
    const form = await t.postForm(`/admin/users/${sam}/roles`, owner, { role: 'auditor' });
    expect(form.status).toBe(409);
    expect(await form.text()).toContain(
      'would break the separation-of-duties rules “User administration vs. audit”, “Security administration vs. audit” and “Evidence retention vs. audit”',
    );
    const viaApi = await api<{ detail: string }>(`/users/${sam}/roles/auditor`, operatorToken, { method: 'PUT' });
    expect(viaApi.status).toBe(409);
    expect(viaApi.body.detail).toBe(
      'granting “Auditor” to sam-sod@acme.test would break the separation-of-duties rules “User administration vs. audit”, “Security administration vs. audit” and “Evidence retention vs. audit”',
    );
    expect(await rolesOf(sam)).toEqual(['security-admin']);
    const refused = (await events('access.grant_refused')).filter((e) => e.targetId === sam);
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({
      outcome: 'denied',
      details: {
        rules: ['User administration vs. audit', 'Security administration vs. audit', 'Evidence retention vs. audit'],
        role: 'auditor',
      },
    });
  });

  it('refuses a change to a custom role that would make a holder break a rule, naming the rule and the holder', async () => {
    const role = await createCustomRole(t.contextOf(SYSTEM), { name: 'Evidence readers', permissions: ['audit.read'] });
    const ada = await person('ada-sod@acme.test', 'auditor');
    expect((await api(`/users/${ada}/roles/${role.slug}`, operatorToken, { method: 'PUT' })).status).toBe(200);
    const change = await api<{ detail: string }>(`/roles/${role.slug}`, operatorToken, {
      method: 'PUT',
      body: { name: 'Evidence readers', permissions: ['audit.read', 'users.manage'] },
    });
    expect(change.status).toBe(409);
    expect(change.body.detail).toContain('User administration vs. audit');
    expect(change.body.detail).toContain('ada-sod@acme.test');
    expect((await api<{ permissions: string[] }>(`/roles/${role.slug}`, operatorToken)).body.permissions).toEqual(['audit.read']);
    expect((await events('access.role_update_refused')).at(-1)?.details).toMatchObject({
      rules: ['User administration vs. audit'],
      email: 'ada-sod@acme.test',
    });
  });

  it('reports people who already break a rule added or switched on after their grants', async () => {
    const ivy = await person('ivy-sod@acme.test', 'incident-commander');
    expect((await api(`/users/${ivy}/roles/privacy-officer`, operatorToken, { method: 'PUT' })).status).toBe(200);
    const added = await t.postForm('/admin/separation-of-duties', owner, {
      name: 'Incident command vs. privacy',
      description: 'Who leads an incident does not also judge its privacy impact',
      aRoles: 'incident-commander',
      bRoles: 'privacy-officer',
      enabled: 'on',
    });
    expect(added.status).toBe(303);
    const violations = await api<{ items: { ruleName: string; email: string }[] }>('/sod/violations', operatorToken);
    expect(violations.body.items).toEqual([
      expect.objectContaining({ ruleName: 'Incident command vs. privacy', email: 'ivy-sod@acme.test' }),
    ]);
    expect(await (await page('/admin/separation-of-duties', owner)).text()).toContain('1 current violation');
    expect(await (await page('/admin/separation-of-duties/violations', owner)).text()).toContain('ivy-sod@acme.test');

    // A default rule switched off lets the grant through; switched on again, it reports the person.
    expect(
      (await api('/sod/rules/approval-vs-user-administration/state', operatorToken, { method: 'PUT', body: { enabled: false } }))
        .status,
    ).toBe(200);
    const sam = await person('sam-approver@acme.test', 'security-admin');
    expect((await api(`/users/${sam}/roles/approver`, operatorToken, { method: 'PUT' })).status).toBe(200);
    expect((await t.postForm('/admin/separation-of-duties/approval-vs-user-administration/enable', owner, {})).status).toBe(303);
    const again = await api<{ items: { ruleId: string; email: string }[] }>('/sod/violations', operatorToken);
    expect(again.body.items.map((v) => `${v.ruleId} ${v.email}`)).toEqual(
      expect.arrayContaining(['approval-vs-user-administration sam-approver@acme.test']),
    );
    expect((await events('access.sod_rule_disabled')).at(-1)?.details).toMatchObject({
      name: 'Approval vs. user administration',
    });
  });

  it('explains a rule with an empty side beside the field and keeps nothing', async () => {
    const res = await t.postForm('/admin/separation-of-duties', owner, { name: 'Half a rule', aRoles: 'owner' });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('choose at least one role or permission for this side');
    const rules = await api<{ items: { name: string }[] }>('/sod/rules', operatorToken);
    expect(rules.body.items.map((r) => r.name)).not.toContain('Half a rule');
  });
});

describe('approval of privileged grants', () => {
  let second: SignedIn;

  beforeAll(async () => {
    second = await t.signInAs('owner', 'second-owner@acme.test');
  });

  it('keeps a privileged grant by a person waiting for another administrator, and mails them', async () => {
    const pat = await person('pat@acme.test');
    const res = await t.postForm(`/admin/users/${pat}/roles`, owner, { role: 'security-admin' });
    expect(res.status).toBe(303);
    expect(await rolesOf(pat)).toEqual(['employee']);
    const { body } = await api<{ items: { id: string; email: string; role: string; requestedBy: string }[] }>(
      '/grant-requests',
      operatorToken,
    );
    expect(body.items).toEqual([
      expect.objectContaining({ email: 'pat@acme.test', role: 'security-admin', requestedBy: owner.email }),
    ]);
    expect(await (await page(`/admin/users/${pat}`, owner)).text()).toContain('Waiting for approval');
    const outbox = await api<{ items: { to: string[] | string; subject: string }[] }>('/outbox', operatorToken);
    const mail = outbox.body.items.find((m) => m.subject === 'Approve or deny: Security admin for pat@acme.test');
    const to = [mail?.to ?? []].flat();
    expect(to).toContain('second-owner@acme.test');
    expect(to).not.toContain(owner.email);
  });

  it('answers 202 with the request through the API when the token was made by a person', async () => {
    const quinn = await person('quinn@acme.test');
    const res = await api<{ status: string; request: { status: string; role: string } }>(
      `/users/${quinn}/roles/owner`,
      await tokenOf(owner),
      { method: 'PUT' },
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'pending', request: { status: 'pending', role: 'owner' } });
    expect(await rolesOf(quinn)).toEqual(['employee']);
  });

  it('refuses the requester’s own approval and the grantee’s, then applies the grant on another’s approval', async () => {
    const rae = await person('rae@acme.test');
    await t.postForm(`/admin/users/${rae}/roles`, owner, { role: 'security-admin' });
    const id = (await api<{ items: { id: string; email: string }[] }>('/grant-requests', operatorToken)).body.items.find(
      (r) => r.email === 'rae@acme.test',
    )?.id;
    expect(id).toBeDefined();
    const own = await t.postForm(`/admin/grant-requests/${id}/approve`, owner, {});
    expect(own.status).toBe(403);
    expect(await own.text()).toContain('nobody approves their own request');
    expect((await api(`/grant-requests/${id}/approve`, await tokenOf(owner), { method: 'POST' })).status).toBe(403);

    // A request for the second owner, asked by the first: the second may not approve it for themselves.
    const forSecond = await api<{ request: { id: string } }>(
      `/users/${second.userId}/roles/security-admin`,
      await tokenOf(owner),
      {
        method: 'PUT',
      },
    );
    expect(forSecond.status).toBe(202);
    const self = await t.postForm(`/admin/grant-requests/${forSecond.body.request.id}/approve`, second, {});
    expect(self.status).toBe(403);
    expect(await self.text()).toContain('this grant is for you');

    const approved = await t.postForm(`/admin/grant-requests/${id}/approve`, second, {});
    expect(approved.status).toBe(303);
    expect(await rolesOf(rae)).toEqual(['employee', 'security-admin']);
    expect((await events('access.grant_approved')).at(-1)).toMatchObject({
      actorLabel: second.email,
      details: { role: 'security-admin' },
    });
    expect((await events('access.role_granted')).at(-1)).toMatchObject({
      actorLabel: second.email,
      details: { role: 'security-admin', requestId: id, requestedBy: owner.email },
    });
    expect((await events('access.denied')).map((e) => e.details.what)).toEqual(
      expect.arrayContaining(['decide their own grant request', 'decide a grant request for themselves']),
    );
    const again = await api<{ detail: string }>(`/grant-requests/${id}/approve`, await tokenOf(second), { method: 'POST' });
    expect(again.status).toBe(409);
  });

  it('checks separation of duties again at approval', async () => {
    const uma = await person('uma@acme.test');
    const res = await api<{ request: { id: string } }>(`/users/${uma}/roles/security-admin`, await tokenOf(owner), {
      method: 'PUT',
    });
    expect(res.status).toBe(202);
    expect((await api(`/users/${uma}/roles/auditor`, operatorToken, { method: 'PUT' })).status).toBe(200);
    const approve = await api<{ detail: string }>(`/grant-requests/${res.body.request.id}/approve`, await tokenOf(second), {
      method: 'POST',
    });
    expect(approve.status).toBe(409);
    expect(approve.body.detail).toContain('Security administration vs. audit');
    expect(await rolesOf(uma)).toEqual(['auditor', 'employee']);
  });

  it('records a denial with its reason, and refuses a denial without one', async () => {
    const val = await person('val@acme.test');
    const res = await api<{ request: { id: string } }>(`/users/${val}/roles/owner`, await tokenOf(owner), { method: 'PUT' });
    const id = res.body.request.id;
    expect(
      (await api(`/grant-requests/${id}/deny`, await tokenOf(second), { method: 'POST', body: { reason: ' ' } })).status,
    ).toBe(422);
    const denied = await t.postForm(`/admin/grant-requests/${id}/deny`, second, { reason: 'Not needed for the audit project' });
    expect(denied.status).toBe(303);
    expect(await rolesOf(val)).toEqual(['employee']);
    expect((await events('access.grant_denied')).at(-1)).toMatchObject({
      actorLabel: second.email,
      details: { email: 'val@acme.test', role: 'owner', reason: 'Not needed for the audit project' },
    });
    const all = await api<{ items: { id: string; status: string; reason: string | null }[] }>(
      '/grant-requests?status=all',
      operatorToken,
    );
    expect(all.body.items.find((r) => r.id === id)).toMatchObject({
      status: 'denied',
      reason: 'Not needed for the audit project',
    });
  });
});

describe('offboarding', () => {
  it('ends sessions and tokens at once, removes roles, cancels requests and lists the duties', async () => {
    const admin = await t.signInAsOwner();
    const leaver = await t.signInAs('security-admin', 'leaver@acme.test');
    const leaverActor: Actor = {
      kind: 'user',
      id: leaver.userId,
      email: leaver.email,
      name: 'leaver',
      roles: ['security-admin'],
      permissions: new Set(['tokens.manage', 'audit.read']),
    };
    const { token } = await createApiToken(
      t.runtime,
      { tenantId: t.tenant.id, actor: leaverActor },
      { name: 'leaver ci', permissions: ['audit.read'] },
    );
    expect((await api('/audit/events', token)).status).toBe(200);
    expect((await page('/admin', leaver)).status).toBe(200);
    await updateAlertSettings(t.contextOf(SYSTEM), { ...defaultAlertSettings(), contacts: ['leaver@acme.test'] });
    await saveBackupSettings(t.contextOf(SYSTEM), { ...defaultBackupSettings(), ownerEmail: 'leaver@acme.test' });
    const xia = await person('xia@acme.test');
    expect((await api(`/users/${xia}/roles/security-admin`, await tokenOf(admin), { method: 'PUT' })).status).toBe(202);

    const res = await t.postForm(`/admin/users/${leaver.userId}/deactivate`, admin, {});
    expect(res.status).toBe(303);

    // The open session's next request fails: a page sends them to sign in, a form post is refused.
    const next = await page('/admin', leaver);
    expect(next.status).toBe(303);
    expect(next.headers.get('location')).toMatch(/^\/admin\/login/);
    expect((await t.postForm('/admin/account/password', leaver, {})).status).toBe(401);
    expect((await api('/audit/events', token)).status).toBe(401);
    expect(await rolesOf(leaver.userId)).toEqual([]);

    const [event] = (await events('user.deactivated')).filter((e) => e.targetId === leaver.userId);
    expect(event?.details).toMatchObject({ email: 'leaver@acme.test', sessionsEnded: 1, rolesRemoved: ['security-admin'] });
    expect((await events('access.role_revoked')).at(-1)?.details).toMatchObject({ role: 'security-admin', via: 'deactivation' });

    const detail = await (await page(`/admin/users/${leaver.userId}`, admin)).text();
    expect(detail).toContain('deactivated');
    expect(detail).toContain('Duties that need a new owner');
    expect(detail).toContain('Security contact for alert mail');
    expect(detail).toContain('Backup owner of this installation');
    expect(detail).toContain('API token “leaver ci”');
    expect(detail).toContain('waits for a decision');
    const people = await api<{ items: { email: string; status: string }[] }>('/users', operatorToken);
    expect(people.body.items.find((p) => p.email === 'leaver@acme.test')?.status).toBe('deactivated');
  });

  it('deactivates through the API, cancelling their requests, and reactivates with no role', async () => {
    const yan = await person('yan@acme.test', 'responder');
    const res = await api<{ rolesRemoved: string[]; duties: unknown[]; sessionsEnded: number }>(
      `/users/${yan}/deactivate`,
      operatorToken,
      {
        method: 'POST',
      },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rolesRemoved: ['responder'], sessionsEnded: 0, duties: [] });
    expect((await api(`/users/${yan}/deactivate`, operatorToken, { method: 'POST' })).status).toBe(409);
    expect((await api(`/users/${yan}/roles/employee`, operatorToken, { method: 'PUT' })).status).toBe(409);
    expect((await api(`/users/${yan}/reactivate`, operatorToken, { method: 'POST' })).status).toBe(204);
    const after = await api<{ status: string; roles: string[] }>(`/users/${yan}`, operatorToken);
    expect(after.body).toMatchObject({ status: 'no-password', roles: [] });
    expect((await events('user.reactivated')).at(-1)?.targetId).toBe(yan);

    const zoe = await person('zoe@acme.test');
    const asked = await api<{ request: { id: string } }>(`/users/${zoe}/roles/owner`, await tokenOf(owner), { method: 'PUT' });
    expect((await api(`/users/${zoe}/deactivate`, operatorToken, { method: 'POST' })).status).toBe(200);
    const all = await api<{ items: { id: string; status: string }[] }>('/grant-requests?status=all', operatorToken);
    expect(all.body.items.find((r) => r.id === asked.body.request.id)?.status).toBe('cancelled');
  });

  it('refuses deactivating yourself and the last owner', async () => {
    const self = await t.postForm(`/admin/users/${owner.userId}/deactivate`, owner, {});
    expect(self.status).toBe(403);
    const lone = await createTestApp();
    try {
      const only = await lone.signInAsOwner();
      const res = await lone.request(`/api/v1/users/${only.userId}/deactivate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await lone.apiToken('owner')}` },
      });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { detail: string }).detail).toContain('last owner');
    } finally {
      await lone.close();
    }
  });
});

// Last: moving the clock a week on ends every session opened before.
describe('expiry of grant requests', () => {
  it('lets a request expire after 7 days: it can no longer be approved, and the expiry is recorded', async () => {
    const wes = await person('wes@acme.test');
    const res = await api<{ request: { id: string } }>(`/users/${wes}/roles/security-admin`, await tokenOf(owner), {
      method: 'PUT',
    });
    const id = res.body.request.id;
    clock.advance(7 * 24 * 3_600_000 + 1000);
    await expect(
      approveGrantRequest(t.contextOf(ownerActor(await t.signInAs('owner', 'second-owner@acme.test'))), id),
    ).rejects.toThrow(/expired/);
    expect(await rolesOf(wes)).toEqual(['employee']);
    expect((await events('access.grant_request_expired')).map((e) => e.targetId)).toContain(id);
    const all = await api<{ items: { id: string; status: string }[] }>('/grant-requests?status=all', operatorToken);
    expect(all.body.items.find((r) => r.id === id)?.status).toBe('expired');
  });
});
