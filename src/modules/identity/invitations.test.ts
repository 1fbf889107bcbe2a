import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { listOutboxRows } from '../../platform/mail/store.ts';
import { INVITATION_TTL_MS } from './invitations.ts';

const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://acme.test' };
const json = { 'content-type': 'application/json' };

describe('invitations by email', () => {
  let t: TestApp;
  let owner: SignedIn;
  let token: string;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await createTestApp({ clock });
    owner = await t.signInAs('security-admin');
    token = await t.apiToken('owner');
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (path: string, fields: Record<string, string>, cookie?: string) =>
    t.request(path, {
      method: 'POST',
      headers: { ...form, ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(fields).toString(),
    });

  /** The invitation link's path in the newest mail to `to`. */
  async function linkMailedTo(to: string): Promise<string> {
    const mails = await t.runtime.db.withTenant(t.tenant.id, (tx) => listOutboxRows(tx, 1000, 0));
    const newest = mails.filter((m) => m.to.includes(to)).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    const link = /http:\/\/acme\.test(\/admin\/invite\/\S+)/.exec(newest?.text ?? '')?.[1];
    if (!link) throw new Error(`no invitation mailed to ${to}`);
    return link;
  }

  async function personByEmail(email: string) {
    const res = await t.request('/api/v1/users', { headers: { authorization: `Bearer ${token}` } });
    const { items } = (await res.json()) as { items: { id: string; email: string; status: string }[] };
    const found = items.find((p) => p.email === email);
    if (!found) throw new Error(`no person ${email}`);
    return found;
  }

  it('adds a person from the back office and mails them a link; they choose a password and are signed in', async () => {
    const added = await t.postForm('/admin/users', owner, { name: 'Ines Ortega', email: 'ines@acme.test', role: 'responder' });
    expect(added.status).toBe(303);
    expect((await personByEmail('ines@acme.test')).status).toBe('invited');
    const link = await linkMailedTo('ines@acme.test');

    const page = await t.request(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('ines@acme.test');
    expect(html).toContain('autocomplete="new-password"');

    // A refused password keeps the link usable.
    const weak = await post(link, { name: 'Ines Ortega', password: 'password1234' });
    expect(weak.status).toBe(422);
    const done = await post(link, { name: 'Inés Ortega', password: 'tide pools at low noon' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/admin');
    const cookie = (done.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const home = await t.request('/admin', { headers: { cookie } });
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('Inés Ortega');
    expect((await personByEmail('ines@acme.test')).status).toBe('active');

    // The link worked once.
    expect((await t.request(link)).status).toBe(410);
    expect((await post(link, { name: 'Mallory', password: 'an attacker passphrase here' })).status).toBe(410);
    const signIn = await post('/admin/login', { email: 'ines@acme.test', password: 'tide pools at low noon' });
    expect(signIn.status).toBe(303);

    const trail = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
    const actions = trail.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.created', 'user.invited', 'user.invitation_accepted']));
    const inesSignIns = trail.filter((e) => e.action === 'session.signed_in' && e.actorLabel === 'ines@acme.test');
    expect(inesSignIns.map((e) => e.details.method).sort()).toEqual(['invitation', 'password']);
  });

  it('sends the invitation again with a new link, and the old link stops working', async () => {
    await t.postForm('/admin/users', owner, { name: 'Jon Park', email: 'jon@acme.test', role: 'employee' });
    const first = await linkMailedTo('jon@acme.test');
    const jon = await personByEmail('jon@acme.test');
    const again = await t.postForm(`/admin/users/${jon.id}/invitation`, owner, {});
    expect(again.status).toBe(303);
    const second = await linkMailedTo('jon@acme.test');
    expect(second).not.toBe(first);
    expect((await t.request(first)).status).toBe(410);
    expect((await t.request(second)).status).toBe(200);
  });

  it('expires a link after seven days', async () => {
    await t.postForm('/admin/users', owner, { name: 'Kai Lund', email: 'kai@acme.test', role: 'employee' });
    const link = await linkMailedTo('kai@acme.test');
    clock.advance(INVITATION_TTL_MS + 1000);
    expect((await t.request(link)).status).toBe(410);
    expect((await post(link, { name: 'Kai Lund', password: 'too late for this passphrase' })).status).toBe(410);
    // Expired: the person shows as having no password, and can be invited again.
    const kai = await personByEmail('kai@acme.test');
    expect(kai.status).toBe('no-password');
  });

  it('invites through the API unless told not to, and refuses to re-invite someone with a password', async () => {
    const auth = { authorization: `Bearer ${token}`, ...json };
    const invited = await t.request('/api/v1/users', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'Lena Roth', email: 'lena@acme.test', role: 'employee' }),
    });
    expect(invited.status).toBe(201);
    expect(await invited.json()).toMatchObject({ status: 'invited', invitationExpiresAt: expect.any(String) });
    expect(await linkMailedTo('lena@acme.test')).toMatch(/^\/admin\/invite\//);

    const quiet = await t.request('/api/v1/users', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'Moe Quiet', email: 'moe@acme.test', role: 'employee', invite: false }),
    });
    expect(await quiet.json()).toMatchObject({ status: 'no-password', invitationExpiresAt: null });

    const ines = await personByEmail('ines@acme.test');
    const refused = await t.request(`/api/v1/users/${ines.id}/invitation`, { method: 'POST', headers: auth });
    expect(refused.status).toBe(409);
    const moe = await personByEmail('moe@acme.test');
    const sent = await t.request(`/api/v1/users/${moe.id}/invitation`, { method: 'POST', headers: auth });
    expect(sent.status).toBe(200);
    expect(await linkMailedTo('moe@acme.test')).toMatch(/^\/admin\/invite\//);
  });

  it('shows a clear page for a forged link', async () => {
    const res = await t.request('/admin/invite/not-a-real-invitation-token');
    expect(res.status).toBe(410);
  });
});
