import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { listOutboxRows } from '../../platform/mail/store.ts';
import { RESET_LINK_TTL_MS } from './reset.ts';
import { resolveSession } from './service.ts';

const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://acme.test' };

describe('password reset by emailed link', () => {
  let t: TestApp;
  let grace: SignedIn;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await createTestApp({ clock });
    grace = await t.signInAs('employee', 'grace@acme.test');
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (path: string, fields: Record<string, string>) =>
    t.request(path, { method: 'POST', headers: form, body: new URLSearchParams(fields).toString() });

  async function mails() {
    return t.runtime.db.withTenant(t.tenant.id, (tx) => listOutboxRows(tx, 1000, 0));
  }

  /** Asks for a reset and returns the link's path from the newest mail. */
  async function askForLink(email = grace.email): Promise<string> {
    const res = await post('/admin/forgot-password', { email });
    expect(res.status).toBe(200);
    const newest = (await mails()).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || 0)[0];
    const link = /http:\/\/acme\.test(\/admin\/reset-password\/\S+)/.exec(newest?.text ?? '')?.[1];
    if (!link) throw new Error('no reset link in the outbox');
    return link;
  }

  it('offers "Forgot password?" on the sign-in page', async () => {
    expect(await (await t.request('/admin/login')).text()).toContain('href="/admin/forgot-password"');
  });

  it('answers the same for an unknown address and mails nothing', async () => {
    const before = (await mails()).length;
    const known = await (await post('/admin/forgot-password', { email: grace.email })).text();
    const unknown = await (await post('/admin/forgot-password', { email: 'nobody@acme.test' })).text();
    expect(unknown.replace('nobody@acme.test', 'X')).toBe(known.replace(grace.email, 'X'));
    expect((await mails()).length).toBe(before + 1);
  });

  it('sets a new password under the policy, ends every session, and refuses the link a second time', async () => {
    const link = await askForLink();
    expect((await t.request(link)).status).toBe(200);
    const weak = await post(link, { newPassword: 'Password2024!' });
    expect(weak.status).toBe(422);
    expect(await weak.text()).toContain('common or breached');
    const done = await post(link, { newPassword: 'a fresh passphrase for grace' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Your password is changed');
    const sessionId = grace.cookie.split('=')[1] ?? '';
    expect(await resolveSession(t.runtime.db, t.runtime.clock, t.tenant.id, sessionId)).toBeUndefined();
    // Reuse of a spent link is refused and changes nothing.
    const again = await post(link, { newPassword: 'an attacker chosen passphrase' });
    expect(again.status).toBe(410);
    expect((await t.request(link)).status).toBe(410);
    const signIn = await post('/admin/login', { email: grace.email, password: 'a fresh passphrase for grace' });
    expect(signIn.status).toBe(303);
    const trail = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
    expect(trail.map((e) => e.action)).toEqual(expect.arrayContaining(['auth.password_reset_requested', 'auth.password_reset']));
  });

  it('stops an older link working once a newer one is issued', async () => {
    const older = await askForLink();
    const newer = await askForLink();
    expect(newer).not.toBe(older);
    expect((await post(older, { newPassword: 'the older link passphrase' })).status).toBe(410);
    expect((await post(newer, { newPassword: 'the newer link passphrase' })).status).toBe(200);
  });

  it('refuses a link after an hour', async () => {
    const link = await askForLink();
    clock.advance(RESET_LINK_TTL_MS + 1000);
    expect((await t.request(link)).status).toBe(410);
    expect((await post(link, { newPassword: 'too late for this passphrase' })).status).toBe(410);
  });
});
