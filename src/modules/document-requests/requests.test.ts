import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, TEST_HOST, type TestApp } from '../../../test/app.ts';
import { type CapturedMail, type MailSink, startMailSink } from '../../../test/mail-sink.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { composePdf } from '../documents/compose.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'candor-requests-'));
const XSS = '<script>alert(1)</script>';

let t: TestApp;
let sink: MailSink;
let editorToken: string;
let approverToken: string;
let adminToken: string;
let approver: SignedIn;
const docs: Record<'soc2' | 'pentest' | 'policy' | 'internal', string> = { soc2: '', pentest: '', policy: '', internal: '' };

function api(p: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  return t.request(`/api/v1${p}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? editorToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

async function createDocument(title: string, accessLevel: string, pages: number): Promise<string> {
  const res = await api('/documents', { method: 'POST', body: { title, accessLevel, description: `About ${title}` } });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  const pdf = await composePdf({
    title,
    sections: Array.from({ length: pages }, (_, i) => ({ heading: `Part ${i + 1}`, paragraphs: ['Findings and controls.'] })),
    cover: true,
  });
  const form = new FormData();
  form.set('file', new File([pdf as Uint8Array<ArrayBuffer>], `${title}.pdf`, { type: 'application/pdf' }));
  const up = await t.request(`/api/v1/documents/${id}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${editorToken}` },
    body: form,
  });
  expect(up.status).toBe(201);
  return id;
}

beforeAll(async () => {
  sink = await startMailSink();
  t = await createTestApp({ workJobs: true, config: { smtpUrl: sink.url } });
  editorToken = await t.apiToken('content-editor');
  approverToken = await t.apiToken('approver');
  adminToken = await t.apiToken('security-admin');
  approver = await t.enrolIfRequired(await t.signInAs('approver', 'approver@acme.test'));
  docs.soc2 = await createDocument('SOC 2 Type II report', 'approval', 2);
  docs.pentest = await createDocument('Penetration test summary', 'nda', 1);
  docs.policy = await createDocument('Security policy', 'public', 1);
  docs.internal = await createDocument('Internal audit notes', 'internal', 1);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

let visitors = 0;

function ask(
  fields: { name?: string; email: string; company?: string; reason?: string; documents: string[] },
  remoteAddress = `198.51.100.${++visitors}`,
) {
  const body = new URLSearchParams([
    ['name', fields.name ?? 'Grace Hopper'],
    ['email', fields.email],
    ['company', fields.company ?? 'Navy Labs'],
    ['reason', fields.reason ?? 'Vendor review'],
    ...fields.documents.map((d) => ['documents', d]),
  ]);
  // A request arriving on a socket from its own address: the rate limit counts per address.
  const init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() };
  return t.app.request(`http://${TEST_HOST}/documents/request`, init, {
    incoming: { socket: { remoteAddress, encrypted: false } },
  });
}

const to = (address: string, subject?: string) => (m: CapturedMail) =>
  m.envelope.to.includes(address) && (subject === undefined || m.parsed.subject.includes(subject));
const pathIn = (m: CapturedMail, kind: string) =>
  new RegExp(`http://acme\\.test(/documents/${kind}/[A-Za-z0-9_-]+)`).exec(m.parsed.text)?.[1] ?? '';

/** Request, verify and land on the NDA page: returns the NDA page's path. */
async function askAndVerify(email: string, documents: string[], name = 'Grace Hopper', company = 'Navy Labs'): Promise<Response> {
  const earlier = new Set(sink.messages);
  expect((await ask({ email, documents, name, company })).status).toBe(200);
  const mail = await sink.waitForMail((m) => !earlier.has(m) && to(email, 'Verify your email')(m));
  const verify = pathIn(mail, 'verify');
  expect((await t.request(verify)).status).toBe(200);
  return t.request(verify, { method: 'POST' });
}

function sign(ndaPath: string, typedName: string, agree = true) {
  const body = new URLSearchParams({ typedName, ndaVersion: '1', ...(agree ? { agree: 'on' } : {}) });
  return t.request(ndaPath, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'RequesterBrowser/1.0' },
    body: body.toString(),
  });
}

async function pdfText(bytes: Uint8Array, page?: number): Promise<string> {
  const file = path.join(dir, `${crypto.randomUUID()}.pdf`);
  writeFileSync(file, bytes);
  const range = page === undefined ? [] : ['-f', String(page), '-l', String(page)];
  return (await run('pdftotext', [...range, file, '-'])).stdout;
}

async function pageCount(bytes: Uint8Array): Promise<number> {
  const file = path.join(dir, `${crypto.randomUUID()}.pdf`);
  writeFileSync(file, bytes);
  return Number(/Pages:\s+(\d+)/.exec((await run('pdfinfo', [file])).stdout)?.[1]);
}

async function requestsOf(email: string) {
  const res = await api('/document-requests');
  expect(res.status).toBe(200);
  const { items } = (await res.json()) as { items: { id: string; email: string; state: string; rule: string | null }[] };
  return items.filter((r) => r.email === email);
}

async function actions(): Promise<string[]> {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
  return rows.map((r) => r.action);
}

describe('the public list', () => {
  it('lists public documents with a download and gated ones with a request link; internal ones not at all', async () => {
    const res = await t.request('/documents');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`/documents/${docs.policy}/download`);
    expect(html).toContain(`/documents/request?document=${docs.soc2}`);
    expect(html).not.toContain('Internal audit notes');
    const download = await t.request(`/documents/${docs.policy}/download`);
    expect(download.status).toBe(200);
    expect(download.headers.get('cache-control')).toBe('no-store');
    expect((await t.request(`/documents/${docs.soc2}/download`)).status).toBe(404);
    // The Trust Center's navigation links the list once a document is offered (cached pages are rendered again).
    const update = { date: '2026-11-01', title: 'Annual test', body: 'Passed.', slug: 'annual-test' };
    const draft = await api('/trust-center/sections/updates/draft', { method: 'PUT', body: { fields: {}, items: [update] } });
    expect(draft.status).toBe(200);
    expect((await api('/trust-center/sections/updates/publish', { method: 'POST' })).status).toBe(201);
    expect(await (await t.request('/')).text()).toContain('href="/documents"');
    const es = await t.request('/es/documents');
    expect(await es.text()).toContain('Solicitar acceso');
  });
});

describe('bad input', () => {
  it('refuses an incomplete form or a document that cannot be requested, and mails nothing', async () => {
    const before = sink.messages.length;
    const empty = await ask({ email: 'not-an-address', documents: [] });
    expect(empty.status).toBe(422);
    const page = await empty.text();
    expect(page).toContain('enter a work email address');
    expect(page).toContain('choose at least one document');
    expect((await ask({ email: 'x@navy.test', documents: [docs.internal] })).status).toBe(422);
    expect((await ask({ email: 'x@navy.test', documents: [docs.policy] })).status).toBe(422);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.messages.length).toBe(before);
    expect(await requestsOf('x@navy.test')).toHaveLength(0);
  });

  it('rate-limits the form per address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await ask({ email: 'flood', documents: [] }, '203.0.113.77')).status);
    expect(statuses.slice(0, 10).every((s) => s === 422)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  it('shows a clear page for a forged link and grants nothing to a requester who never verifies', async () => {
    for (const p of ['/documents/verify/forged', '/documents/nda/forged']) {
      const res = await t.request(p, { method: 'POST' });
      expect(res.status).toBe(410);
      expect(await res.text()).toContain('Nothing was granted');
    }
    const grant = await t.request('/documents/access/forged');
    expect(grant.status).toBe(410);
    expect((await ask({ email: 'silent@navy.test', documents: [docs.pentest] })).status).toBe(200);
    await sink.waitForMail(to('silent@navy.test'));
    const [row] = await requestsOf('silent@navy.test');
    expect(row?.state).toBe('unverified');
    expect(((await (await api(`/document-requests/${row?.id}`)).json()) as { grants: unknown[] }).grants).toHaveLength(0);
  });
});

describe('expired links', () => {
  /** Moves a stored expiry into the past, as if the link had waited longer than it lives. */
  async function expire(table: 'document_requests' | 'document_grants', column: string, where: string) {
    await t.runtime.db.withTenant(t.tenant.id, (tx) =>
      tx.execute(sql.raw(`update ${table} set ${column} = now() - interval '1 minute' where ${where}`)),
    );
  }

  it('shows a clear page for an expired verification link and grants nothing', async () => {
    const email = 'late@navy.test';
    expect((await ask({ email, documents: [docs.pentest] })).status).toBe(200);
    const verify = pathIn(await sink.waitForMail(to(email, 'Verify your email')), 'verify');
    const [row] = await requestsOf(email);
    await expire('document_requests', 'token_expires_at', `id = '${row?.id}'`);
    for (const method of ['GET', 'POST']) {
      const res = await t.request(verify, { method });
      expect(res.status).toBe(410);
      expect(await res.text()).toContain('Nothing was granted');
    }
    const [after] = await requestsOf(email);
    expect(after?.state).toBe('unverified');
  });

  it('shows a clear page for an expired access link and serves nothing through it', async () => {
    const email = 'expired@navy.test';
    const verified = await askAndVerify(email, [docs.pentest]);
    expect((await sign(verified.headers.get('location') ?? '', 'Grace Hopper')).status).toBe(200);
    const access = pathIn(await sink.waitForMail(to(email, 'Your documents')), 'access');
    expect((await t.request(access)).status).toBe(200);
    const [request] = await requestsOf(email);
    await expire('document_grants', 'expires_at', `request_id = '${request?.id}'`);
    const page = await t.request(access);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('it has expired, was revoked');
    expect((await t.request(`${access}/${docs.pentest}`)).status).toBe(410);
  });
});

describe('the approval flow', () => {
  it('verifies, takes the NDA, waits for an approver, and serves a stamped copy until revoked', async () => {
    const email = 'grace@navy.test';
    const verified = await askAndVerify(email, [docs.soc2], `Grace ${XSS}`, `Navy ${XSS}`);
    expect(verified.status).toBe(303);
    const ndaPath = verified.headers.get('location') ?? '';
    expect(ndaPath).toMatch(/^\/documents\/nda\//);
    // The verification link is spent.
    const verifyMail = await sink.waitForMail(to(email, 'Verify'));
    expect((await t.request(pathIn(verifyMail, 'verify'), { method: 'POST' })).status).toBe(410);

    const nda = await t.request(ndaPath);
    expect(nda.status).toBe(200);
    expect(await nda.text()).toContain('NON-DISCLOSURE AGREEMENT');
    expect((await sign(ndaPath, 'Grace Hopper', false)).status).toBe(422);
    const signed = await sign(ndaPath, 'Grace Hopper');
    expect(signed.status).toBe(200);
    expect(await signed.text()).toContain('We review your request');
    expect((await sign(ndaPath, 'Grace Hopper')).status).toBe(410);

    const ndaMail = await sink.waitForMail(to(email, 'signed NDA'));
    const [attachment] = ndaMail.parsed.attachments;
    expect(attachment?.contentType).toBe('application/pdf');
    const ndaText = await pdfText(attachment?.content ?? new Uint8Array());
    expect(ndaText).toContain('Grace Hopper');
    expect(ndaText).toContain('RequesterBrowser/1.0');
    await sink.waitForMail(to('approver@acme.test', 'Document request to review'));

    const [request] = await requestsOf(email);
    expect(request?.state).toBe('pending');
    const detail = (await (await api(`/document-requests/${request?.id}`)).json()) as {
      nda: { sha256: string; typedName: string; userAgent: string; ip: string };
    };
    expect(detail.nda.typedName).toBe('Grace Hopper');
    expect(detail.nda.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(ndaText).toContain(detail.nda.sha256);

    // Script in request fields is inert in the back office.
    const page = await t.request(`/admin/documents/requests/${request?.id}`, { headers: { cookie: approver.cookie } });
    const html = await page.text();
    expect(html).not.toContain(XSS);
    expect(html).toContain('&lt;script&gt;');

    // Editors read but do not decide.
    expect((await api(`/document-requests/${request?.id}/approve`, { method: 'POST' })).status).toBe(403);
    const approved = await t.postForm(`/admin/documents/requests/${request?.id}/approve`, approver, {});
    expect(approved.status).toBe(303);
    const grantMail = await sink.waitForMail(to(email, 'Your documents'));
    const access = pathIn(grantMail, 'access');
    const grantPage = await t.request(access);
    expect(grantPage.status).toBe(200);
    expect(grantPage.headers.get('cache-control')).toBe('no-store');
    expect(await grantPage.text()).toContain('SOC 2 Type II report');

    const download = await t.request(`${access}/${docs.soc2}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('cache-control')).toBe('no-store');
    const pdf = new Uint8Array(await download.arrayBuffer());
    const { grants } = (await (await api(`/document-requests/${request?.id}`)).json()) as { grants: { id: string }[] };
    const grantId = grants[0]?.id ?? '';
    const pages = await pageCount(pdf);
    expect(pages).toBeGreaterThan(1);
    for (let p = 1; p <= pages; p++) {
      const text = (await pdfText(pdf, p)).replace(/\s+/g, '');
      expect(text).toContain(email);
      expect(text).toContain(grantId);
    }
    // A document outside the grant is not served.
    expect((await t.request(`${access}/${docs.pentest}`)).status).toBe(410);

    expect((await api(`/document-grants/${grantId}/revoke`, { method: 'POST', token: approverToken })).status).toBe(204);
    expect((await t.request(access)).status).toBe(410);
    expect((await t.request(`${access}/${docs.soc2}`)).status).toBe(410);

    const trail = await actions();
    for (const action of [
      'document_request.submitted',
      'document_request.verified',
      'document_request.nda_signed',
      'document_request.pending',
      'document_request.approved',
      'document_grant.created',
      'document_grant.viewed',
      'document.downloaded',
      'document_grant.revoked',
    ])
      expect(trail).toContain(action);
  });

  it('lets nobody decide their own request, and a denial needs a reason the requester reads', async () => {
    const email = 'approver@acme.test';
    const verified = await askAndVerify(email, [docs.soc2], 'Approver', 'Acme');
    expect((await sign(verified.headers.get('location') ?? '', 'Approver')).status).toBe(200);
    const [own] = await requestsOf(email);
    expect((await t.postForm(`/admin/documents/requests/${own?.id}/approve`, approver, {})).status).toBe(403);

    const other = await askAndVerify('linus@kernel.test', [docs.soc2], 'Linus', 'Kernel');
    expect((await sign(other.headers.get('location') ?? '', 'Linus')).status).toBe(200);
    const [request] = await requestsOf('linus@kernel.test');
    const deny = (body: unknown) => api(`/document-requests/${request?.id}/deny`, { method: 'POST', token: approverToken, body });
    expect((await deny({ reason: '' })).status).toBe(422);
    expect((await deny({ reason: 'Not a customer yet' })).status).toBe(204);
    await sink.waitForMail((m) => to('linus@kernel.test')(m) && m.parsed.text.includes('Reason: Not a customer yet'));
    expect((await deny({ reason: 'again' })).status).toBe(409);
  });
});

describe('decision rules', () => {
  it('refuses a personal mail domain at verification, with a clear page and a mail', async () => {
    const res = await askAndVerify('someone@gmail.com', [docs.pentest]);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('company email addresses');
    await sink.waitForMail(to('someone@gmail.com', 'Your document request'));
    const [row] = await requestsOf('someone@gmail.com');
    expect(row?.state).toBe('refused');
    expect(row?.rule).toBe('blocked_domain');
  });

  it('approves NDA-level documents once the NDA is signed, and allowed domains automatically', async () => {
    expect((await api(`/documents/${docs.pentest}`, { method: 'PATCH', body: { grantDays: 0 } })).status).toBe(422);
    expect((await api(`/documents/${docs.pentest}`, { method: 'PATCH', body: { grantDays: 7 } })).status).toBe(200);
    const nda = await askAndVerify('ada@engines.test', [docs.pentest]);
    expect(await (await sign(nda.headers.get('location') ?? '', 'Ada')).text()).toContain('Access granted');
    await sink.waitForMail(to('ada@engines.test', 'Your documents'));
    const [ada] = await requestsOf('ada@engines.test');
    const { grants } = (await (await api(`/document-requests/${ada?.id}`)).json()) as {
      grants: { expiresAt: string; createdAt: string }[];
    };
    const days = (Date.parse(grants[0]?.expiresAt ?? '') - Date.parse(grants[0]?.createdAt ?? '')) / 86_400_000;
    expect(days).toBe(7);

    const bad = await api('/document-access-rules', {
      method: 'PUT',
      body: { blockedDomains: ['gmail.com'], allowedDomains: ['not a domain'] },
    });
    expect(bad.status).toBe(422);
    const rules = await api('/document-access-rules', {
      method: 'PUT',
      body: { blockedDomains: ['gmail.com', 'yahoo.com'], allowedDomains: ['partner.test'] },
    });
    expect(rules.status).toBe(200);
    const allowed = await askAndVerify('bob@eu.partner.test', [docs.soc2]);
    expect(await (await sign(allowed.headers.get('location') ?? '', 'Bob')).text()).toContain('Access granted');
    const [row] = await requestsOf('bob@eu.partner.test');
    expect(row?.rule).toBe('allowed_domain');
  });

  it('approves known customers (by domain or contact) automatically, and keeps the registry through pages and API', async () => {
    const bad = await api('/customers', {
      method: 'POST',
      token: adminToken,
      body: { name: 'Initech', domains: ['nope'], contacts: [] },
    });
    expect(bad.status).toBe(422);
    expect((await api('/customers', { method: 'POST', body: { name: 'Initech', domains: [], contacts: [] } })).status).toBe(403);
    const created = await api('/customers', {
      method: 'POST',
      token: adminToken,
      body: { name: `Initech ${XSS}`, domains: ['Initech.test'], contacts: ['Peter@Contractor.test'] },
    });
    expect(created.status).toBe(201);
    const customer = (await created.json()) as { id: string; domains: string[]; contacts: string[] };
    expect(customer.domains).toEqual(['initech.test']);
    expect(customer.contacts).toEqual(['peter@contractor.test']);
    for (const email of ['milton@initech.test', 'peter@contractor.test']) {
      const verified = await askAndVerify(email, [docs.soc2]);
      expect(await (await sign(verified.headers.get('location') ?? '', 'Someone')).text()).toContain('Access granted');
      expect((await requestsOf(email))[0]?.rule).toBe('customer');
    }
    const page = await t.request('/admin/customers', { headers: { cookie: approver.cookie } });
    const html = await page.text();
    expect(html).toContain('initech.test');
    expect(html).not.toContain(XSS);
    const admin = await t.signInAs('security-admin', 'secadmin@acme.test');
    const changed = await t.postForm(`/admin/customers/${customer.id}`, await t.enrolIfRequired(admin), {
      name: 'Initech',
      domains: 'initech.test\ninitrode.test',
      contacts: '',
    });
    expect(changed.status).toBe(303);
    expect(
      ((await (await api(`/customers/${customer.id}`, { token: adminToken })).json()) as { domains: string[] }).domains,
    ).toEqual(['initech.test', 'initrode.test']);
    expect((await api(`/customers/${customer.id}`, { method: 'DELETE', token: adminToken })).status).toBe(204);
    expect(await actions()).toEqual(expect.arrayContaining(['customer.created', 'customer.updated', 'customer.removed']));
  });

  it('approves a returning requester again without a new NDA', async () => {
    const res = await askAndVerify('ada@engines.test', [docs.pentest]);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Access granted');
    const [latest] = await requestsOf('ada@engines.test');
    expect(latest?.rule).toBe('returning');
  });
});

describe('back office and API', () => {
  it('edits the NDA as a new version and lists requests and grants', async () => {
    const res = await api('/document-nda', { method: 'PUT', body: { text: 'A new agreement text, long enough to count.' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { version: number }).version).toBe(2);
    expect((await api('/document-nda', { method: 'PUT', body: { text: 'short' } })).status).toBe(422);
    for (const p of ['/admin/documents/requests', '/admin/documents/grants', '/admin/documents/nda', '/admin/documents/access']) {
      const page = await t.request(p, { headers: { cookie: approver.cookie } });
      expect(page.status).toBe(200);
    }
    const grants = (await (await api('/document-grants')).json()) as { items: unknown[] };
    expect(grants.items.length).toBeGreaterThan(0);
    const form = await t.request('/documents/request', { headers: { host: TEST_HOST } });
    expect(await form.text()).toContain('SOC 2 Type II report');
  });
});
