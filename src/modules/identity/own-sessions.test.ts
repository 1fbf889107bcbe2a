import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { resolveSession, signIn } from './service.ts';

describe('a person’s own sessions at /admin/account/sessions', () => {
  let t: TestApp;
  let me: SignedIn;
  let other: SignedIn;
  const password = 'a test passphrase long enough';
  beforeAll(async () => {
    t = await createTestApp();
    me = await t.signInAs('employee', 'grace@acme.test');
    other = await t.signInAs('employee', 'hopper@acme.test');
  });
  afterAll(async () => {
    await t.close();
  });

  const anotherSession = async () => (await signIn(t.contextOf({ kind: 'anonymous' }), { email: me.email, password })).sessionId;
  const alive = async (sessionId: string) =>
    (await resolveSession(t.runtime.db, t.runtime.clock, t.tenant.id, sessionId)) !== undefined;
  const idsOn = (html: string) => [...html.matchAll(/\/admin\/account\/sessions\/([0-9a-f]{64})\/end/g)].map((m) => m[1]);

  it('lists only the person’s sessions, marks the current one, and ends one of them', async () => {
    const second = await anotherSession();
    const html = await (await t.request('/admin/account/sessions', { headers: { cookie: me.cookie } })).text();
    expect(html).toContain('(this session)');
    expect(html).toContain('vitest');
    const ids = idsOn(html);
    expect(ids).toHaveLength(1); // the current session has no End button, the other person's are not listed
    const res = await t.postForm(`/admin/account/sessions/${ids[0]}/end`, me, {});
    expect(res.status).toBe(303);
    expect(await alive(second)).toBe(false);
    expect(await alive(me.cookie.split('=')[1] ?? '')).toBe(true);
  });

  it('cannot end another person’s session', async () => {
    const theirs = idsOn(await (await t.request('/admin/account/sessions', { headers: { cookie: other.cookie } })).text());
    await anotherSession();
    const otherSecond = await signIn(t.contextOf({ kind: 'anonymous' }), { email: other.email, password });
    const theirIds = idsOn(await (await t.request('/admin/account/sessions', { headers: { cookie: other.cookie } })).text());
    expect(theirs).toHaveLength(0);
    const res = await t.postForm(`/admin/account/sessions/${theirIds[0]}/end`, me, {});
    expect(res.status).toBe(404);
    expect(await alive(otherSecond.sessionId)).toBe(true);
  });

  it('ends all other sessions at once, refuses a forged form, and keeps the current one', async () => {
    const a = await anotherSession();
    const forged = await t.request('/admin/account/sessions/others/end', {
      method: 'POST',
      headers: { cookie: me.cookie, origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(forged.status).toBe(403);
    expect(await alive(a)).toBe(true);
    expect((await t.postForm('/admin/account/sessions/others/end', me, {})).status).toBe(303);
    expect(await alive(a)).toBe(false);
    expect(await alive(me.cookie.split('=')[1] ?? '')).toBe(true);
  });
});
