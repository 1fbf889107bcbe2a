import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { PDFDocument } from '@cantoo/pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, TEST_HOST, type TestApp } from '../../../test/app.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { composePages, composePdf } from './compose.ts';
import { MAX_UPLOAD_BYTES } from './files.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'candor-documents-'));

let t: TestApp;
let editor: SignedIn;
let auditor: SignedIn;
let editorToken: string;
let auditorToken: string;

beforeAll(async () => {
  t = await createTestApp();
  editor = await t.signInAs('content-editor', 'editor@acme.test');
  auditor = await t.signInAs('auditor', 'auditor@acme.test');
  editorToken = await t.apiToken('content-editor');
  auditorToken = await t.apiToken('auditor');
});

afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>';

/** A ZIP of stored (uncompressed) entries, enough for the content checks. */
function zip(entries: Record<string, string>): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const nameBytes = Buffer.from(name);
    const data = Buffer.from(text);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end]));
}

const XLSX = zip({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': '<workbook/>' });

function uploadBody(file: Uint8Array, filename: string, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('file', new File([file as Uint8Array<ArrayBuffer>], filename, { type: 'application/octet-stream' }));
  return form;
}

function uploadAsStaff(session: SignedIn, id: string, file: Uint8Array, filename: string, note = '') {
  return t.request(`/admin/documents/${id}/versions`, {
    method: 'POST',
    headers: { cookie: session.cookie, origin: `http://${TEST_HOST}` },
    body: uploadBody(file, filename, { _csrf: session.csrfToken, note }),
  });
}

function uploadByApi(id: string, file: Uint8Array, filename: string, token = editorToken) {
  return t.request(`/api/v1/documents/${id}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: uploadBody(file, filename),
  });
}

function api(p: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  return t.request(`/api/v1${p}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? editorToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

interface DocJson {
  id: string;
  title: string;
  accessLevel: string;
  currentVersion: number | null;
  grantsSeeNewVersion: boolean;
  nonPdfDownloadAllowed: boolean;
  versions: {
    version: number;
    filename: string;
    kind: string;
    current: boolean;
    pages: number | null;
    decrypted: boolean;
    sha256: string;
  }[];
}

async function documentOf(id: string): Promise<DocJson> {
  return (await (await api(`/documents/${id}`)).json()) as DocJson;
}

async function createByApi(title: string, accessLevel = 'nda'): Promise<string> {
  const res = await api('/documents', { method: 'POST', body: { title, accessLevel } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function events(targetId?: string) {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
  return rows.filter((r) => targetId === undefined || r.targetId === targetId);
}

async function blobCount(): Promise<number> {
  const status = await t.runtime.blobs.status();
  return status.tenants.find((x) => x.tenantId === t.tenant.id)?.objects ?? 0;
}

describe('documents in the back office', () => {
  it('creates a document, uploads versions, keeps the history and makes the newest current', async () => {
    const created = await t.postForm('/admin/documents', editor, {
      title: 'SOC 2 Type II report',
      description: 'Our auditor’s report.',
      accessLevel: 'nda',
      grantsSeeNewVersion: 'on',
    });
    expect(created.status).toBe(303);
    const id = /\/admin\/documents\/([0-9a-f-]{36})$/.exec(created.headers.get('location') ?? '')?.[1] ?? '';
    expect(id).not.toBe('');

    const v1 = await composePdf({ title: 'SOC 2 report 2025', sections: [{ heading: 'Opinion', paragraphs: ['Unqualified.'] }] });
    expect((await uploadAsStaff(editor, id, v1, 'soc2-2025.pdf', 'first')).status).toBe(303);
    const v2 = await composePages(3, 'SOC 2 report 2026');
    expect((await uploadAsStaff(editor, id, v2, 'soc2-2026.pdf', 'new period')).status).toBe(303);

    const doc = await documentOf(id);
    expect(doc.currentVersion).toBe(2);
    expect(doc.versions.map((v) => [v.version, v.filename, v.current, v.pages])).toEqual([
      [2, 'soc2-2026.pdf', true, 3],
      [1, 'soc2-2025.pdf', false, 1],
    ]);
    const page = await (await t.request(`/admin/documents/${id}`, { headers: { cookie: editor.cookie } })).text();
    expect(page).toContain('soc2-2025.pdf');
    expect(page).toContain('new period');

    // The files are encrypted at rest: no stored object holds a readable PDF.
    const driver = t.runtime.blobs.driver;
    let stored = 0;
    for await (const object of driver.list(`${t.tenant.id}/`)) {
      const bytes = await driver.read(object.key);
      expect(bytes.subarray(0, 5).toString('latin1')).not.toBe('%PDF-');
      expect(bytes.includes('SOC 2 report 2026')).toBe(false);
      stored++;
    }
    expect(stored).toBeGreaterThanOrEqual(2);

    expect((await events(id)).map((e) => e.action).reverse()).toEqual([
      'document.created',
      'document.version_uploaded',
      'document.version_uploaded',
    ]);
  });

  it('saves settings, including whether open grants see a new version', async () => {
    const id = await createByApi('Settings check');
    const saved = await t.postForm(`/admin/documents/${id}`, editor, {
      title: 'Settings check',
      description: '',
      accessLevel: 'approval',
      nonPdfDownloadAllowed: 'on',
    });
    expect(saved.status).toBe(303);
    const doc = await documentOf(id);
    expect(doc).toMatchObject({ accessLevel: 'approval', grantsSeeNewVersion: false, nonPdfDownloadAllowed: true });
    const [updated] = await events(id);
    expect(updated?.action).toBe('document.updated');
    expect(updated?.details).toMatchObject({
      accessLevel: { from: 'nda', to: 'approval' },
      grantsSeeNewVersion: { from: true, to: false },
    });
  });

  it('refuses a bad form with per-field errors and saves nothing', async () => {
    const before = (await (await api('/documents')).json()) as { items: unknown[] };
    const res = await t.postForm('/admin/documents', editor, { title: ' ', accessLevel: 'secret' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('enter a title');
    expect(html).toContain('choose public, NDA, approval or internal');
    expect(((await (await api('/documents')).json()) as { items: unknown[] }).items).toHaveLength(before.items.length);
  });

  it('shows script in titles, descriptions, notes and file names as text', async () => {
    const created = await t.postForm('/admin/documents', editor, { title: XSS, description: XSS, accessLevel: 'public' });
    const id = /([0-9a-f-]{36})$/.exec(created.headers.get('location') ?? '')?.[1] ?? '';
    expect((await uploadAsStaff(editor, id, await composePages(1), `${XSS}.pdf`, XSS)).status).toBe(303);
    for (const p of ['/admin/documents', `/admin/documents/${id}`]) {
      const html = await (await t.request(p, { headers: { cookie: editor.cookie } })).text();
      expect(html).not.toContain('<script>alert(1)');
      expect(html).not.toContain('<img src=x');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('lets an auditor read and download (recorded, no-store) but not change or upload', async () => {
    const id = await createByApi('Auditor visible');
    const pdf = await composePages(2, 'Auditor copy');
    expect((await uploadByApi(id, pdf, 'auditor.pdf')).status).toBe(201);
    expect((await t.request(`/admin/documents/${id}`, { headers: { cookie: auditor.cookie } })).status).toBe(200);
    const download = await t.request(`/admin/documents/${id}/versions/1/file`, { headers: { cookie: auditor.cookie } });
    expect(download.status).toBe(200);
    expect(download.headers.get('cache-control')).toBe('no-store');
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('content-disposition')).toContain('filename="auditor.pdf"');
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(pdf);
    const [downloaded] = await events(id);
    expect(downloaded).toMatchObject({ action: 'document.downloaded', actorLabel: expect.stringContaining('auditor@acme.test') });

    expect((await t.postForm(`/admin/documents/${id}`, auditor, { title: 'x', accessLevel: 'public' })).status).toBe(403);
    expect((await uploadAsStaff(auditor, id, pdf, 'x.pdf')).status).toBe(403);
    expect((await documentOf(id)).versions).toHaveLength(1);
  });

  it('keeps documents away from people without documents.read', async () => {
    const employee = await t.signInAs('employee');
    expect((await t.request('/admin/documents', { headers: { cookie: employee.cookie } })).status).toBe(403);
    const token = await t.apiToken('employee');
    expect((await api('/documents', { token })).status).toBe(403);
  });
});

describe('upload checks', () => {
  let id: string;
  beforeAll(async () => {
    id = await createByApi('Upload checks');
  });

  async function expectRefused(res: Response, status: number, message: RegExp) {
    expect(res.status).toBe(status);
    const body = (await res.json()) as { detail?: string; errors?: Record<string, string> };
    expect(`${body.detail} ${JSON.stringify(body.errors ?? {})}`).toMatch(message);
  }

  it('refuses mislabelled files with 422 and stores nothing', async () => {
    const blobsBefore = await blobCount();
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    await expectRefused(await uploadByApi(id, png, 'report.pdf'), 422, /named \.pdf but its content is not a PDF/);
    await expectRefused(await uploadByApi(id, await composePages(1), 'report.docx'), 422, /not an Office file/);
    await expectRefused(await uploadByApi(id, XLSX, 'report.docx'), 422, /not a Word document/);
    await expectRefused(await uploadByApi(id, zip({ 'a.txt': 'hi' }), 'sheet.xlsx'), 422, /not an Excel workbook/);
    await expectRefused(await uploadByApi(id, await composePages(1), 'report.exe'), 422, /only PDF/);
    await expectRefused(await uploadByApi(id, new TextEncoder().encode('%PDF-1.4 junk'), 'broken.pdf'), 422, /cannot be read/);
    expect(await blobCount()).toBe(blobsBefore);
    expect((await documentOf(id)).versions).toEqual([]);
    const refused = (await events(id)).filter((e) => e.action === 'document.upload_refused');
    expect(refused).toHaveLength(6);
    expect(refused[0]).toMatchObject({ outcome: 'denied', details: { reason: 'unusable_pdf' } });
  });

  it('accepts Office and ZIP files whose content matches their name, kept for staff by default', async () => {
    const res = await uploadByApi(id, XLSX, 'controls.xlsx');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ version: 1, kind: 'xlsx', current: true, pages: null });
    expect((await uploadByApi(id, zip({ 'evidence/a.txt': 'x' }), 'evidence.zip')).status).toBe(201);
    const doc = await documentOf(id);
    expect(doc.versions.map((v) => v.kind)).toEqual(['zip', 'xlsx']);
    expect(doc.nonPdfDownloadAllowed).toBe(false);
    const page = await (await t.request(`/admin/documents/${id}`, { headers: { cookie: editor.cookie } })).text();
    expect(page).toContain('Kept for staff: requesters cannot download this type.');
  });

  it('refuses a file over 25 MiB with 413 while reading, and stores nothing', async () => {
    const blobsBefore = await blobCount();
    const big = new Uint8Array(MAX_UPLOAD_BYTES + 200 * 1024);
    big.set(new TextEncoder().encode('%PDF-1.7\n'));
    const res = await uploadByApi(id, big, 'huge.pdf');
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { type: string }).type).toBe('/problems/payload-too-large');
    // Just over the file limit but inside the body allowance: refused by the service with the same answer.
    const edge = new Uint8Array(MAX_UPLOAD_BYTES + 1);
    edge.set(new TextEncoder().encode('%PDF-1.7\n'));
    expect((await uploadByApi(id, edge, 'edge.pdf')).status).toBe(413);
    expect((await uploadAsStaff(editor, id, edge, 'edge.pdf')).status).toBe(413);
    expect(await blobCount()).toBe(blobsBefore);
    // Other routes keep the general 1 MiB limit.
    const json = await t.request('/api/v1/documents', {
      method: 'POST',
      headers: { authorization: `Bearer ${editorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024), accessLevel: 'nda' }),
    });
    expect(json.status).toBe(413);
  });

  it('stores an owner-password PDF decrypted and refuses one that needs a password, clearly', async () => {
    const protectedDoc = async (userPassword: string) => {
      const doc = await PDFDocument.load(await composePages(2, 'Locked report'));
      doc.encrypt({ userPassword, ownerPassword: 'owner-only', permissions: { printing: 'highResolution' } });
      return doc.save();
    };
    const res = await uploadByApi(id, await protectedDoc(''), 'locked.pdf');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ kind: 'pdf', decrypted: true, pages: 2 });
    const version = (await documentOf(id)).currentVersion;
    const file = await t.request(`/api/v1/documents/${id}/versions/${version}/file`, {
      headers: { authorization: `Bearer ${auditorToken}` },
    });
    const local = path.join(dir, 'unlocked.pdf');
    writeFileSync(local, new Uint8Array(await file.arrayBuffer()));
    expect((await run('pdfinfo', [local])).stdout).toMatch(/Encrypted:\s+no/);
    expect((await run('pdftotext', [local, '-'])).stdout).toContain('Locked report');

    const page = await uploadAsStaff(editor, id, await protectedDoc('open-sesame'), 'user-locked.pdf');
    expect(page.status).toBe(422);
    expect(await page.text()).toContain('this PDF needs a password to open; upload an unprotected copy');
    expect((await documentOf(id)).currentVersion).toBe(version);
  });
});

describe('documents through the API', () => {
  it('creates, changes, lists, uploads and downloads with the right permissions', async () => {
    const created = await api('/documents', {
      method: 'POST',
      body: {
        title: 'Penetration test summary',
        description: 'October 2026',
        accessLevel: 'approval',
        grantsSeeNewVersion: false,
      },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const changed = await api(`/documents/${id}`, { method: 'PATCH', body: { accessLevel: 'nda' } });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({
      title: 'Penetration test summary',
      accessLevel: 'nda',
      grantsSeeNewVersion: false,
    });
    const bad = await api(`/documents/${id}`, { method: 'PATCH', body: { accessLevel: 'everyone' } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: Record<string, string> }).errors).toHaveProperty('accessLevel');

    const list = (await (await api('/documents', { token: auditorToken })).json()) as { items: { id: string }[] };
    expect(list.items.map((d) => d.id)).toContain(id);
    expect(
      (await api('/documents', { method: 'POST', token: auditorToken, body: { title: 'x', accessLevel: 'nda' } })).status,
    ).toBe(403);
    expect((await uploadByApi(id, await composePages(1), 'a.pdf', auditorToken)).status).toBe(403);

    const pdf = await composePages(2, 'Pentest');
    const uploaded = await uploadByApi(id, pdf, 'pentest.pdf');
    expect(uploaded.status).toBe(201);
    const download = await api(`/documents/${id}/versions/1/file`, { token: auditorToken });
    expect(download.status).toBe(200);
    expect(download.headers.get('cache-control')).toBe('no-store');
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(pdf);
    expect((await api(`/documents/${id}/versions/9/file`, { token: auditorToken })).status).toBe(404);
    expect((await api('/documents/not-a-uuid')).status).toBe(422);
    expect((await api('/documents/00000000-0000-4000-8000-000000000000')).status).toBe(404);

    const openapi = (await (await t.request('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/documents',
        '/documents/{id}',
        '/documents/{id}/versions',
        '/documents/{id}/versions/{version}/file',
      ]),
    );
  });
});

describe('the demo tenant', () => {
  it('has a SOC 2 report (NDA), a penetration test summary (approval) and a public whitepaper, each a multi-page PDF', async () => {
    const { createDemo } = await import('../demo/service.ts');
    const { tenant } = await createDemo(t.runtime, { kind: 'system', name: 'cli' });
    const ctx = {
      ...t.contextOf({ kind: 'system', name: 'cli' }),
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
    };
    const { getDocument, listDocuments, downloadVersion } = await import('./service.ts');
    const docs = await listDocuments(ctx);
    expect(docs.map((d) => [d.title, d.accessLevel])).toEqual([
      ['Penetration test summary', 'approval'],
      ['Security whitepaper', 'public'],
      ['SOC 2 Type II report 2026', 'nda'],
    ]);
    for (const d of docs) {
      const view = await getDocument(ctx, d.id);
      expect(view.versions).toHaveLength(1);
      expect(view.versions[0]).toMatchObject({ kind: 'pdf', current: true });
      expect(view.versions[0]?.pages ?? 0).toBeGreaterThanOrEqual(2);
      const file = await downloadVersion(ctx, d.id, 1);
      const local = path.join(dir, `demo-${d.id}.pdf`);
      writeFileSync(local, file.content);
      expect((await run('pdftotext', [local, '-'])).stdout).toContain('Halcyon Ledger');
    }
  });
});
