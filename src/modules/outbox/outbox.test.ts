import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { parseMail } from '../../../test/mail-sink.ts';
import type { OutgoingMail } from '../../platform/mail/outbox.ts';
import { findOutboxRow, insertOutboxMail, type OutboxRow } from '../../platform/mail/store.ts';
import { createTenant } from '../tenants/service.ts';

let t: TestApp;
let owner: SignedIn;
let token: string;
let kept: OutboxRow;
let otherTenantId: string;
let otherMailId: string;

async function enqueue(tenantId: string, mail: OutgoingMail): Promise<string> {
  return t.runtime.db.withTenant(tenantId, (tx) => t.runtime.mail.enqueue(tx, tenantId, mail));
}

async function waitUntilKept(tenantId: string, id: string): Promise<OutboxRow> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const row = await t.runtime.db.withTenant(tenantId, (tx) => findOutboxRow(tx, id));
    if (row?.status === 'kept') return row;
    if (Date.now() > deadline) throw new Error(`mail ${id} not kept in time (status ${row?.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const bearer = (value = token) => ({ authorization: `Bearer ${value}` });

beforeAll(async () => {
  t = await createTestApp({ workJobs: true });
  owner = await t.signInAsOwner();
  token = await t.apiToken('owner');
  const id = await enqueue(t.tenant.id, {
    to: 'auditor@example.test',
    subject: 'Evidence <script>alert(1)</script> ready',
    text: 'Dear auditor,\n\nthe evidence for control AC-2 is ready: <b>not bold</b>.\n',
  });
  kept = await waitUntilKept(t.tenant.id, id);
  const other = await createTenant(t.runtime.db, { slug: 'other', name: 'Other', hosts: ['other.test'] });
  otherTenantId = other.id;
  otherMailId = await enqueue(other.id, { to: 'secret@other.test', subject: 'Other tenant secret', text: 'Not for Acme.' });
  await waitUntilKept(other.id, otherMailId);
});

afterAll(async () => {
  await t.close();
});

describe('outbox without SMTP', () => {
  it('keeps the message as an .eml file under the data directory that parses as the mail', () => {
    const file = path.join(t.dataDir, 'mail', t.tenant.id, `${kept.id}.eml`);
    expect(kept).toMatchObject({
      status: 'kept',
      attempts: 1,
      lastError: null,
      emlPath: path.join(t.tenant.id, `${kept.id}.eml`),
    });
    expect(kept.sentAt).toBeInstanceOf(Date);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    const mail = parseMail(readFileSync(file, 'utf8'));
    expect(mail.subject).toBe('Evidence <script>alert(1)</script> ready');
    expect(mail.to).toBe('auditor@example.test');
    expect(mail.from).toBe(t.runtime.config.mailFrom);
    expect(mail.text).toBe('Dear auditor,\n\nthe evidence for control AC-2 is ready: <b>not bold</b>.\n');
    expect(mail.headers.get('message-id')).toBe(`<${kept.id}@candor>`);
  });

  it('keeps each tenant’s messages in its own folder', () => {
    expect(existsSync(path.join(t.dataDir, 'mail', otherTenantId, `${otherMailId}.eml`))).toBe(true);
    expect(existsSync(path.join(t.dataDir, 'mail', t.tenant.id, `${otherMailId}.eml`))).toBe(false);
  });
});

describe('outbox in the back office', () => {
  it('lists the tenant’s kept message for a signed-in owner, escaped, and not another tenant’s', async () => {
    const res = await t.request('/admin/outbox', { headers: { cookie: owner.cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`href="/admin/outbox/${kept.id}"`);
    expect(html).toContain('Evidence &lt;script&gt;alert(1)&lt;/script&gt; ready');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('auditor@example.test');
    expect(html).toContain('kept');
    expect(html).not.toContain('Other tenant secret');
  });

  it('shows one message with its body and a link to the raw copy', async () => {
    const res = await t.request(`/admin/outbox/${kept.id}`, { headers: { cookie: owner.cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('the evidence for control AC-2 is ready: &lt;b&gt;not bold&lt;/b&gt;.');
    expect(html).toContain(`href="/admin/outbox/${kept.id}/raw"`);
  });

  it('downloads the kept message as message/rfc822, byte for byte', async () => {
    const res = await t.request(`/admin/outbox/${kept.id}/raw`, { headers: { cookie: owner.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('message/rfc822');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${kept.id}.eml"`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(readFileSync(path.join(t.dataDir, 'mail', kept.emlPath ?? '')))).toBe(true);
    expect(parseMail(body.toString('utf8')).subject).toBe(kept.subject);
  });

  it('answers 404 for a message that has no kept copy yet', async () => {
    // A queued message with no delivery job: written straight to the outbox table.
    const id = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
      insertOutboxMail(tx, {
        tenantId: t.tenant.id,
        to: ['later@example.test'],
        subject: 'Not yet delivered',
        text: 'Waiting.',
        html: null,
        headers: {},
      }),
    );
    const page = await t.request(`/admin/outbox/${id}`, { headers: { cookie: owner.cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).not.toContain(`/admin/outbox/${id}/raw`);
    const raw = await t.request(`/admin/outbox/${id}/raw`, { headers: { cookie: owner.cookie } });
    expect(raw.status).toBe(404);
  });

  it('redirects a visitor who is not signed in to the login page', async () => {
    for (const p of ['/admin/outbox', `/admin/outbox/${kept.id}`, `/admin/outbox/${kept.id}/raw`]) {
      const res = await t.request(p);
      expect(res.status, p).toBe(303);
      expect(res.headers.get('location'), p).toBe(`/admin/login?next=${encodeURIComponent(p)}`);
    }
  });

  it('answers 404 for another tenant’s message, its page and its raw copy', async () => {
    for (const p of [`/admin/outbox/${otherMailId}`, `/admin/outbox/${otherMailId}/raw`]) {
      const res = await t.request(p, { headers: { cookie: owner.cookie } });
      expect(res.status, p).toBe(404);
      expect(await res.text(), p).not.toContain('Other tenant secret');
    }
  });

  it('refuses a message id that is not a UUID with a 4xx', async () => {
    const res = await t.request('/admin/outbox/not-a-uuid', { headers: { cookie: owner.cookie } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});

describe('outbox API', () => {
  it('lists the tenant’s messages with their delivery status for a Bearer token', async () => {
    const res = await t.request('/api/v1/outbox', { headers: bearer() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { items: { id: string }[]; page: number; pageSize: number; total: number };
    const item = body.items.find((i) => i.id === kept.id);
    expect(item).toEqual({
      id: kept.id,
      to: ['auditor@example.test'],
      subject: 'Evidence <script>alert(1)</script> ready',
      status: 'kept',
      attempts: 1,
      lastError: null,
      createdAt: kept.createdAt.toISOString(),
      sentAt: kept.sentAt?.toISOString(),
    });
    expect(body.items.map((i) => i.id)).not.toContain(otherMailId);
    expect(body.total).toBe(body.items.length);
    expect(body.page).toBe(1);
  });

  it('returns one message by id', async () => {
    const res = await t.request(`/api/v1/outbox/${kept.id}`, { headers: bearer() });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: kept.id, status: 'kept', subject: kept.subject });
  });

  it('answers 401 problem+json without a token or with a wrong one', async () => {
    for (const headers of [{}, bearer('cnd_not-a-real-token')]) {
      const res = await t.request('/api/v1/outbox', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const problem = (await res.json()) as { type: string; status: number };
      expect(problem).toMatchObject({ type: '/problems/unauthorized', status: 401 });
    }
  });

  it('refuses roles that do not run or audit the workspace', async () => {
    const employee = await t.apiToken('employee');
    for (const path of ['/api/v1/outbox', `/api/v1/outbox/${kept.id}`]) {
      const res = await t.request(path, { headers: { authorization: `Bearer ${employee}` } });
      expect(res.status).toBe(403);
      expect(JSON.stringify(await res.json())).not.toContain(kept.subject);
    }
    const auditor = await t.apiToken('auditor');
    expect((await t.request('/api/v1/outbox', { headers: { authorization: `Bearer ${auditor}` } })).status).toBe(200);
  });

  it('answers 404 problem+json for another tenant’s message id', async () => {
    const res = await t.request(`/api/v1/outbox/${otherMailId}`, { headers: bearer() });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await res.json()) as { type: string; detail?: string };
    expect(problem.type).toBe('/problems/not-found');
    expect(JSON.stringify(problem)).not.toContain('Other tenant secret');
  });

  it('refuses a malformed id with a validation problem', async () => {
    const res = await t.request('/api/v1/outbox/not-a-uuid', { headers: bearer() });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});
