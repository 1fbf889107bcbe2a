import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { SoftAuthenticator } from '../../../test/webauthn.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { createPerson } from '../identity/service.ts';

let t: TestApp;
let owner: SignedIn;
let ownerToken: string;
const PASSWORD = 'a test passphrase long enough';
const ORIGIN = 'http://acme.test';

beforeAll(async () => {
  t = await createTestApp();
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
});

afterAll(async () => {
  await t.close();
});

let people = 0;
/** A person with a role and a password, not signed in (the helpers would enrol them). */
async function newPerson(role: string): Promise<{ email: string; id: string }> {
  people += 1;
  const email = `mfa-${role}-${people}@acme.test`;
  const user = await createPerson(t.contextOf({ kind: 'system', name: 'cli' }), {
    email,
    name: `Person ${people}`,
    role,
    password: PASSWORD,
  });
  return { email, id: user.id };
}

/** Signs in with the password through the form, as a browser would; returns the session. */
async function passwordSignIn(email: string): Promise<SignedIn> {
  const res = await t.request('/admin/login', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password: PASSWORD }).toString(),
  });
  expect(res.status).toBe(303);
  const cookie = /candor_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[0];
  if (!cookie) throw new Error('no session cookie');
  const page = await t.request('/admin/mfa/challenge', { headers: { cookie } });
  const html = await page.text();
  const csrfToken = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? (await csrfFrom(cookie));
  return { cookie, csrfToken, email, userId: '' };
}

async function csrfFrom(cookie: string): Promise<string> {
  const html = await (await t.request('/admin/account/mfa', { headers: { cookie } })).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no form token');
  return token;
}

const get = (path: string, session: SignedIn) => t.request(path, { headers: { cookie: session.cookie } });
const epoch = (offsetSteps = 0) => Math.floor(t.runtime.clock.now().getTime() / 1000) + offsetSteps * 30;
const codeAt = (secret: string, offsetSteps = 0) => generate({ secret, epoch: epoch(offsetSteps) });

async function events(action: string) {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, { action }, 1000, 0));
  return rows;
}

/** Enrols an authenticator app through the pages; returns the secret and the recovery codes shown. */
async function enrolTotp(session: SignedIn): Promise<{ secret: string; codes: string[] }> {
  const page = await (await get('/admin/account/mfa/totp', session)).text();
  const secret = /data-totp-secret[^>]*>([A-Z2-7]{32})</.exec(page)?.[1];
  if (!secret) throw new Error('no secret on the enrolment page');
  expect(page).toContain('<svg');
  const res = await t.postForm('/admin/account/mfa/totp', session, { secret, code: await codeAt(secret) });
  expect(res.status).toBe(200);
  const html = await res.text();
  const codes = [...html.matchAll(/<li><code>([a-z2-7]{5}-[a-z2-7]{5})<\/code><\/li>/g)].map((m) => m[1] ?? '');
  return { secret, codes };
}

async function api(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  return t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? ownerToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

describe('the policy gate', () => {
  it('sends a policy role without a factor to enrolment and lets them reach nothing else', async () => {
    const admin = await newPerson('security-admin');
    const session = await passwordSignIn(admin.email);
    for (const path of ['/admin', '/admin/users', '/admin/audit', '/admin/account', '/admin/mfa/challenge']) {
      const res = await get(path, session);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location'), path).toBe('/admin/account/mfa?required=1');
    }
    const posted = await t.postForm('/admin/account/password', session, { currentPassword: PASSWORD, newPassword: 'x' });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/admin/account/mfa?required=1');
    const enrolPage = await get('/admin/account/mfa', session);
    expect(enrolPage.status).toBe(200);
    expect(await enrolPage.text()).toContain('Your role requires two-step sign-in');
    // API tokens are not sessions: the gate does not apply to them.
    const token = await t.apiToken('security-admin');
    expect((await api('/me', { token })).status).toBe(200);
    // Enrolling opens everything, in this session.
    await enrolTotp(session);
    expect((await get('/admin/users', session)).status).toBe(200);
  });

  it('lets a person outside the policy in without a factor', async () => {
    const auditor = await newPerson('auditor');
    const session = await passwordSignIn(auditor.email);
    expect((await get('/admin', session)).status).toBe(200);
  });

  it('leads people to enrol at their next request when the policy comes to cover their role', async () => {
    const auditor = await newPerson('auditor');
    const session = await passwordSignIn(auditor.email);
    expect((await get('/admin/audit', session)).status).toBe(200);
    const put = await api('/mfa/policy', { method: 'PUT', body: { roles: ['owner', 'security-admin', 'auditor'] } });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ roles: ['auditor', 'owner', 'security-admin'] });
    const res = await get('/admin/audit', session);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/account/mfa?required=1');
    expect((await get('/admin/account/mfa', session)).status).toBe(200);
    await api('/mfa/policy', { method: 'PUT', body: { roles: ['owner', 'security-admin'] } });
    expect((await get('/admin/audit', session)).status).toBe(200);
    expect((await events('mfa.policy_updated')).length).toBe(2);
  });

  it('refuses unknown roles in the policy and changes nothing', async () => {
    const res = await api('/mfa/policy', { method: 'PUT', body: { roles: ['owner', 'wizard'] } });
    expect(res.status).toBe(422);
    expect(await (await api('/mfa/policy')).json()).toMatchObject({ roles: ['owner', 'security-admin'] });
    const page = await t.postForm('/admin/mfa/policy', owner, { roles: 'wizard' });
    expect(page.status).toBe(422);
  });

  it('edits the policy on its page with settings.manage only', async () => {
    expect((await get('/admin/mfa/policy', owner)).status).toBe(200);
    const saved = await t.postForm('/admin/mfa/policy', owner, { roles: 'owner' });
    expect(saved.status).toBe(303);
    expect(await (await api('/mfa/policy')).json()).toMatchObject({ roles: ['owner'] });
    const employee = await t.signInAs('employee');
    expect((await t.postForm('/admin/mfa/policy', employee, { roles: 'employee' })).status).toBe(403);
    await t.postForm('/admin/mfa/policy', owner, { roles: 'owner' });
    await api('/mfa/policy', { method: 'PUT', body: { roles: ['owner', 'security-admin'] } });
  });
});

describe('TOTP', () => {
  let person: { email: string; id: string };
  let secret: string;
  let recoveryCodes: string[];

  beforeAll(async () => {
    person = await newPerson('security-admin');
    const first = await passwordSignIn(person.email);
    ({ secret, codes: recoveryCodes } = await enrolTotp(first));
  });

  it('stores the secret sealed, never in clear', async () => {
    const rows = await t.runtime.db.query<{ secret: string }>('select secret from mfa_totp');
    expect(rows.rows.length).toBeGreaterThan(0);
    for (const row of rows.rows) expect(row.secret).toMatch(/^c1\./);
    expect(rows.rows.map((r) => r.secret)).not.toContain(secret);
  });

  it('shows ten recovery codes once at enrolment', () => {
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
  });

  it('refuses a wrong confirmation code and enrols nothing', async () => {
    const admin = await newPerson('security-admin');
    const session = await passwordSignIn(admin.email);
    const res = await t.postForm('/admin/account/mfa/totp', session, { secret: 'A'.repeat(32), code: '000000' });
    expect(res.status).toBe(422);
    expect((await api(`/users/${admin.id}/mfa`).then((r) => r.json())) as { enrolled: boolean }).toMatchObject({
      enrolled: false,
    });
  });

  it('asks for the code after the password and lets nothing else open until then', async () => {
    const session = await passwordSignIn(person.email);
    const res = await get('/admin/users', session);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/mfa/challenge?next=%2Fadmin%2Fusers');
    const challenge = await get('/admin/mfa/challenge?next=%2Fadmin%2Fusers', session);
    expect(challenge.status).toBe(200);
    expect(await challenge.text()).toContain('autocomplete="one-time-code"');
  });

  it('accepts the right code once, refuses a wrong one (recorded as mfa.failed) and a replayed one', async () => {
    const before = (await events('mfa.failed')).length;
    const session = await passwordSignIn(person.email);
    const wrong = await t.postForm('/admin/mfa/challenge', session, { code: '000000' });
    expect(wrong.status).toBe(422);
    const failed = await events('mfa.failed');
    expect(failed.length).toBe(before + 1);
    expect(failed[0]).toMatchObject({ targetId: person.id, outcome: 'failed' });
    expect(failed[0]?.details).toMatchObject({ email: person.email, reason: 'wrong code' });

    const code = await codeAt(secret, 1);
    const right = await t.postForm('/admin/mfa/challenge?next=%2Fadmin%2Fusers', session, { code });
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/admin/users');
    expect((await get('/admin/users', session)).status).toBe(200);

    const other = await passwordSignIn(person.email);
    const replayed = await t.postForm('/admin/mfa/challenge', other, { code });
    expect(replayed.status).toBe(422);
    expect((await events('mfa.failed'))[0]?.details).toMatchObject({ reason: 'code already used' });
    expect((await get('/admin', other)).status).toBe(303);
  });

  it('accepts a code only once when two requests bring it at the same moment', async () => {
    // A code two steps ahead is outside the window now: move the clock? No: use the next-but-one step after the last.
    const a = await passwordSignIn(person.email);
    const b = await passwordSignIn(person.email);
    // The last used step is now+1; the window reaches now+1, so wait for nothing: clear the throttle first.
    await t.runtime.db.query('delete from login_throttle');
    const step = Math.floor(epoch() / 30) + 1;
    const rows = await t.runtime.db.query<{ last_used_step: string }>('select last_used_step from mfa_totp where user_id = $1', [
      person.id,
    ]);
    expect(Number(rows.rows[0]?.last_used_step)).toBe(step);
    // Make room in the window: pretend the last use was two steps ago, then race one fresh code.
    await t.runtime.db.query('update mfa_totp set last_used_step = last_used_step - 2 where user_id = $1', [person.id]);
    const code = await codeAt(secret);
    const [ra, rb] = await Promise.all([
      t.postForm('/admin/mfa/challenge', a, { code }),
      t.postForm('/admin/mfa/challenge', b, { code }),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([303, 422]);
  });

  it('spends a recovery code once and says how many are left', async () => {
    await t.runtime.db.query('delete from login_throttle');
    const session = await passwordSignIn(person.email);
    const res = await t.postForm('/admin/mfa/challenge', session, { recoveryCode: (recoveryCodes[0] ?? '').toUpperCase() });
    expect(res.status).toBe(303);
    const page = await (await get('/admin/account/mfa', session)).text();
    expect(page).toContain('9 of 10 recovery codes left');
    expect((await events('mfa.recovery_code_used'))[0]?.details).toMatchObject({ left: 9 });
    const again = await passwordSignIn(person.email);
    const reused = await t.postForm('/admin/mfa/challenge', again, { recoveryCode: recoveryCodes[0] ?? '' });
    expect(reused.status).toBe(422);
  });

  it('throttles a code guesser like a password guesser', async () => {
    await t.runtime.db.query('delete from login_throttle');
    const session = await passwordSignIn(person.email);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.postForm('/admin/mfa/challenge', session, { code: '000000' })).status);
    expect(statuses).toContain(429);
    // Even the right code waits out the delay.
    const right = await t.postForm('/admin/mfa/challenge', session, { code: await codeAt(secret, 1) });
    expect(right.status).toBe(429);
    await t.runtime.db.query('delete from login_throttle');
  });

  it('regenerates recovery codes with the password: the old ones die', async () => {
    const session = await passwordSignIn(person.email);
    await t.runtime.db.query('update mfa_totp set last_used_step = last_used_step - 3 where user_id = $1', [person.id]);
    expect((await t.postForm('/admin/mfa/challenge', session, { code: await codeAt(secret) })).status).toBe(303);
    expect((await t.postForm('/admin/account/mfa/recovery-codes', session, { password: 'wrong password here' })).status).toBe(
      422,
    );
    const res = await t.postForm('/admin/account/mfa/recovery-codes', session, { password: PASSWORD });
    expect(res.status).toBe(200);
    const fresh = [...(await res.text()).matchAll(/<code>([a-z2-7]{5}-[a-z2-7]{5})<\/code>/g)].map((m) => m[1]);
    expect(fresh).toHaveLength(10);
    const other = await passwordSignIn(person.email);
    expect((await t.postForm('/admin/mfa/challenge', other, { recoveryCode: recoveryCodes[1] ?? '' })).status).toBe(422);
    await t.runtime.db.query('delete from login_throttle');
  });

  it('removes the app only with the password or a code', async () => {
    const admin = await newPerson('security-admin');
    const session = await passwordSignIn(admin.email);
    await enrolTotp(session);
    expect((await t.postForm('/admin/account/mfa/totp/remove', session, {})).status).toBe(422);
    expect((await t.postForm('/admin/account/mfa/totp/remove', session, { password: 'not the password!' })).status).toBe(422);
    const removed = await t.postForm('/admin/account/mfa/totp/remove', session, { password: PASSWORD });
    expect(removed.status).toBe(303);
    expect(await (await api(`/users/${admin.id}/mfa`)).json()).toMatchObject({ enrolled: false, recoveryCodesLeft: 0 });
    // Still under the policy: the gate sends them back to enrolment.
    expect((await get('/admin', session)).headers.get('location')).toBe('/admin/account/mfa?required=1');
  });
});

describe('reset by an administrator', () => {
  it('removes another person’s factors, recorded; refuses one’s own and readers', async () => {
    const admin = await newPerson('security-admin');
    const session = await passwordSignIn(admin.email);
    await enrolTotp(session);
    const status = await (await api(`/users/${admin.id}/mfa`)).json();
    expect(status).toMatchObject({ enrolled: true, totp: true, recoveryCodesLeft: 10, required: true });
    const personPage = await (await get(`/admin/users/${admin.id}`, owner)).text();
    expect(personPage).toContain('Reset two-step sign-in');

    const auditorToken = await t.apiToken('auditor');
    expect((await api(`/users/${admin.id}/mfa`, { token: auditorToken })).status).toBe(200);
    expect((await api(`/users/${admin.id}/mfa`, { method: 'DELETE', token: auditorToken })).status).toBe(403);

    const res = await t.postForm(`/admin/users/${admin.id}/mfa/reset`, owner, {});
    expect(res.status, await res.clone().text()).toBe(303);
    expect(await (await api(`/users/${admin.id}/mfa`)).json()).toMatchObject({
      enrolled: false,
      totp: false,
      recoveryCodesLeft: 0,
    });
    const reset = (await events('mfa.reset'))[0];
    expect(reset).toMatchObject({ targetId: admin.id, actorId: owner.userId });

    expect((await t.postForm(`/admin/users/${owner.userId}/mfa/reset`, owner, {})).status).toBe(403);
    expect((await api(`/users/${owner.userId}/mfa`)).status).toBe(200);
  });

  it('answers 404 for an unknown person', async () => {
    expect((await api('/users/00000000-0000-4000-8000-000000000000/mfa', { method: 'DELETE' })).status).toBe(404);
  });
});

describe('passkeys', () => {
  let person: { email: string; id: string };
  let session: SignedIn;
  const authenticator = new SoftAuthenticator(ORIGIN);

  const postJson = (path: string, s: SignedIn | undefined, body: unknown) =>
    t.request(path, {
      method: 'POST',
      headers: {
        origin: ORIGIN,
        'content-type': 'application/json',
        ...(s ? { cookie: s.cookie, 'x-csrf-token': s.csrfToken } : {}),
      },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    person = await newPerson('security-admin');
    session = await passwordSignIn(person.email);
  });

  it('registers a named passkey as the first factor, verified by the server', async () => {
    const options = await (await postJson('/admin/account/mfa/passkeys/options', session, {})).json();
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    expect(options.rp.id).toBe('acme.test');
    const res = await postJson('/admin/account/mfa/passkeys', session, {
      name: 'Work laptop',
      response: authenticator.register(options),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await get('/admin/users', session)).status).toBe(200);
    const status = await (await api(`/users/${person.id}/mfa`)).json();
    expect(status.passkeys.map((p: { name: string }) => p.name)).toEqual(['Work laptop']);
  });

  it('refuses a registration answering a spent challenge or from another origin', async () => {
    const options = await (await postJson('/admin/account/mfa/passkeys/options', session, {})).json();
    const other = new SoftAuthenticator(ORIGIN);
    const foreign = await postJson('/admin/account/mfa/passkeys', session, {
      name: 'Evil',
      response: other.register(options, 'http://evil.test'),
    });
    expect(foreign.status).toBe(422);
    // The challenge was taken by the refused attempt: it cannot be used again.
    const replay = await postJson('/admin/account/mfa/passkeys', session, { name: 'Again', response: other.register(options) });
    expect(replay.status).toBe(422);
    expect((await events('mfa.passkey_refused')).length).toBe(2);
  });

  it('is the second factor after the password', async () => {
    const fresh = await passwordSignIn(person.email);
    expect((await get('/admin', fresh)).headers.get('location')).toBe('/admin/mfa/challenge?next=%2Fadmin');
    const options = await (await postJson('/admin/mfa/challenge/passkey/options', fresh, {})).json();
    expect(options.allowCredentials.map((c: { id: string }) => c.id)).toEqual([authenticator.id]);
    const res = await postJson('/admin/mfa/challenge/passkey', fresh, { response: authenticator.assert(options) });
    expect(res.status).toBe(200);
    expect((await get('/admin', fresh)).status).toBe(200);
  });

  it('signs in without a password, with the second factor proven', async () => {
    const options = await (await postJson('/admin/login/passkey/options', undefined, {})).json();
    expect(options.userVerification).toBe('required');
    expect(options.allowCredentials ?? []).toEqual([]);
    const res = await postJson('/admin/login/passkey', undefined, { response: authenticator.assert(options) });
    expect(res.status).toBe(200);
    const cookie = /candor_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[0] ?? '';
    const dashboard = await t.request('/admin/users', { headers: { cookie } });
    expect(dashboard.status).toBe(200);
    const signedIn = (await events('session.signed_in'))[0];
    expect(signedIn?.details).toMatchObject({ method: 'passkey', secondFactor: true });
  });

  it('refuses a replayed signature counter, a reused challenge and a missing user verification', async () => {
    const before = (await events('mfa.failed')).length;
    const options = await (await postJson('/admin/login/passkey/options', undefined, {})).json();
    const assertion = authenticator.assert(options);
    expect((await postJson('/admin/login/passkey', undefined, { response: assertion })).status).toBe(200);
    expect((await postJson('/admin/login/passkey', undefined, { response: assertion })).status).toBe(422);

    const again = await (await postJson('/admin/login/passkey/options', undefined, {})).json();
    authenticator.signCount -= 2;
    expect((await postJson('/admin/login/passkey', undefined, { response: authenticator.assert(again) })).status).toBe(422);
    authenticator.signCount += 5;

    const noUv = await (await postJson('/admin/login/passkey/options', undefined, {})).json();
    const res = await postJson('/admin/login/passkey', undefined, {
      response: authenticator.assert(noUv, { userVerified: false }),
    });
    expect(res.status).toBe(422);
    const failed = await events('mfa.failed');
    expect(failed.length).toBe(before + 3);
    expect(failed[1]?.details).toMatchObject({ email: person.email, reason: 'signature counter did not increase' });
    await t.runtime.db.query('delete from login_throttle');
  });

  it('lists and removes a passkey', async () => {
    const page = await (await get('/admin/account/mfa', session)).text();
    expect(page).toContain('Work laptop');
    const status = await (await api(`/users/${person.id}/mfa`)).json();
    const id = status.passkeys[0].id as string;
    const res = await t.postForm(`/admin/account/mfa/passkeys/${id}/remove`, session, {});
    expect(res.status).toBe(303);
    expect(await (await api(`/users/${person.id}/mfa`)).json()).toMatchObject({ enrolled: false, passkeys: [] });
    expect((await events('mfa.passkey_removed')).length).toBe(1);
  });
});
