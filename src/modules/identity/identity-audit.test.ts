import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { type AuditEventRow, searchEvents } from '../../platform/audit/store.ts';
import { createDemo } from '../demo/service.ts';
import { createTenant } from '../tenants/service.ts';
import { issueSetupLink, SETUP_LINK_TTL_MS } from './service.ts';

const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://acme.test' };
const owner = { name: 'Olivia Owner', email: 'olivia@acme.test', password: 'a long enough passphrase' };
const WRONG_PASSWORD = 'definitely-not-her-passphrase';

let t: TestApp;
const clock = new TestClock();

/** The tenant's whole trail, oldest first. */
async function trail(tenantId = t.tenant.id): Promise<AuditEventRow[]> {
  const rows = await t.runtime.db.withTenant(tenantId, (tx) => searchEvents(tx, {}, 10_000, 0));
  return rows.reverse();
}

async function lastOf(action: string): Promise<AuditEventRow> {
  const found = (await trail()).filter((e) => e.action === action).at(-1);
  if (!found) throw new Error(`no ${action} event in the trail`);
  return found;
}

async function exportText(tenantId = t.tenant.id): Promise<string> {
  const lines: string[] = [];
  for await (const line of t.runtime.audit.exportLines(t.runtime.db, tenantId)) lines.push(line);
  return lines.join('\n');
}

function sessionCookie(res: Response): string {
  const match = /(candor_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '');
  if (!match?.[1]) throw new Error('no session cookie');
  return match[1];
}

const signIn = (email: string, password: string) =>
  t.request('/admin/login', {
    method: 'POST',
    headers: { ...form, 'user-agent': 'audit-test-browser' },
    body: new URLSearchParams({ email, password }).toString(),
  });

beforeAll(async () => {
  // Password sign-in itself is tested here; the second step is the mfa module's (its tests cover the owner).
  t = await createTestApp({ clock, mfaRoles: [] });
});

afterAll(async () => {
  await t.close();
});

describe('the trail of identity', () => {
  it('opens each tenant’s trail with its creation, by the system', async () => {
    const [first] = await trail();
    expect(first).toMatchObject({
      seq: 1,
      action: 'tenant.created',
      actorType: 'system',
      actorLabel: 'cli',
      targetType: 'tenant',
      targetId: t.tenant.id,
      outcome: 'success',
    });
    expect(first?.details).toMatchObject({ slug: 'acme', hosts: ['acme.test'] });
  });

  it('records a setup link issued by the system and a refused expired link', async () => {
    const expired = (await issueSetupLink(t.runtime, t.tenant)) ?? '';
    const issued = await lastOf('setup_link.issued');
    expect(issued).toMatchObject({ actorType: 'system', targetType: 'setup_link', outcome: 'success' });
    clock.advance(SETUP_LINK_TTL_MS + 1000);
    expect((await t.request(expired)).status).toBe(410);
    const refused = await lastOf('setup_link.refused');
    expect(refused).toMatchObject({ actorType: 'anonymous', outcome: 'denied', targetId: issued.targetId, ip: '127.0.0.1' });
    expect(String(refused.details.reason)).toContain('expired');
  });

  it('records the owner created through the setup link and signed in, and a reuse of the link as refused', async () => {
    const link = (await issueSetupLink(t.runtime, t.tenant)) ?? '';
    const res = await t.request(link, { method: 'POST', headers: form, body: new URLSearchParams(owner).toString() });
    expect(res.status).toBe(303);
    const created = await lastOf('user.created');
    expect(created).toMatchObject({ actorType: 'user', actorLabel: owner.email, targetType: 'user', outcome: 'success' });
    expect(created.details).toMatchObject({ email: owner.email, role: 'owner', via: 'setup_link' });
    const granted = await lastOf('access.role_granted');
    expect(granted).toMatchObject({
      seq: created.seq + 1,
      actorType: 'system',
      actorLabel: 'setup_link',
      targetId: created.targetId,
      details: { role: 'owner', email: owner.email, privileged: true },
    });
    const signedIn = await lastOf('session.signed_in');
    expect(signedIn).toMatchObject({ actorId: created.targetId, targetId: created.targetId, seq: created.seq + 2 });

    const again = await t.request(link, { method: 'POST', headers: form, body: new URLSearchParams(owner).toString() });
    expect(again.status).toBe(410);
    expect((await lastOf('setup_link.refused')).details.reason).toContain('already been used');
  });

  it('records a failed sign-in with the address tried, for a known and an unknown account', async () => {
    expect((await signIn(owner.email, WRONG_PASSWORD)).status).toBe(401);
    const known = await lastOf('session.sign_in_failed');
    const user = await lastOf('user.created');
    expect(known).toMatchObject({
      actorType: 'anonymous',
      outcome: 'failed',
      ip: '127.0.0.1',
      userAgent: 'audit-test-browser',
      targetType: 'user',
      targetId: user.targetId,
      details: { email: owner.email },
    });
    expect(known.requestId).toBeTruthy();

    expect((await signIn('Nobody@Acme.test', WRONG_PASSWORD)).status).toBe(401);
    expect(await lastOf('session.sign_in_failed')).toMatchObject({
      targetType: 'user',
      targetId: null,
      details: { email: 'nobody@acme.test' },
    });
  });

  it('records a sign-in and a sign-out as the person', async () => {
    const res = await signIn(owner.email, owner.password);
    expect(res.status).toBe(303);
    const cookie = sessionCookie(res);
    const signedIn = await lastOf('session.signed_in');
    expect(signedIn).toMatchObject({ actorType: 'user', actorLabel: owner.email, userAgent: 'audit-test-browser' });

    const page = await (await t.request('/admin/api-tokens', { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const out = await t.request('/admin/logout', { method: 'POST', headers: { ...form, cookie }, body: `_csrf=${csrf}` });
    expect(out.status).toBe(303);
    expect(await lastOf('session.signed_out')).toMatchObject({ actorLabel: owner.email, targetId: signedIn.targetId });
  });

  it('never lets a password into the trail', async () => {
    const text = await exportText();
    expect(text).toContain('session.sign_in_failed');
    for (const secret of [owner.password, WRONG_PASSWORD]) expect(text).not.toContain(secret);
    // No field is about a password (a key such as `password` or `passwordHash`); "password" as the name of the
    // sign-in method is the only place the word may appear.
    expect(text).not.toMatch(/"\w*password\w*"\s*:/i);
    expect(text.replaceAll('"method":"password"', '')).not.toMatch(/password/i);
  });
});

describe('the trail of API tokens', () => {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('records a token created and revoked through the API, with its name, permissions and expiry', async () => {
    const ownerToken = await t.apiToken('owner');
    const created = await t.request('/api/v1/api-tokens', {
      method: 'POST',
      headers: { ...bearer(ownerToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'SIEM export', permissions: ['audit.read', 'audit.export'], expiresInDays: 30 }),
    });
    expect(created.status).toBe(201);
    const { id, token, expiresAt } = await created.json();
    const createdEvent = await lastOf('api_token.created');
    expect(createdEvent).toMatchObject({
      actorType: 'token',
      actorLabel: 'test owner',
      targetType: 'api_token',
      targetId: id,
      details: { name: 'SIEM export', permissions: ['audit.read', 'audit.export'], expiresAt },
    });

    const del = await t.request(`/api/v1/api-tokens/${id}`, { method: 'DELETE', headers: bearer(ownerToken) });
    expect(del.status).toBe(204);
    expect(await lastOf('api_token.revoked')).toMatchObject({
      targetId: id,
      details: { name: 'SIEM export', permissions: ['audit.read', 'audit.export'] },
    });

    // The revoked token is refused, and the refusal names only its display prefix.
    expect((await t.request('/api/v1/me', { headers: bearer(token) })).status).toBe(401);
    const refused = await lastOf('api_token.refused');
    expect(refused).toMatchObject({
      actorType: 'anonymous',
      outcome: 'denied',
      targetId: id,
      details: { reason: 'revoked', prefix: token.slice(0, 10) },
    });
    const text = await exportText();
    expect(text).not.toContain(token);
    expect(text).not.toContain(ownerToken);
  });

  it('records a refused value that is not a token without any of it', async () => {
    expect((await t.request('/api/v1/me', { headers: bearer('hunter2-not-a-token') })).status).toBe(401);
    const refused = await lastOf('api_token.refused');
    expect(refused).toMatchObject({ targetId: null, details: { reason: 'unknown' } });
    expect(await exportText()).not.toContain('hunter2');
  });

  it('records a refused permission check as access.denied, once', async () => {
    const auditor = await t.apiToken('auditor');
    const before = (await trail()).filter((e) => e.action === 'access.denied').length;
    const res = await t.request('/api/v1/api-tokens', {
      method: 'POST',
      headers: { ...bearer(auditor), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'escalate', role: 'owner' }),
    });
    expect(res.status).toBe(403);
    const denials = (await trail()).filter((e) => e.action === 'access.denied');
    expect(denials).toHaveLength(before + 1);
    expect(denials.at(-1)).toMatchObject({
      actorType: 'token',
      actorLabel: 'test auditor',
      outcome: 'denied',
      details: { what: 'create and revoke API tokens', permission: 'tokens.manage', method: 'POST', path: '/api/v1/api-tokens' },
    });
    // Nothing was created by the refused request.
    expect((await trail()).filter((e) => e.action === 'api_token.created' && e.details.name === 'escalate')).toEqual([]);
  });
});

describe('the trail of tenants, the demo and mail', () => {
  it('records the demo in the demo tenant’s own trail, after its creation', async () => {
    const { tenant } = await createDemo(t.runtime, { kind: 'system', name: 'cli' });
    const events = await trail(tenant.id);
    expect(events.slice(0, 2).map((e) => e.action)).toEqual(['tenant.created', 'demo.created']);
    // Then the demo's Trust Center content, each section published in its own event (certificate files stored
    // first), its branding, and its gated documents.
    expect(new Set(events.slice(2).map((e) => e.action))).toEqual(
      new Set([
        'trust_center.published',
        'trust_center.certificate_uploaded',
        'trust_center.branding_updated',
        'document.created',
        'document.version_uploaded',
        'document_nda.published',
        'document_access.domains_changed',
      ]),
    );
    expect(events[1]).toMatchObject({ actorLabel: 'cli', targetId: tenant.id });
  });

  it('creates a tenant and its first event together, and nothing when creation is refused', async () => {
    await expect(
      createTenant(
        t.runtime.db,
        { slug: 'acme', name: 'Again' },
        { audit: t.runtime.audit, actor: { kind: 'system', name: 'cli' } },
      ),
    ).rejects.toThrow(/already exists/);
    const other = await createTenant(
      t.runtime.db,
      { slug: 'other', name: 'Other', hosts: ['other.test'] },
      { audit: t.runtime.audit, actor: { kind: 'system', name: 'cli' } },
    );
    expect((await trail(other.id)).map((e) => e.action)).toEqual(['tenant.created']);
    // Another tenant's events never show in acme's trail.
    expect((await trail()).filter((e) => e.targetId === other.id)).toEqual([]);
  });
});
