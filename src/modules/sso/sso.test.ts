import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { type AuditEventRow, searchEvents } from '../../platform/audit/store.ts';
import { createPerson, resolveSession } from '../identity/service.ts';
import { users } from '../identity/tables.ts';
import { ssoSettings } from './tables.ts';
import { signInAt, startTestProvider, type TestProvider } from './testing/provider.ts';

const CALLBACK = 'http://acme.test/admin/sso/callback';
const PASSWORD = 'a test passphrase long enough';

let t: TestApp;
let idp: TestProvider;
let owner: SignedIn;
let ownerToken: string;

beforeAll(async () => {
  t = await createTestApp();
  idp = await startTestProvider({ redirectUris: [CALLBACK] });
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
  idp.accounts.set('owner-sub', { email: 'owner@acme.test', email_verified: true, name: 'Olivia Owner' });
});

afterAll(async () => {
  await idp?.close();
  await t?.close();
});

async function api(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  return t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? ownerToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

function settings(overrides: Record<string, unknown> = {}) {
  return {
    displayName: 'Test IdP',
    issuer: idp.issuer,
    clientId: idp.clientId,
    enabled: true,
    jitEnabled: false,
    defaultRole: 'employee',
    ...overrides,
  };
}

async function configure(overrides: Record<string, unknown> = {}) {
  const res = await api('/sso/settings', { method: 'PUT', body: settings(overrides) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json() as Promise<Record<string, unknown>>;
}

async function newPerson(email: string, role = 'employee', password?: string): Promise<string> {
  const user = await createPerson(t.contextOf({ kind: 'system', name: 'cli' }), {
    email,
    name: email,
    role,
    ...(password ? { password } : {}),
  });
  return user.id;
}

interface Attempt {
  res: Response;
  callback: URL;
  browserCookie: string;
}

/** Clicks "Sign in with", signs in at the provider as `account`, and follows the way back to the callback. */
async function ssoSignIn(
  account: string,
  options: { mfa?: boolean; tamper?: (authorizationUrl: URL) => void; next?: string } = {},
): Promise<Attempt> {
  const start = await t.request(`/admin/sso/start${options.next ? `?next=${encodeURIComponent(options.next)}` : ''}`);
  expect(start.status).toBe(303);
  const browserCookie = /candor_sso=[^;]+/.exec(start.headers.get('set-cookie') ?? '')?.[0] ?? '';
  expect(browserCookie).not.toBe('');
  const authorizationUrl = new URL(start.headers.get('location') ?? '');
  options.tamper?.(authorizationUrl);
  const callback = await signInAt(authorizationUrl.href, account, { mfa: options.mfa ?? false });
  expect(callback.origin + callback.pathname).toBe(CALLBACK);
  const res = await t.request(callback.pathname + callback.search, { headers: { cookie: browserCookie } });
  return { res, callback, browserCookie };
}

function sessionCookie(res: Response): string {
  const cookie = /candor_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0];
  if (!cookie) throw new Error(`no session cookie (status ${res.status})`);
  return cookie;
}

async function trail(action: string): Promise<AuditEventRow[]> {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 100_000, 0));
  return rows.filter((e) => e.action === action);
}

async function lastRefusal(): Promise<AuditEventRow | undefined> {
  return (await trail('sso.refused'))[0];
}

async function userByEmail(email: string) {
  const [row] = await t.runtime.db.withTenant(t.tenant.id, (tx) => tx.select().from(users).where(eq(users.email, email)));
  return row;
}

describe('SSO settings', () => {
  it('starts unconfigured, and the page shows the redirect URI to register', async () => {
    const res = await api('/sso/settings');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ configured: false, enabled: false, redirectUri: CALLBACK });
    const page = await t.request('/admin/settings/sso', { headers: { cookie: owner.cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(CALLBACK);
  });

  it('keeps the client secret encrypted and write-only', async () => {
    const saved = await configure({ clientSecret: idp.clientSecret });
    expect(saved.clientSecretSet).toBe(true);
    expect(JSON.stringify(saved)).not.toContain(idp.clientSecret);
    const [row] = await t.runtime.db.withTenant(t.tenant.id, (tx) => tx.select().from(ssoSettings));
    expect(row?.clientSecret).toMatch(/^c1\./);
    expect(row?.clientSecret).not.toContain(idp.clientSecret);
    // Saving again without a secret keeps it.
    expect((await configure()).clientSecretSet).toBe(true);
    const changed = await trail('sso.settings_changed');
    expect(changed.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(changed)).not.toContain(idp.clientSecret);
  });

  it('refuses plain-http issuers except on loopback hosts', async () => {
    const res = await api('/sso/settings', { method: 'PUT', body: settings({ issuer: 'http://idp.example.com' }) });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.text()).toMatch(/https/);
    const form = await t.postForm('/admin/settings/sso', owner, {
      displayName: 'X',
      issuer: 'http://idp.example.com',
      clientId: 'x',
    });
    expect(form.status).toBe(422);
    expect(await form.text()).toContain('plain http:// only on localhost');
  });

  it('refuses a privileged role as the default role of new people', async () => {
    for (const role of ['owner', 'security-admin']) {
      const res = await api('/sso/settings', { method: 'PUT', body: settings({ jitEnabled: true, defaultRole: role }) });
      expect(res.status).toBe(422);
      expect(await res.text()).toMatch(/privileged/);
    }
  });

  it('lets settings readers see but not change the settings', async () => {
    const auditorToken = await t.apiToken('auditor');
    expect((await api('/sso/settings', { token: auditorToken })).status).toBe(200);
    const put = await api('/sso/settings', { method: 'PUT', body: settings({ enabled: false }), token: auditorToken });
    expect(put.status).toBe(403);
    expect((await api('/sso/settings/check', { method: 'POST', token: auditorToken })).status).toBe(403);
  });

  it('checks the provider by discovery and says what it found', async () => {
    const res = await api('/sso/settings/check', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, issuer: idp.issuer, pkceS256: true });
    const page = await t.postForm('/admin/settings/sso/check', owner, {});
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Provider found.');
    expect((await trail('sso.checked')).length).toBe(2);
  });

  it('reports a provider that cannot be discovered clearly', async () => {
    await configure({ issuer: 'http://127.0.0.1:9/nothing-here' });
    const res = await api('/sso/settings/check', { method: 'POST' });
    expect(await res.json()).toMatchObject({ ok: false, message: expect.stringContaining('Discovery at http://127.0.0.1:9') });
    await configure({ clientSecret: idp.clientSecret });
  });
});

describe('signing in with OpenID Connect', () => {
  it('offers "Sign in with" on the sign-in page when SSO is on', async () => {
    const page = await t.request('/admin/login');
    const html = await page.text();
    expect(html).toContain('Sign in with Test IdP');
    expect(html).toContain('href="/admin/sso/start"');
  });

  it('signs in a known person, links the identity and goes where they were going', async () => {
    const userId = await newPerson('bob@acme.test');
    idp.accounts.set('bob-sub', { email: 'bob@acme.test', email_verified: true, name: 'Bob' });
    const { res } = await ssoSignIn('bob-sub', { next: '/admin/account' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/account');
    const account = await t.request('/admin/account', { headers: { cookie: sessionCookie(res) } });
    expect(account.status).toBe(200);
    const signedIn = (await trail('session.signed_in')).find((e) => e.targetId === userId);
    expect(signedIn?.details).toEqual({ method: 'sso' });
    expect((await trail('sso.identity_linked')).find((e) => e.targetId === userId)?.details).toMatchObject({
      issuer: idp.issuer,
      subject: 'bob-sub',
    });
    const session = await resolveSession(t.runtime.db, t.runtime.clock, t.tenant.id, sessionCookie(res).split('=')[1] ?? '');
    expect(session?.authMethod).toBe('sso');
    expect(session?.secondFactorAt).toBeNull();
  });

  it('counts a second factor the provider reports in amr', async () => {
    const { res } = await ssoSignIn('bob-sub', { mfa: true });
    expect(res.status).toBe(303);
    const session = await resolveSession(t.runtime.db, t.runtime.clock, t.tenant.id, sessionCookie(res).split('=')[1] ?? '');
    expect(session?.secondFactorAt).not.toBeNull();
  });

  it('counts a second factor for every sign-in when the provider enforces MFA', async () => {
    await configure({ providerEnforcesMfa: true });
    const { res } = await ssoSignIn('bob-sub');
    const session = await resolveSession(t.runtime.db, t.runtime.clock, t.tenant.id, sessionCookie(res).split('=')[1] ?? '');
    expect(session?.secondFactorAt).not.toBeNull();
    await configure();
  });

  it('matches by the linked identity afterwards: a changed email at the provider does not take over another account', async () => {
    const bob = await userByEmail('bob@acme.test');
    await newPerson('victim@acme.test');
    idp.accounts.set('bob-sub', { email: 'victim@acme.test', email_verified: true, name: 'Bob' });
    const { res } = await ssoSignIn('bob-sub');
    expect(res.status).toBe(303);
    const session = await resolveSession(t.runtime.db, t.runtime.clock, t.tenant.id, sessionCookie(res).split('=')[1] ?? '');
    expect(session?.user.id).toBe(bob?.id);
    idp.accounts.set('bob-sub', { email: 'bob@acme.test', email_verified: true, name: 'Bob' });
  });

  it('refuses a second provider identity claiming a person already linked to another', async () => {
    idp.accounts.set('impostor-sub', { email: 'bob@acme.test', email_verified: true });
    const { res } = await ssoSignIn('impostor-sub');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('already linked to another account');
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'linked_to_other_identity' });
  });

  it('refuses an unknown person when just-in-time provisioning is off', async () => {
    idp.accounts.set('carol-sub', { email: 'carol@acme.test', email_verified: true, name: 'Carol' });
    const { res } = await ssoSignIn('carol-sub');
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie') ?? '').not.toContain('candor_session=');
    expect(await res.text()).toContain('There is no account for carol@acme.test here');
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'unknown_person', email: 'carol@acme.test' });
    expect(await userByEmail('carol@acme.test')).toBeUndefined();
  });

  it('creates an unknown person with the default role when just-in-time provisioning is on', async () => {
    await configure({ jitEnabled: true, defaultRole: 'employee' });
    const { res } = await ssoSignIn('carol-sub');
    expect(res.status).toBe(303);
    const carol = await userByEmail('carol@acme.test');
    expect(carol?.name).toBe('Carol');
    expect(carol?.passwordHash).toBeNull();
    const provisioned = (await trail('sso.user_provisioned'))[0];
    expect(provisioned).toMatchObject({ targetId: carol?.id, actorType: 'system' });
    expect(provisioned?.details).toMatchObject({ role: 'employee', subject: 'carol-sub' });
    const granted = (await trail('access.role_granted')).find((e) => e.targetId === carol?.id);
    expect(granted?.details).toMatchObject({ role: 'employee' });
    const me = await t.request('/admin/account', { headers: { cookie: sessionCookie(res) } });
    expect(me.status).toBe(200);
  });

  it('refuses addresses outside the allowed domains', async () => {
    await configure({ jitEnabled: true, allowedDomains: ['acme.test'] });
    idp.accounts.set('eve-sub', { email: 'eve@evil.test', email_verified: true });
    const { res } = await ssoSignIn('eve-sub');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('evil.test may not sign in here');
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'domain_not_allowed' });
    expect(await userByEmail('eve@evil.test')).toBeUndefined();
    await configure();
  });

  it('refuses an email the provider has not verified', async () => {
    await configure({ jitEnabled: true });
    idp.accounts.set('dave-sub', { email: 'dave@acme.test', email_verified: false });
    const { res } = await ssoSignIn('dave-sub');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('has not verified dave@acme.test');
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'email_not_verified' });
    expect(await userByEmail('dave@acme.test')).toBeUndefined();
    await configure();
  });

  it('refuses a deactivated person', async () => {
    const id = await newPerson('gone@acme.test');
    await t.runtime.db.withTenant(t.tenant.id, (tx) =>
      tx.update(users).set({ deactivatedAt: new Date() }).where(eq(users.id, id)),
    );
    idp.accounts.set('gone-sub', { email: 'gone@acme.test', email_verified: true });
    const { res } = await ssoSignIn('gone-sub');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('deactivated');
    expect(await lastRefusal()).toMatchObject({ targetId: id, details: expect.objectContaining({ reason: 'deactivated' }) });
  });

  it('refuses a forged state', async () => {
    const res = await t.request('/admin/sso/callback?code=whatever&state=forged-state-value');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('unknown or was already used');
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'unknown_state' });
  });

  it('refuses a replayed callback: the login state works once', async () => {
    const first = await ssoSignIn('bob-sub');
    expect(first.res.status).toBe(303);
    const again = await t.request(first.callback.pathname + first.callback.search, { headers: { cookie: first.browserCookie } });
    expect(again.status).toBe(403);
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'unknown_state' });
  });

  it('refuses a callback carried to another browser', async () => {
    const start = await t.request('/admin/sso/start');
    const callback = await signInAt(start.headers.get('location') ?? '', 'bob-sub');
    const res = await t.request(callback.pathname + callback.search);
    expect(res.status).toBe(403);
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'other_browser' });
  });

  it('refuses an ID token whose nonce is not the one sent', async () => {
    const { res } = await ssoSignIn('bob-sub', { tamper: (url) => url.searchParams.set('nonce', 'a-nonce-the-attacker-chose') });
    expect(res.status).toBe(403);
    const refusal = await lastRefusal();
    expect(refusal?.details).toMatchObject({ reason: 'token_rejected' });
    expect(String(refusal?.details.error)).toMatch(/nonce/);
  });

  it('never sends people anywhere but the back office after signing in', async () => {
    const { res } = await ssoSignIn('bob-sub', { next: 'https://evil.test/' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin');
  });
});

describe('SSO only', () => {
  let employee: string;

  beforeAll(async () => {
    employee = 'pat@acme.test';
    await newPerson(employee, 'employee', PASSWORD);
  });

  it('cannot be turned on before a sign-in through the provider has worked with the saved settings', async () => {
    // A new client secret makes the saved settings unproven again.
    await configure({ clientSecret: idp.clientSecret });
    const res = await api('/sso/settings', { method: 'PUT', body: settings({ ssoOnly: true }) });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('sign in once with single sign-on');
    expect((await trail('sso.settings_refused')).length).toBe(1);
    const off = await api('/sso/settings', { method: 'PUT', body: settings({ enabled: false, ssoOnly: true }) });
    expect(off.status).toBe(422);
    expect(await off.text()).toContain('turn single sign-on on');
  });

  it('can be turned on once an SSO sign-in has worked', async () => {
    expect((await ssoSignIn('owner-sub')).res.status).toBe(303);
    const saved = await configure({ ssoOnly: true });
    expect(saved).toMatchObject({ ssoOnly: true, verifiedAt: expect.any(String) });
  });

  it('says so on the sign-in page', async () => {
    const html = await (await t.request('/admin/login')).text();
    expect(html).toContain('Passwords work only for owners');
  });

  it('refuses password sign-in to everyone but owners', async () => {
    const form = (email: string, password: string) =>
      t.request('/admin/login', {
        method: 'POST',
        headers: { origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email, password }).toString(),
      });
    const refused = await form(employee, PASSWORD);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie') ?? '').not.toContain('candor_session=');
    expect(await refused.text()).toContain('use “Sign in with Test IdP”');
    const failed = (await trail('session.sign_in_failed'))[0];
    expect(failed?.details).toMatchObject({ reason: 'password_not_allowed', email: employee });
    // A wrong password still gets the ordinary answer.
    expect((await form(employee, 'not the right password at all')).status).toBe(401);
    // The owner's break-glass.
    const ownerIn = await form('owner@acme.test', 'correct horse battery staple');
    expect(ownerIn.status).toBe(303);
    expect(ownerIn.headers.get('set-cookie')).toContain('candor_session=');
  });

  it('sends no reset link to anyone but owners', async () => {
    const page = await t.request('/admin/forgot-password');
    expect(await page.text()).toContain('only owners can reset a password here');
    const res = await t.request('/admin/forgot-password', {
      method: 'POST',
      headers: { origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: employee }).toString(),
    });
    expect(res.status).toBe(200);
    expect((await trail('auth.password_reset_refused'))[0]?.details).toMatchObject({ reason: 'password_not_allowed' });
    expect((await trail('auth.password_reset_requested')).some((e) => e.details.email === employee)).toBe(false);
  });

  it('refuses turning SSO off while SSO-only is on', async () => {
    const res = await api('/sso/settings', { method: 'PUT', body: settings({ enabled: false, ssoOnly: true }) });
    expect(res.status).toBe(422);
    await configure({ ssoOnly: false });
  });
});
