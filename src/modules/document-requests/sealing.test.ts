import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, TEST_HOST, type TestApp } from '../../../test/app.ts';
import { type MailSink, startMailSink } from '../../../test/mail-sink.ts';
import { composePages } from '../documents/compose.ts';
import { reencryptTenant } from '../keys/service.ts';

let t: TestApp;
let sink: MailSink;
let editorToken: string;
let approver: SignedIn;
let documentId: string;

const NAME = 'Grace Brewster Hopper';
const COMPANY = 'Navy Research Labs';
const REASON = 'Quarterly vendor security review';

function api(p: string) {
  return t.request(`/api/v1${p}`, { headers: { authorization: `Bearer ${editorToken}` } });
}

const link = (kind: string, text: string) =>
  new RegExp(`http://acme\\.test(/documents/${kind}/[A-Za-z0-9_-]+)`).exec(text)?.[1] ?? '';

/** Request, verify and (when asked to) sign; returns the page the last step answered with. */
async function request(email: string, options: { sign: boolean }): Promise<string> {
  const before = new Set(sink.messages);
  const body = new URLSearchParams([
    ['name', NAME],
    ['email', email],
    ['company', COMPANY],
    ['reason', REASON],
    ['documents', documentId],
  ]);
  const asked = await t.app.request(
    `http://${TEST_HOST}/documents/request`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'SealedBrowser/2.0' },
      body: body.toString(),
    },
    { incoming: { socket: { remoteAddress: '198.51.100.77', encrypted: false } } },
  );
  expect(asked.status).toBe(200);
  const mail = await sink.waitForMail(
    (m) => !before.has(m) && m.envelope.to.includes(email.toLowerCase()) && m.parsed.subject.includes('Verify'),
  );
  const verified = await t.request(link('verify', mail.parsed.text), { method: 'POST' });
  if (!options.sign) return verified.text();
  const signed = await t.request(verified.headers.get('location') ?? '', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'SealedBrowser/2.0' },
    body: new URLSearchParams({ typedName: NAME, ndaVersion: '1', agree: 'on' }).toString(),
  });
  return signed.text();
}

interface RawRequest {
  id: string;
  name: string;
  email: string;
  email_index: string | null;
  email_domain: string;
  company: string;
  reason: string;
  ip: string;
  user_agent: string;
}

/** The table as stored, read with plain SQL (as a database dump or a stolen backup would). */
async function rawRequests(): Promise<RawRequest[]> {
  return (
    await t.runtime.db.query<RawRequest>(
      'select id, name, email, email_index, email_domain, company, reason, ip, user_agent from document_requests where tenant_id = $1',
      [t.tenant.id],
    )
  ).rows;
}

beforeAll(async () => {
  sink = await startMailSink();
  t = await createTestApp({ workJobs: true, config: { smtpUrl: sink.url } });
  editorToken = await t.apiToken('content-editor');
  approver = await t.enrolIfRequired(await t.signInAs('approver', 'approver@acme.test'));
  const created = await t.request('/api/v1/documents', {
    method: 'POST',
    headers: { authorization: `Bearer ${editorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Penetration test summary', accessLevel: 'nda' }),
  });
  documentId = ((await created.json()) as { id: string }).id;
  const form = new FormData();
  const pdf = await composePages(1, 'Penetration test');
  form.set('file', new File([pdf as Uint8Array<ArrayBuffer>], 'pentest.pdf', { type: 'application/pdf' }));
  const up = await t.request(`/api/v1/documents/${documentId}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${editorToken}` },
    body: form,
  });
  expect(up.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await sink?.close();
});

describe('requester personal data at rest', () => {
  it('stores name, email, company, reason, IP and user agent sealed, with the mail domain in clear', async () => {
    expect(await request('grace@navy.test', { sign: true })).toContain('Access granted');
    const [row] = (await rawRequests()).filter((r) => r.email_domain === 'navy.test');
    expect(row).toBeDefined();
    for (const column of ['name', 'email', 'company', 'reason', 'ip', 'user_agent'] as const)
      expect(row?.[column], column).toMatch(/^c1\.\d+\./);
    const dump = JSON.stringify(row);
    for (const clear of ['grace@navy.test', 'Grace', 'Navy Research', 'vendor security', '198.51.100.77', 'SealedBrowser'])
      expect(dump).not.toContain(clear);
    expect(row?.email_index).toMatch(/^[0-9a-f]{64}$/);

    const signatures = await t.runtime.db.query<Record<string, string>>(
      'select email, typed_name, ip, user_agent, email_index from nda_signatures where tenant_id = $1 and request_id = $2',
      [t.tenant.id, row?.id],
    );
    const [signature] = signatures.rows;
    for (const column of ['email', 'typed_name', 'ip', 'user_agent']) expect(signature?.[column], column).toMatch(/^c1\.\d+\./);
    expect(signature?.email_index).toBe(row?.email_index);
  });

  it('shows the values opened in the back office and the API', async () => {
    const [row] = (await rawRequests()).filter((r) => r.email_domain === 'navy.test');
    const page = await (await t.request(`/admin/documents/requests/${row?.id}`, { headers: { cookie: approver.cookie } })).text();
    expect(page).toContain(NAME);
    expect(page).toContain('grace@navy.test');
    expect(page).toContain(COMPANY);
    const list = await (await t.request('/admin/documents/requests', { headers: { cookie: approver.cookie } })).text();
    expect(list).toContain('grace@navy.test');
    const detail = (await (await api(`/document-requests/${row?.id}`)).json()) as {
      name: string;
      email: string;
      company: string;
      reason: string;
      nda: { typedName: string; ip: string; userAgent: string };
    };
    expect(detail).toMatchObject({ name: NAME, email: 'grace@navy.test', company: COMPANY, reason: REASON });
    expect(detail.nda).toMatchObject({ typedName: NAME, userAgent: 'SealedBrowser/2.0' });
    expect(detail.nda.ip).toMatch(/^[0-9.:a-f]+$/);
  });

  it('still recognizes a returning requester, whatever the case of the address', async () => {
    const page = await request('Grace@NAVY.test', { sign: false });
    expect(page).toContain('Access granted');
    const { items } = (await (await api('/document-requests')).json()) as { items: { email: string; rule: string | null }[] };
    expect(items.filter((r) => r.email === 'grace@navy.test').map((r) => r.rule)).toEqual(['returning', 'nda_signed']);
  });

  it('seals and indexes rows written in clear before sealing existed, through the keys sweep', async () => {
    const id = crypto.randomUUID();
    await t.runtime.db.query(
      `insert into document_requests (tenant_id, id, name, email, email_domain, company, reason, document_ids, state,
         origin, ip, user_agent, created_at, decided_at)
       values ($1, $2, 'Old Timer', 'old@legacy.test', 'legacy.test', 'Legacy Inc', '', array[$3]::uuid[], 'approved',
         'http://acme.test', '203.0.113.9', 'OldBrowser', now(), now())`,
      [t.tenant.id, id, documentId],
    );
    // Readable as it is meanwhile.
    expect(await (await api(`/document-requests/${id}`)).text()).toContain('old@legacy.test');
    await reencryptTenant(t.runtime, t.tenant);
    const [row] = (await rawRequests()).filter((r) => r.id === id);
    expect(row?.email).toMatch(/^c1\./);
    expect(row?.name).toMatch(/^c1\./);
    expect(row?.email_index).toMatch(/^[0-9a-f]{64}$/);
    const detail = (await (await api(`/document-requests/${id}`)).json()) as { name: string; email: string };
    expect(detail).toMatchObject({ name: 'Old Timer', email: 'old@legacy.test' });
  });
});
