import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { passwordProblem } from './passwords.ts';
import { resolveSession, signIn } from './service.ts';

const acme = { tenantName: 'Acme', tenantSlug: 'acme', email: 'ada.lovelace@acme.test' };

describe('the password policy', () => {
  it('asks for length, not composition: any 12 characters pass, 11 do not, 257 do not', () => {
    expect(passwordProblem('plain lowercase words')).toBeUndefined();
    expect(passwordProblem('ünïcödé pässwörd 密码')).toBeUndefined();
    expect(passwordProblem('a'.repeat(5) + 'b'.repeat(6))).toMatch(/at least 12 characters/);
    expect(passwordProblem('x'.repeat(257))).toMatch(/at most 256 characters/);
    expect(passwordProblem('y'.repeat(256))).toBeUndefined();
  });

  it('counts characters, not UTF-16 units, after NFKC normalisation', () => {
    // Twelve emoji are 24 UTF-16 units but twelve characters; eleven are too few.
    expect(passwordProblem('🔑'.repeat(12))).toBeUndefined();
    expect(passwordProblem('🔑'.repeat(11))).toMatch(/at least 12/);
    // Full-width letters fold into ASCII, so a full-width common password is still common.
    expect(passwordProblem('ｐａｓｓｗｏｒｄ１２３４')).toMatch(/common or breached/);
  });

  it('refuses passwords on the shipped list, also with digits and punctuation around them', () => {
    expect(passwordProblem('qwertyuiop123')).toMatch(/common or breached/);
    expect(passwordProblem('Password2024!')).toMatch(/common or breached/);
    expect(passwordProblem('!!iloveyou!!!')).toMatch(/common or breached/);
  });

  it('refuses passwords that lean on the tenant, the email or the product', () => {
    expect(passwordProblem('lovelace-acme-2026', acme)).toMatch(/leans on your email/);
    expect(passwordProblem('CandorCandor2026', acme)).toMatch(/leans on your email/);
    expect(passwordProblem('acme.test 123456', { tenantSlug: 'acme.test' })).toMatch(/leans on/);
    // A context word inside a long enough passphrase is fine.
    expect(passwordProblem('the acme roadrunner never sleeps', acme)).toBeUndefined();
  });
});

describe('changing one’s password at /admin/account', () => {
  let t: TestApp;
  let me: SignedIn;
  const password = 'a test passphrase long enough';
  beforeAll(async () => {
    t = await createTestApp();
    me = await t.signInAs('employee', 'grace@acme.test');
  });
  afterAll(async () => {
    await t.close();
  });

  async function secondSession(pw: string): Promise<string> {
    const { sessionId } = await signIn(t.contextOf({ kind: 'anonymous' }), { email: me.email, password: pw });
    return sessionId;
  }

  it('shows the form with password-manager hints', async () => {
    const res = await t.request('/admin/account', { headers: { cookie: me.cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('autocomplete="current-password"');
    expect(html).toContain('autocomplete="new-password"');
  });

  it('refuses a wrong current password, a common and a personal new one, with the reason inline', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ currentPassword: 'not my password!', newPassword: 'a brand new passphrase' }, 'this is not your current password'],
      [{ currentPassword: password, newPassword: 'Password2024!' }, 'common or breached'],
      [{ currentPassword: password, newPassword: 'grace-acme-2026' }, 'leans on your email'],
      [{ currentPassword: password, newPassword: 'short' }, 'at least 12 characters'],
    ];
    for (const [fields, message] of cases) {
      const res = await t.postForm('/admin/account/password', me, fields);
      expect(res.status, message).toBe(422);
      expect(await res.text()).toContain(message);
    }
    // Nothing changed: the old password still signs in.
    expect(await secondSession(password)).toBeTruthy();
  });

  it('refuses a forged form without the CSRF token, and changes nothing', async () => {
    const res = await t.request('/admin/account/password', {
      method: 'POST',
      headers: { cookie: me.cookie, origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ currentPassword: password, newPassword: 'an attacker chosen passphrase' }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await secondSession(password)).toBeTruthy();
  });

  it('ends every other session of the person, keeps the current one, and records the change', async () => {
    const other = await secondSession(password);
    const stranger = await t.signInAs('employee', 'hopper@acme.test');
    const res = await t.postForm('/admin/account/password', me, {
      currentPassword: password,
      newPassword: 'ein neues Passwort für Grace',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/account');
    const { db, clock } = t.runtime;
    expect(await resolveSession(db, clock, t.tenant.id, other)).toBeUndefined();
    expect((await t.request('/admin/account', { headers: { cookie: me.cookie } })).status).toBe(200);
    // Another person's session is untouched.
    expect((await t.request('/admin/account', { headers: { cookie: stranger.cookie } })).status).toBe(200);
    await expect(secondSession(password)).rejects.toThrow(/do not match/);
    expect(await secondSession('ein neues Passwort für Grace')).toBeTruthy();
    const events = await db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
    const changed = events.filter((e) => e.action === 'auth.password_changed');
    expect(changed).toHaveLength(1);
    expect(Number(changed[0]?.details?.otherSessionsEnded)).toBeGreaterThanOrEqual(1);
  });
});
