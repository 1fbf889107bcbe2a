import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, TEST_HOST, type TestApp } from '../../../test/app.ts';
import { type CapturedMail, type MailSink, startMailSink } from '../../../test/mail-sink.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { composePdf } from '../documents/compose.ts';

let t: TestApp;
let sink: MailSink;
let editorToken: string;
let approverToken: string;
let approver: SignedIn;
let editor: SignedIn;
let soc2 = '';
let original: Uint8Array;

// Typed by a visitor: a spreadsheet formula with a comma and quotes, to be escaped and neutralised in the CSV.
const FORMULA_COMPANY = `=HYPERLINK("http://evil.test","Click"), Inc`;

function api(p: string, init: { method?: string; body?: BodyInit; token?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? approverToken}` };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return t.request(`/api/v1${p}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : init.body ? { body: init.body } : {}),
  });
}

/** A request from a socket of its own: the address and browser the trace must show. */
function fromClient(p: string, remoteAddress: string, init: RequestInit = {}) {
  return t.app.request(
    `http://${TEST_HOST}${p}`,
    { ...init, headers: { 'user-agent': 'LeakyBrowser/2.0', ...init.headers } },
    {
      incoming: { socket: { remoteAddress, encrypted: false } },
    },
  );
}

async function createDocument(title: string, accessLevel: string): Promise<string> {
  const res = await api('/documents', { method: 'POST', token: editorToken, json: { title, accessLevel } });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  original = await composePdf({ title, sections: [{ heading: 'Scope', paragraphs: ['Controls.'] }], cover: true });
  const form = new FormData();
  form.set('file', new File([original as Uint8Array<ArrayBuffer>], `${title}.pdf`, { type: 'application/pdf' }));
  expect((await api(`/documents/${id}/versions`, { method: 'POST', token: editorToken, body: form })).status).toBe(201);
  return id;
}

const to = (address: string, subject: string) => (m: CapturedMail) =>
  m.envelope.to.includes(address) && m.parsed.subject.includes(subject);
const pathIn = (m: CapturedMail, kind: string) =>
  new RegExp(`http://acme\\.test(/documents/${kind}/[A-Za-z0-9_-]+)`).exec(m.parsed.text)?.[1] ?? '';

/** Request → verify → NDA → pending, from one client address; returns the request id. */
async function pendingRequest(email: string, company: string, ip: string): Promise<string> {
  const body = new URLSearchParams([
    ['name', 'Mallory Leaker'],
    ['email', email],
    ['company', company],
    ['reason', 'Vendor review'],
    ['documents', soc2],
  ]);
  const asked = await fromClient('/documents/request', ip, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  expect(asked.status).toBe(200);
  const verify = pathIn(await sink.waitForMail(to(email, 'Verify your email')), 'verify');
  const verified = await t.request(verify, { method: 'POST' });
  expect(verified.status).toBe(303);
  const sign = new URLSearchParams({ typedName: 'Mallory Leaker', ndaVersion: '1', agree: 'on' });
  const signed = await fromClient(verified.headers.get('location') ?? '', ip, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: sign.toString(),
  });
  expect(signed.status).toBe(200);
  const list = (await (await api('/document-requests')).json()) as { items: { id: string; email: string; state: string }[] };
  const row = list.items.find((r) => r.email === email);
  expect(row?.state).toBe('pending');
  return row?.id ?? '';
}

async function actions(): Promise<string[]> {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
  return rows.map((r) => r.action);
}

interface Counts {
  requested: number;
  approved: number;
  denied: number;
  viewed: number;
  downloaded: number;
}
interface AnalyticsBody {
  totals: Counts;
  documents: { id: string; counts: Counts }[];
  domains: { domain: string; companies: string[]; counts: Counts }[];
  weeks: { week: string; counts: Counts }[];
}
interface TraceBody {
  grant: { id: string; revokedAt: string | null };
  requester: { name: string; email: string; company: string };
  request: { decidedBy: string; rule: string };
  nda: { version: number; sha256: string; ip: string };
  documents: { id: string; version: number }[];
  accesses: { kind: string; ip: string; userAgent: string; documents: { id: string; version: number }[] }[];
}

let grantId = '';
let stamped: Uint8Array;

beforeAll(async () => {
  sink = await startMailSink();
  t = await createTestApp({ workJobs: true, config: { smtpUrl: sink.url } });
  editorToken = await t.apiToken('content-editor');
  approverToken = await t.apiToken('approver');
  approver = await t.enrolIfRequired(await t.signInAs('approver', 'approver@acme.test'));
  editor = await t.signInAs('content-editor', 'editor@acme.test');
  soc2 = await createDocument('SOC 2 Type II report', 'approval');

  // The flow the counts and the trace are about: request → approve → one view → two downloads.
  const id = await pendingRequest('mallory@leaks.test', 'Leaks Ltd', '203.0.113.50');
  const approved = await api(`/document-requests/${id}/approve`, { method: 'POST' });
  expect(approved.status).toBe(201);
  grantId = ((await approved.json()) as { id: string }).id;
  const access = pathIn(await sink.waitForMail(to('mallory@leaks.test', 'Your documents')), 'access');
  expect((await fromClient(access, '203.0.113.51')).status).toBe(200);
  for (const ip of ['203.0.113.52', '203.0.113.53']) {
    const download = await fromClient(`${access}/${soc2}`, ip);
    expect(download.status).toBe(200);
    stamped = new Uint8Array(await download.arrayBuffer());
  }
}, 90_000);

afterAll(async () => {
  await t?.close();
  await sink?.close();
});

describe('tracing a leaked copy', () => {
  it('shows who received a grant id and everything done with it, through the API', async () => {
    const res = await api(`/document-grants/${grantId}/trace`);
    expect(res.status).toBe(200);
    const trace = (await res.json()) as TraceBody;
    expect(trace.requester).toEqual({ name: 'Mallory Leaker', email: 'mallory@leaks.test', company: 'Leaks Ltd' });
    expect(trace.request.rule).toBe('approver');
    expect(trace.request.decidedBy).toBeTruthy();
    expect(trace.nda.version).toBe(1);
    expect(trace.nda.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(trace.nda.ip).toBe('203.0.113.50');
    expect(trace.documents).toEqual([expect.objectContaining({ id: soc2, version: 1 })]);
    expect(trace.accesses.map((a) => [a.kind, a.ip, a.userAgent])).toEqual([
      ['viewed', '203.0.113.51', 'LeakyBrowser/2.0'],
      ['downloaded', '203.0.113.52', 'LeakyBrowser/2.0'],
      ['downloaded', '203.0.113.53', 'LeakyBrowser/2.0'],
    ]);
    expect(trace.accesses[1]?.documents).toEqual([expect.objectContaining({ id: soc2, version: 1 })]);
    expect(await actions()).toContain('document_grant.traced');
  });

  it('shows the same on the back-office page, from the id and from the uploaded PDF', async () => {
    const byId = await t.request(`/admin/documents/trace?grant=${grantId}`, { headers: { cookie: approver.cookie } });
    expect(byId.status).toBe(200);
    const html = await byId.text();
    for (const text of [
      'mallory@leaks.test',
      'Leaks Ltd',
      '203.0.113.51',
      '203.0.113.53',
      'LeakyBrowser/2.0',
      'SOC 2 Type II report',
    ])
      expect(html).toContain(text);

    const form = new FormData();
    form.set('_csrf', approver.csrfToken);
    form.set('file', new File([stamped as Uint8Array<ArrayBuffer>], 'leaked.pdf', { type: 'application/pdf' }));
    const before = (await actions()).filter((a) => a === 'document_grant.traced').length;
    const upload = await t.request('/admin/documents/trace', {
      method: 'POST',
      headers: { cookie: approver.cookie, origin: `http://${TEST_HOST}` },
      body: form,
    });
    expect(upload.status).toBe(200);
    const uploaded = await upload.text();
    expect(uploaded).toContain(grantId);
    expect(uploaded).toContain('mallory@leaks.test');
    expect(uploaded).toContain('203.0.113.52');
    expect((await actions()).filter((a) => a === 'document_grant.traced').length).toBe(before + 1);

    const viaApi = new FormData();
    viaApi.set('file', new File([stamped as Uint8Array<ArrayBuffer>], 'leaked.pdf', { type: 'application/pdf' }));
    const res = await api('/document-traces', { method: 'POST', body: viaApi });
    expect(res.status).toBe(200);
    expect(((await res.json()) as TraceBody).grant.id).toBe(grantId);
  });

  it('gives a clear message, and nothing else, for an unknown or malformed id or a file without one', async () => {
    const traced = async () => (await actions()).filter((a) => a === 'document_grant.traced').length;
    const before = await traced();
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await api(`/document-grants/${unknown}/trace`)).status).toBe(404);
    expect((await api('/document-grants/not-a-grant/trace')).status).toBe(422);
    const page = await t.request(`/admin/documents/trace?grant=${unknown}`, { headers: { cookie: approver.cookie } });
    expect(page.status).toBe(404);
    const html = await page.text();
    expect(html).toContain(`No grant of this workspace has the id ${unknown}`);
    expect(html).not.toContain('mallory@leaks.test');
    const malformed = await t.request('/admin/documents/trace?grant=%3Cscript%3E', { headers: { cookie: approver.cookie } });
    expect(malformed.status).toBe(422);
    const text = await malformed.text();
    expect(text).toContain('enter a grant id as printed on the copy');
    expect(text).not.toContain('<script>');
    for (const [name, bytes] of [
      ['original.pdf', original],
      ['notes.pdf', new TextEncoder().encode('not a pdf at all')],
    ] as const) {
      const form = new FormData();
      form.set('file', new File([bytes as Uint8Array<ArrayBuffer>], name, { type: 'application/pdf' }));
      const res = await api('/document-traces', { method: 'POST', body: form });
      expect(res.status).toBe(422);
      const problem = (await res.json()) as { errors: { file: string } };
      expect(problem.errors.file).toMatch(name === 'original.pdf' ? /carries no grant id/ : /could not be read as a PDF/);
    }
    // Nothing was read, so nothing is recorded as a lookup.
    expect(await traced()).toBe(before);
  });

  it('refuses a role that may not read documents, on the page and the API, and offers tracing to readers', async () => {
    const employeeToken = await t.apiToken('employee');
    const employee = await t.signInAs('employee', 'trace-employee@acme.test');
    expect((await api(`/document-grants/${grantId}/trace`, { token: employeeToken })).status).toBe(403);
    expect((await t.request(`/admin/documents/trace?grant=${grantId}`, { headers: { cookie: employee.cookie } })).status).toBe(
      403,
    );
    // Whoever reads the grants may trace them (the request list already shows the same people).
    expect((await api(`/document-grants/${grantId}/trace`, { token: editorToken })).status).toBe(200);
    const grants = await t.request('/admin/documents/grants', { headers: { cookie: editor.cookie } });
    const listing = await grants.text();
    expect(listing).toContain(`/admin/documents/trace?grant=${grantId}`);
    // Each grant names its requester, opened from the sealed columns.
    expect(listing).toContain('Mallory Leaker, Leaks Ltd');
    expect(listing).toContain('mallory@leaks.test');
    const requests = await t.request('/admin/documents/requests', { headers: { cookie: approver.cookie } });
    expect(await requests.text()).toContain('href="/admin/documents/trace"');
  });
});

describe('analytics', () => {
  it('counts the request, the approval, the view and both downloads, per document, domain and week', async () => {
    const res = await api('/document-analytics');
    expect(res.status).toBe(200);
    const body = (await res.json()) as AnalyticsBody;
    const counts = { requested: 1, approved: 1, denied: 0, viewed: 1, downloaded: 2 };
    expect(body.documents.find((d) => d.id === soc2)?.counts).toEqual(counts);
    expect(body.domains.find((d) => d.domain === 'leaks.test')).toEqual({
      domain: 'leaks.test',
      companies: ['Leaks Ltd'],
      counts,
    });
    const weekly = body.weeks.reduce((sum, w) => sum + w.counts.downloaded, 0);
    expect(weekly).toBe(2);
    expect(body.weeks.every((w) => new Date(`${w.week}T00:00:00Z`).getUTCDay() === 1)).toBe(true);
    // A period before anything happened counts nothing.
    const empty = (await (await api('/document-analytics?from=2020-01-01&to=2020-02-01')).json()) as AnalyticsBody;
    expect(empty.totals).toEqual({ requested: 0, approved: 0, denied: 0, viewed: 0, downloaded: 0 });
    // 2020-01-01 is a Wednesday: its week starts on Monday 2019-12-30; 2020-02-01 falls in the week of 01-27.
    expect(empty.weeks.map((w) => w.week)).toEqual(['2019-12-30', '2020-01-06', '2020-01-13', '2020-01-20', '2020-01-27']);
  });

  it('refuses a malformed or reversed period, and a role without documents.read', async () => {
    expect((await api('/document-analytics?from=2026-13-01')).status).toBe(422);
    expect((await api('/document-analytics?from=2026-02-01&to=2026-01-01')).status).toBe(422);
    expect((await api('/document-analytics?from=2020-01-01&to=2026-01-01')).status).toBe(422);
    const employee = await t.apiToken('employee');
    expect((await api('/document-analytics', { token: employee })).status).toBe(403);
    const person = await t.signInAs('employee', 'employee@acme.test');
    expect((await t.request('/admin/documents/analytics', { headers: { cookie: person.cookie } })).status).toBe(403);
  });

  it('exports CSV with proper escaping and formula-neutralised cells, from the page and the API, and records it', async () => {
    // A denied request from a company whose name is a spreadsheet formula.
    const id = await pendingRequest('eve@formula.test', FORMULA_COMPANY, '203.0.113.60');
    expect((await api(`/document-requests/${id}/deny`, { method: 'POST', json: { reason: 'No' } })).status).toBe(204);
    const res = await api('/document-analytics?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="document-analytics-.*\.csv"/);
    const csv = await res.text();
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('table,key,name,requests,approvals,denials,views,downloads');
    expect(lines).toContain(`document,${soc2},SOC 2 Type II report,2,1,1,1,2`);
    expect(lines).toContain('domain,leaks.test,Leaks Ltd,1,1,0,1,2');
    expect(lines).toContain(`domain,formula.test,"'=HYPERLINK(""http://evil.test"",""Click""), Inc",1,0,1,0,0`);
    expect(csv.endsWith('\r\n')).toBe(true);

    const page = await t.request('/admin/documents/analytics/export.csv', { headers: { cookie: approver.cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(csv);
    expect((await actions()).filter((a) => a === 'document_analytics.exported').length).toBe(2);
  });

  it('renders the page with an accessible server-side SVG chart, its data table, and no inline style or script', async () => {
    for (const days of ['30', '365', 'nonsense']) {
      const res = await t.request(`/admin/documents/analytics?days=${days}`, { headers: { cookie: editor.cookie } });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<svg class="chart__svg"');
      // The navigation marks this page alone, not "Documents" above it as well.
      expect([...html.matchAll(/<a href="([^"]+)" aria-current="page">/g)].map((m) => m[1])).toEqual([
        '/admin/documents/analytics',
      ]);
      expect(html).toContain('role="img"');
      expect(html).toMatch(/<title id="chart-title">Gated documents per week<\/title>/);
      expect(html).toContain('<desc id="chart-desc">');
      expect(html).toContain('Counts per week (Monday, UTC)');
      expect(html).toContain('SOC 2 Type II report');
      expect(html).toContain('=HYPERLINK(&quot;');
      expect(html).not.toMatch(/\sstyle=/);
      expect(html).not.toContain('="undefined"');
      expect(html).not.toContain('NaN');
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/);
      expect(html).toContain('/admin/documents/analytics/export.csv?from=');
    }
  });
});
