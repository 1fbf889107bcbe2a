import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, TEST_HOST, type TestApp } from '../../../test/app.ts';
import { type MailSink, startMailSink } from '../../../test/mail-sink.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { composePages } from '../documents/compose.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'candor-view-only-'));

let t: TestApp;
let sink: MailSink;
let editorToken: string;
let editor: SignedIn;
let documentId: string;

function api(p: string, init: { method?: string; body?: unknown } = {}) {
  return t.request(`/api/v1${p}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${editorToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

async function upload(id: string, pages: number): Promise<void> {
  const form = new FormData();
  const pdf = await composePages(pages, 'Penetration test');
  form.set('file', new File([pdf as Uint8Array<ArrayBuffer>], 'pentest.pdf', { type: 'application/pdf' }));
  const res = await t.request(`/api/v1/documents/${id}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${editorToken}` },
    body: form,
  });
  expect(res.status).toBe(201);
}

/** Requests the document, verifies, signs the NDA (NDA-level: granted at once) and returns the access page's path. */
async function grantFor(email: string): Promise<string> {
  const body = new URLSearchParams([
    ['name', 'Katherine Johnson'],
    ['email', email],
    ['company', 'Orbit Labs'],
    ['documents', documentId],
  ]);
  const asked = await t.app.request(
    `http://${TEST_HOST}/documents/request`,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() },
    { incoming: { socket: { remoteAddress: '198.51.100.40', encrypted: false } } },
  );
  expect(asked.status).toBe(200);
  const link = (kind: string, text: string) =>
    new RegExp(`http://acme\\.test(/documents/${kind}/[A-Za-z0-9_-]+)`).exec(text)?.[1] ?? '';
  const verification = await sink.waitForMail((m) => m.envelope.to.includes(email));
  const verified = await t.request(link('verify', verification.parsed.text), { method: 'POST' });
  const signed = await t.request(verified.headers.get('location') ?? '', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ typedName: 'Katherine Johnson', ndaVersion: '1', agree: 'on' }).toString(),
  });
  expect(await signed.text()).toContain('Access granted');
  const granted = await sink.waitForMail((m) => m.envelope.to.includes(email) && m.parsed.subject.includes('Your documents'));
  return link('access', granted.parsed.text);
}

async function pdfText(bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, `${crypto.randomUUID()}.pdf`);
  writeFileSync(file, bytes);
  return (await run('pdftotext', [file, '-'])).stdout.replace(/\s+/g, '');
}

beforeAll(async () => {
  sink = await startMailSink();
  t = await createTestApp({ workJobs: true, config: { smtpUrl: sink.url } });
  editorToken = await t.apiToken('content-editor');
  editor = await t.enrolIfRequired(await t.signInAs('content-editor', 'editor@acme.test'));
  const created = await api('/documents', { method: 'POST', body: { title: 'Penetration test summary', accessLevel: 'nda' } });
  expect(created.status).toBe(201);
  const doc = (await created.json()) as { id: string; viewOnly: boolean };
  expect(doc.viewOnly).toBe(false);
  documentId = doc.id;
  await upload(documentId, 3);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('view-only documents', () => {
  it('is set through the API and the back-office form, and recorded as a change', async () => {
    expect((await api(`/documents/${documentId}`, { method: 'PATCH', body: { viewOnly: 'yes' } })).status).toBe(422);
    const changed = await api(`/documents/${documentId}`, { method: 'PATCH', body: { viewOnly: true } });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { viewOnly: boolean }).viewOnly).toBe(true);

    const page = await t.request(`/admin/documents/${documentId}`, { headers: { cookie: editor.cookie } });
    const html = await page.text();
    expect(html).toMatch(/name="viewOnly" value="on" checked/);
    expect(html).toContain('A deterrent, not a protection');
    // The form saves without the box ticked: view only goes off, then on again.
    const off = await t.postForm(`/admin/documents/${documentId}`, editor, {
      title: 'Penetration test summary',
      accessLevel: 'nda',
    });
    expect(off.status).toBe(303);
    expect(((await (await api(`/documents/${documentId}`)).json()) as { viewOnly: boolean }).viewOnly).toBe(false);
    const on = await t.postForm(`/admin/documents/${documentId}`, editor, {
      title: 'Penetration test summary',
      accessLevel: 'nda',
      viewOnly: 'on',
    });
    expect(on.status).toBe(303);
    expect(((await (await api(`/documents/${documentId}`)).json()) as { viewOnly: boolean }).viewOnly).toBe(true);

    const events = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
    const updates = events.filter((e) => e.action === 'document.updated' && e.targetId === documentId);
    expect(updates.map((e) => (e.details as { viewOnly?: { to: boolean } }).viewOnly?.to)).toEqual(
      expect.arrayContaining([true, false]),
    );
  });

  it('offers a viewer instead of a download, serves the stamped pages inline, records each view and refuses downloads', async () => {
    const email = 'katherine@orbit.test';
    const access = await grantFor(email);
    const grantPage = await (await t.request(access)).text();
    expect(grantPage).toContain(`${access}/${documentId}/view`);
    expect(grantPage).not.toContain(`href="${access}/${documentId}"`);

    const viewer = await t.request(`${access}/${documentId}/view`);
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get('cache-control')).toBe('no-store');
    const html = await viewer.text();
    expect(html).toContain('data-pdf-viewer');
    expect(html).toMatch(/<script type="module" src="\/assets\/pdf-viewer\.[0-9a-f]{12}\.js">/);
    expect(html).toContain('The document viewer needs JavaScript');
    expect(html).not.toMatch(/>Download</);
    expect(html).not.toContain(`href="${access}/${documentId}"`);

    const pdf = await t.request(`${access}/${documentId}/view/pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('cache-control')).toBe('no-store');
    expect(pdf.headers.get('content-disposition')).toMatch(/^inline; filename="pentest\.pdf"/);
    const text = await pdfText(new Uint8Array(await pdf.arrayBuffer()));
    expect(text).toContain(email);
    expect(text).toContain('OrbitLabs');

    const refused = await t.request(`${access}/${documentId}`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('viewed in your browser but not downloaded');

    const events = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
    const views = events.filter((e) => e.action === 'document.viewed' && e.targetId === documentId);
    expect(views).toHaveLength(1);
    const grantId = (views[0]?.details as { grant?: string } | undefined)?.grant ?? 'missing';
    expect(text).toContain(grantId);
    expect(events.some((e) => e.action === 'document.downloaded' && e.targetId === documentId)).toBe(false);

    // The pdf.js module and worker come from our own origin, cached for good.
    const module = /data-module="([^"]+)"/.exec(html)?.[1] ?? '';
    const asset = await t.request(module);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');

    // Forged links and other documents get the usual "not valid" page.
    expect((await t.request(`/documents/access/forged/${documentId}/view`)).status).toBe(410);
    expect((await t.request(`/documents/access/forged/${documentId}/view/pdf`)).status).toBe(410);
    expect((await t.request(`${access}/00000000-0000-4000-8000-000000000000/view/pdf`)).status).toBe(410);
  });

  it('lets ordinary documents be downloaded again once view only is off', async () => {
    expect((await api(`/documents/${documentId}`, { method: 'PATCH', body: { viewOnly: false } })).status).toBe(200);
    const access = await grantFor('dorothy@orbit.test');
    const page = await (await t.request(access)).text();
    expect(page).toContain(`href="${access}/${documentId}"`);
    expect((await t.request(`${access}/${documentId}`)).status).toBe(200);
  });
});
