import { hash, verify } from '@node-rs/argon2';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { ARGON2, hashIsCurrent, issueSetupLink, SESSION_IDLE_MS, SETUP_LINK_TTL_MS } from './service.ts';
import { users } from './tables.ts';

const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://acme.test' };
const owner = { name: 'Olivia Owner', email: 'olivia@acme.test', password: 'a long enough passphrase' };

function sessionCookie(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  const match = /(candor_session=[^;]+)/.exec(set);
  if (!match?.[1]) throw new Error(`no session cookie in ${set}`);
  return match[1];
}

describe('first-run setup link', () => {
  let t: TestApp;
  const clock = new TestClock();
  beforeAll(async () => {
    // Password sign-in itself is tested here; the second step is the mfa module's (its tests cover the owner).
    t = await createTestApp({ clock, mfaRoles: [] });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses an unknown setup link', async () => {
    const res = await t.request('/setup/not-a-real-token-at-all-0000000000');
    expect(res.status).toBe(404);
  });

  it('refuses an expired setup link', async () => {
    const link = await issueSetupLink(t.runtime, t.tenant);
    clock.advance(SETUP_LINK_TTL_MS + 1000);
    const res = await t.request(link ?? '');
    expect(res.status).toBe(410);
    expect(await res.text()).toContain('expired');
  });

  it('keeps what was typed and explains a too-short password', async () => {
    const link = (await issueSetupLink(t.runtime, t.tenant)) ?? '';
    const res = await t.request(link, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ ...owner, password: 'short' }).toString(),
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('use at least 12 characters');
    expect(html).toContain('value="olivia@acme.test"');
    expect(html).not.toContain('value="short"');
  });

  it('creates the owner once, signs them in, and cannot be used again', async () => {
    const link = (await issueSetupLink(t.runtime, t.tenant)) ?? '';
    expect((await t.request(link)).status).toBe(200);
    const res = await t.request(link, { method: 'POST', headers: form, body: new URLSearchParams(owner).toString() });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin');
    const cookie = sessionCookie(res);
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect(res.headers.get('set-cookie')).toMatch(/SameSite=Lax/i);
    const dashboard = await t.request('/admin', { headers: { cookie } });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain('Olivia Owner');

    const again = await t.request(link, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ ...owner, email: 'eve@acme.test' }).toString(),
    });
    expect(again.status).toBe(410);
    expect(await issueSetupLink(t.runtime, t.tenant)).toBeUndefined();
  });

  it('only the latest printed link works', async () => {
    const other = await createTestApp();
    try {
      const first = (await issueSetupLink(other.runtime, other.tenant)) ?? '';
      const second = (await issueSetupLink(other.runtime, other.tenant)) ?? '';
      expect((await other.request(first)).status).toBe(410);
      expect((await other.request(second)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('sign-in and sessions', () => {
  let t: TestApp;
  const clock = new TestClock();
  beforeAll(async () => {
    // Password sign-in itself is tested here; the second step is the mfa module's (its tests cover the owner).
    t = await createTestApp({ clock, mfaRoles: [] });
    const link = (await issueSetupLink(t.runtime, t.tenant)) ?? '';
    await t.request(link, { method: 'POST', headers: form, body: new URLSearchParams(owner).toString() });
  });
  afterAll(async () => {
    await t.close();
  });

  /** Reads (or, given one, replaces) the owner's stored password hash. */
  async function storedHash(replacement?: string): Promise<string> {
    return t.runtime.db.withSystem(async (tx) => {
      if (replacement) await tx.update(users).set({ passwordHash: replacement }).where(eq(users.email, owner.email));
      const [row] = await tx.select({ hash: users.passwordHash }).from(users).where(eq(users.email, owner.email));
      return row?.hash ?? '';
    });
  }

  const signIn = (email: string, password: string, next = '') =>
    t.request(`/admin/login${next ? `?next=${encodeURIComponent(next)}` : ''}`, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ email, password }).toString(),
    });

  it('sends a visitor who is not signed in to the sign-in page', async () => {
    const res = await t.request('/admin/outbox');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Foutbox');
  });

  it('offers a sign-in form that password managers understand', async () => {
    const html = await (await t.request('/admin/login')).text();
    expect(html).toMatch(/name="email"[^>]*autocomplete="username"|autocomplete="username"[^>]*name="email"/);
    expect(html).toMatch(
      /name="password"[^>]*autocomplete="current-password"|autocomplete="current-password"[^>]*name="password"/,
    );
  });

  it('refuses a wrong password without saying whether the account exists', async () => {
    const wrong = await signIn(owner.email, 'not the password at all');
    const unknown = await signIn('nobody@acme.test', 'not the password at all');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const text = (html: string) => html.replace(/value="[^"]*"/g, '');
    expect(text(await wrong.text())).toBe(text(await unknown.text()));
  });

  it('signs in, returns to the page asked for, and signs out', async () => {
    const res = await signIn(owner.email.toUpperCase(), owner.password, '/admin/outbox');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/outbox');
    const cookie = sessionCookie(res);
    const page = await t.request('/admin/outbox', { headers: { cookie } });
    expect(page.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const out = await t.request('/admin/logout', { method: 'POST', headers: { ...form, cookie }, body: `_csrf=${csrf}` });
    expect(out.status).toBe(303);
    expect((await t.request('/admin', { headers: { cookie } })).status).toBe(303);
  });

  it('never redirects off-site after sign-in', async () => {
    const res = await signIn(owner.email, owner.password, '//evil.example/admin');
    expect(res.headers.get('location')).toBe('/admin');
  });

  it('ends a session left idle past the idle timeout', async () => {
    const cookie = sessionCookie(await signIn(owner.email, owner.password));
    expect((await t.request('/admin', { headers: { cookie } })).status).toBe(200);
    clock.advance(SESSION_IDLE_MS + 1000);
    expect((await t.request('/admin', { headers: { cookie } })).status).toBe(303);
  });

  it('re-hashes a password stored under older argon2id parameters at the next sign-in', async () => {
    const legacy = await hash(owner.password, { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    await storedHash(legacy);
    expect(hashIsCurrent(await storedHash())).toBe(false);
    expect((await signIn(owner.email, owner.password)).status).toBe(303);
    const upgraded = await storedHash();
    expect(upgraded).toContain(`m=${ARGON2.memoryCost},t=${ARGON2.timeCost},p=${ARGON2.parallelism}`);
    expect(await verify(upgraded, owner.password)).toBe(true);
    expect((await signIn(owner.email, owner.password)).status).toBe(303);
  });

  it('slows down repeated sign-in attempts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await signIn('guess@acme.test', `guess number ${i}`)).status);
    expect(statuses).toContain(429);
  });
});

describe('API tokens', () => {
  let t: TestApp;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await createTestApp({ clock });
  });
  afterAll(async () => {
    await t.close();
  });

  const me = (token: string) => t.request('/api/v1/me', { headers: { authorization: `Bearer ${token}` } });

  it('authenticates a Bearer token and names its tenant and exactly its permissions', async () => {
    const res = await me(await t.apiToken('responder'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      kind: 'token',
      id: expect.any(String),
      name: 'test responder',
      roles: [],
      permissions: ['audit.read', 'alerts.read'],
      tenant: { id: t.tenant.id, slug: 'acme', name: 'Acme Corp' },
    });
  });

  it('refuses a missing, unknown, revoked or expired token with 401', async () => {
    expect((await t.request('/api/v1/me')).status).toBe(401);
    expect((await me('cnd_not-a-token')).status).toBe(401);
    const ownerToken = await t.apiToken('owner');
    const created = await t.request('/api/v1/api-tokens', {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'short-lived', permissions: ['audit.read'], expiresInDays: 1 }),
    });
    expect(created.status).toBe(201);
    const { token, id } = await created.json();
    expect((await me(token)).status).toBe(200);
    clock.advance(86_400_000 + 1000);
    expect((await me(token)).status).toBe(401);
    const revoked = await t.apiToken('auditor');
    const list = await (await t.request('/api/v1/api-tokens', { headers: { authorization: `Bearer ${ownerToken}` } })).json();
    const revokedId = list.items.find((i: { prefix: string }) => revoked.startsWith(i.prefix))?.id;
    const del = await t.request(`/api/v1/api-tokens/${revokedId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ownerToken}` },
    });
    expect(del.status).toBe(204);
    expect((await me(revoked)).status).toBe(401);
    expect(id).toBeDefined();
  });

  it('slows down a client that keeps presenting bad tokens', async () => {
    const guessing = await createTestApp();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 35; i++) {
        statuses.push((await guessing.request('/api/v1/me', { headers: { authorization: `Bearer cnd_guess${i}` } })).status);
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.at(-1)).toBe(429);
      const refused = await guessing.runtime.db.query<{ n: number }>(
        "select count(*)::int as n from audit_events where action = 'api_token.refused'",
      );
      expect(refused.rows[0]?.n).toBe(30); // the throttled attempts never reached the trail
    } finally {
      await guessing.close();
    }
  });

  it('does not let a non-owner token mint tokens', async () => {
    const auditor = await t.apiToken('auditor');
    const res = await t.request('/api/v1/api-tokens', {
      method: 'POST',
      headers: { authorization: `Bearer ${auditor}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'escalate', role: 'owner' }),
    });
    expect(res.status).toBe(403);
  });

  it('does not accept one tenant’s token on another tenant’s host', async () => {
    const token = await t.apiToken('owner');
    const { createTenant } = await import('../tenants/service.ts');
    await createTenant(t.runtime.db, { slug: 'other', name: 'Other', hosts: ['other.test'] });
    const res = await t.app.request('http://other.test/api/v1/me', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
  });

  it('creates, shows once and revokes a token from the back office', async () => {
    const session = await t.signInAsOwner();
    const created = await t.postForm('/admin/api-tokens', session, { name: 'SIEM export', role: 'auditor', expires: '30d' });
    expect(created.status).toBe(200);
    const html = await created.text();
    const token = /data-copy[^>]*>\s*(cnd_[A-Za-z0-9_-]+)/.exec(html)?.[1];
    expect(token).toBeDefined();
    expect((await me(token ?? '')).status).toBe(200);
    const list = await (await t.request('/admin/api-tokens', { headers: { cookie: session.cookie } })).text();
    expect(list).not.toContain(token ?? '');
    const id = /\/admin\/api-tokens\/([0-9a-f-]{36})\/revoke/.exec(list)?.[1];
    const revoked = await t.postForm(`/admin/api-tokens/${id}/revoke`, session, {});
    expect(revoked.status).toBe(303);
    expect((await me(token ?? '')).status).toBe(401);
  });

  it('explains an invalid token form inline', async () => {
    const session = await t.signInAsOwner();
    const res = await t.postForm('/admin/api-tokens', session, { name: '', role: 'auditor', expires: 'soon' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('name the token');
    expect(html).toContain('use a number followed by d, h or m');
  });
});
