import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';

const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://acme.test' };
const PASSWORD = 'a test passphrase long enough';

/** A session as a browser holds it: only the cookie the server last set. */
async function browserSignIn(t: TestApp, email: string): Promise<string> {
  const res = await t.app.request('http://acme.test/admin/login', {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ email, password: PASSWORD }).toString(),
  });
  expect(res.status).toBe(303);
  return /candor_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
}

const page = (t: TestApp, id: string, path = '/admin') =>
  t.app.request(`http://acme.test${path}`, { headers: { cookie: `candor_session=${id}` } });

describe('a new session id at privilege change', () => {
  let t: TestApp;
  let admin: SignedIn;
  let person: SignedIn;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.signInAs('security-admin');
    person = await t.signInAs('employee', 'pat@acme.test');
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives the session a new id at its next request after a role is granted, and the old id stops working', async () => {
    const before = await browserSignIn(t, person.email);
    const unchanged = await page(t, before);
    expect(unchanged.status).toBe(200);
    expect(unchanged.headers.get('set-cookie') ?? '').not.toContain('candor_session=');

    const granted = await t.postForm(`/admin/users/${person.userId}/roles`, admin, { role: 'auditor' });
    expect(granted.status).toBe(303);

    const next = await page(t, before, '/admin/audit');
    expect(next.status).toBe(200); // the request itself goes through, with the new role
    const after = /candor_session=([^;]+)/.exec(next.headers.get('set-cookie') ?? '')?.[1];
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect((await page(t, before)).status).toBe(303); // the old id is signed out
    expect((await page(t, after ?? '', '/admin/audit')).status).toBe(200);
  });

  it('does so again when a role is taken away', async () => {
    const before = await browserSignIn(t, person.email);
    expect((await page(t, before)).status).toBe(200);
    const revoked = await t.postForm(`/admin/users/${person.userId}/roles/auditor/revoke`, admin, {});
    expect(revoked.status).toBe(303);
    const next = await page(t, before);
    const after = /candor_session=([^;]+)/.exec(next.headers.get('set-cookie') ?? '')?.[1];
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect((await page(t, after ?? '', '/admin/audit')).status).toBe(403);
  });
});
