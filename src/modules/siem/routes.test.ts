import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { eventsAfter } from '../../platform/audit/store.ts';
import type { Actor } from '../../platform/context.ts';
import { createTenant } from '../tenants/service.ts';
import { addDestination } from './service.ts';

let t: TestApp;
let owner: SignedIn;
let ownerToken: string;
let otherTenantDestination: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

async function trail(): Promise<{ action: string; targetId: string | null; details: Record<string, unknown> }[]> {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => eventsAfter(tx, t.tenant.id, 0, 10_000));
  return rows.map((r) => ({ action: r.action, targetId: r.targetId, details: r.details }));
}

async function page(): Promise<string> {
  const res = await t.request('/admin/siem', { headers: { cookie: owner.cookie } });
  expect(res.status).toBe(200);
  return res.text();
}

const syslogForm = { kind: 'syslog', name: 'Splunk', host: 'siem.example.com', port: '6514', tls: 'on', startAt: 'beginning' };

beforeAll(async () => {
  t = await createTestApp();
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
  const system: Actor = { kind: 'system', name: 'cli' };
  const other = await createTenant(
    t.runtime.db,
    { slug: 'other', name: 'Other', hosts: ['other.test'] },
    { audit: t.runtime.audit, actor: system },
  );
  const added = await addDestination(
    { ...t.runtime, tenant: other, actor: system, requestId: 'r', ip: '127.0.0.1', userAgent: '' },
    { kind: 'syslog', name: 'Other SIEM', host: 'other-siem.example.com', port: 514, tls: false },
  );
  otherTenantDestination = added.destination.id;
});

afterAll(async () => {
  await t.close();
});

describe('SIEM forwarding in the back office', () => {
  it('shows an empty list and both add forms, and never another tenant’s destinations', async () => {
    const html = await page();
    expect(html).toContain('No destinations yet');
    expect(html).toContain('Add a syslog receiver');
    expect(html).toContain('Add a webhook');
    expect(html).not.toContain('Other SIEM');
  });

  it('refuses a bad host and port with inline errors and keeps what was typed', async () => {
    const res = await t.postForm('/admin/siem', owner, { ...syslogForm, host: 'not a host!', port: '70000' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('not a host name or IP address');
    expect(html).toContain('ports run from 1 to 65535');
    expect(html).toContain('value="not a host!"');
    expect(html).toContain('aria-invalid="true"');
    const letters = await t.postForm('/admin/siem', owner, { ...syslogForm, port: 'abc' });
    expect(letters.status).toBe(422);
    expect(await letters.text()).toContain('enter a port number');
    expect((await trail()).some((e) => e.action === 'siem.destination_added')).toBe(false);
  });

  it('refuses a URL that is not http(s), or carries credentials, and a short secret', async () => {
    const ftp = await t.postForm('/admin/siem', owner, { kind: 'webhook', webhookName: 'Hook', url: 'ftp://siem.example.com/x' });
    expect(ftp.status).toBe(422);
    expect(await ftp.text()).toContain('use an https:// (or http://) URL');
    const creds = await t.postForm('/admin/siem', owner, {
      kind: 'webhook',
      webhookName: '',
      url: 'https://user:pw@siem.example.com/x',
      secret: 'short',
    });
    expect(creds.status).toBe(422);
    const html = await creds.text();
    expect(html).toContain('leave user name and password out of the URL');
    expect(html).toContain('name the destination');
    expect(html).toContain('use at least 24 characters');
    expect(html).not.toContain('value="short"');
    const garbage = await t.postForm('/admin/siem', owner, { kind: 'webhook', webhookName: 'Hook', url: 'not a url' });
    expect(await garbage.text()).toContain('not a URL');
  });

  it('adds a syslog receiver, records it in the trail and lists it with its position', async () => {
    const res = await t.postForm('/admin/siem', owner, syslogForm);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/siem');
    const added = (await trail()).filter((e) => e.action === 'siem.destination_added');
    expect(added).toHaveLength(1);
    expect(added[0]?.details).toEqual({
      name: 'Splunk',
      kind: 'syslog',
      host: 'siem.example.com',
      port: 6514,
      tls: true,
      startAt: 'beginning',
    });
    const html = await page();
    expect(html).toContain('Splunk');
    expect(html).toContain('siem.example.com:6514');
    expect(html).toMatch(/seq 0 of \d+/);
  });

  it('adds a webhook with a generated secret shown once, and never puts the secret in the trail', async () => {
    const res = await t.postForm('/admin/siem', owner, {
      kind: 'webhook',
      webhookName: 'Webhook SIEM',
      url: 'https://siem.example.com/ingest/candor?tenant=acme',
      startAt: 'now',
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    const secret = /<code class="secret"[^>]*>\s*([^<\s]+)\s*<\/code>/.exec(html)?.[1];
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await page()).not.toContain(secret);
    const events = await trail();
    expect(JSON.stringify(events)).not.toContain(secret);
    const added = events.filter((e) => e.action === 'siem.destination_added').at(-1);
    // Only the origin: a URL's path or query can carry a receiver's own token.
    expect(added?.details).toEqual({ name: 'Webhook SIEM', kind: 'webhook', origin: 'https://siem.example.com', startAt: 'now' });
  });

  it('disables, enables, tests and deletes a destination, each recorded in the trail', async () => {
    const list = await t.request('/api/v1/siem/destinations', { headers: bearer(ownerToken) });
    const splunk = ((await list.json()) as { items: { id: string; name: string }[] }).items.find((d) => d.name === 'Splunk');
    const id = splunk?.id as string;

    const disabled = await t.postForm(`/admin/siem/${id}/disable`, owner, {});
    expect(disabled.status).toBe(303);
    expect(await page()).toContain('disabled');
    const refusedTest = await t.postForm(`/admin/siem/${id}/test`, owner, {});
    expect(refusedTest.status).toBe(409);
    expect((await t.postForm(`/admin/siem/${id}/enable`, owner, {})).status).toBe(303);
    const tested = await t.postForm(`/admin/siem/${id}/test`, owner, {});
    expect(tested.status).toBe(303);
    const deleted = await t.postForm(`/admin/siem/${id}/delete`, owner, {});
    expect(deleted.status).toBe(303);
    expect(await page()).not.toContain('siem.example.com:6514');

    const mine = (await trail()).filter((e) => e.targetId === id).map((e) => e.action);
    expect(mine).toEqual([
      'siem.destination_added',
      'siem.destination_disabled',
      'siem.destination_enabled',
      'siem.test',
      'siem.destination_removed',
    ]);
    expect((await t.postForm(`/admin/siem/${id}/delete`, owner, {})).status).toBe(404);
  });

  it('does not let another tenant’s destination be changed from here', async () => {
    expect((await t.postForm(`/admin/siem/${otherTenantDestination}/disable`, owner, {})).status).toBe(404);
    expect((await t.postForm(`/admin/siem/${otherTenantDestination}/delete`, owner, {})).status).toBe(404);
  });
});

describe('SIEM forwarding API', () => {
  it('creates, lists and deletes destinations, never returning a secret it was given', async () => {
    const created = await t.request('/api/v1/siem/destinations', {
      method: 'POST',
      headers: bearer(ownerToken),
      body: JSON.stringify({ kind: 'webhook', name: 'API hook', url: 'https://hooks.example.com/x', secret: 'a'.repeat(32) }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ name: 'API hook', kind: 'webhook', enabled: true, cursor: 0, failures: 0 });
    expect(body.secret).toBeUndefined();
    expect(typeof body.head).toBe('number');

    const list = await t.request('/api/v1/siem/destinations', { headers: bearer(ownerToken) });
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).toContain('API hook');
    expect(text).not.toContain('a'.repeat(32));
    expect(text).not.toContain('Other SIEM');

    const removed = await t.request(`/api/v1/siem/destinations/${body.id}`, { method: 'DELETE', headers: bearer(ownerToken) });
    expect(removed.status).toBe(204);
    const again = await t.request(`/api/v1/siem/destinations/${body.id}`, { method: 'DELETE', headers: bearer(ownerToken) });
    expect(again.status).toBe(404);
    const other = await t.request(`/api/v1/siem/destinations/${otherTenantDestination}`, {
      method: 'DELETE',
      headers: bearer(ownerToken),
    });
    expect(other.status).toBe(404);
  });

  it('records a test event for a destination and answers with its sequence number', async () => {
    const created = await t.request('/api/v1/siem/destinations', {
      method: 'POST',
      headers: bearer(ownerToken),
      body: JSON.stringify({ kind: 'syslog', name: 'API syslog', host: '192.0.2.50', port: 6514 }),
    });
    const { id, tls } = (await created.json()) as { id: string; tls: boolean };
    expect(tls).toBe(true);
    const tested = await t.request(`/api/v1/siem/destinations/${id}/test`, { method: 'POST', headers: bearer(ownerToken) });
    expect(tested.status).toBe(202);
    const { seq } = (await tested.json()) as { seq: number };
    const events = await t.runtime.db.withTenant(t.tenant.id, (tx) => eventsAfter(tx, t.tenant.id, seq - 1, 1));
    expect(events[0]).toMatchObject({ seq, action: 'siem.test', targetType: 'siem_destination', targetId: id });
  });

  it('answers invalid input with a problem naming the fields', async () => {
    const res = await t.request('/api/v1/siem/destinations', {
      method: 'POST',
      headers: bearer(ownerToken),
      body: JSON.stringify({ kind: 'syslog', name: 'x', host: 'bad host', port: 0 }),
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as { errors: Record<string, string> };
    expect(Object.keys(problem.errors).sort()).toEqual(['host', 'port']);
  });

  it('lets an auditor see forwarding but not change it, and refuses others altogether', async () => {
    const employee = await t.apiToken('employee');
    expect((await t.request('/api/v1/siem/destinations', { headers: bearer(employee) })).status).toBe(403);
    const auditor = await t.apiToken('auditor');
    expect((await t.request('/api/v1/siem/destinations', { headers: bearer(auditor) })).status).toBe(200);
    const post = await t.request('/api/v1/siem/destinations', {
      method: 'POST',
      headers: bearer(auditor),
      body: JSON.stringify({ kind: 'syslog', name: 'x', host: 'siem.example.com', port: 514 }),
    });
    expect(post.status).toBe(403);
  });

  it('describes its routes in the OpenAPI document', async () => {
    const doc = (await (await t.request('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/siem/destinations', '/siem/destinations/{id}', '/siem/destinations/{id}/test']),
    );
  });
});
