import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, TEST_HOST, type TestApp } from '../../../test/app.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { certificatePdf } from './certificate-pdf.ts';
import { MAX_CERTIFICATE_BYTES } from './files.ts';

let t: TestApp;
let editor: SignedIn;
let token: string;

beforeAll(async () => {
  t = await createTestApp();
  editor = await t.signInAs('content-editor', 'editor@acme.test');
  token = await t.apiToken('content-editor');
});

afterAll(async () => {
  await t?.close();
});

const PDF = certificatePdf(['Certificate', 'ISO/IEC 27001:2022']);
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
const SCRIPT_NAME = '"><img src=x onerror=alert(1)>\r\nX-Evil: 1;.pdf';

const CERT = {
  'items.0.standard': 'ISO/IEC 27001',
  'items.0.version': '2022',
  'items.0.issuer': 'Example Cert Ltd',
  'items.0.validFrom': '2026-01-01',
  'items.0.validUntil': '2029-01-01',
};

function file(bytes: Uint8Array, name: string, type: string): File {
  return new File([new Uint8Array(bytes)], name, { type });
}

/** The certifications form as a browser sends it with a file chosen: multipart, with the CSRF token. */
function postCertifications(fields: Record<string, string>, files: Record<string, File> = {}) {
  const body = new FormData();
  body.set('_csrf', editor.csrfToken);
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  for (const [k, v] of Object.entries(files)) body.set(k, v);
  return t.request('/admin/trust-center/certifications', {
    method: 'POST',
    headers: { cookie: editor.cookie, origin: `http://${TEST_HOST}` },
    body,
  });
}

function uploadByApi(index: number, upload: File | Blob) {
  const body = new FormData();
  body.set('file', upload);
  return t.request(`/api/v1/trust-center/certifications/${index}/certificate`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}` },
    body,
  });
}

async function draftItems(): Promise<Record<string, string>[]> {
  const res = await t.request('/api/v1/trust-center/sections/certifications/draft', {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await res.json()) as { document: { items: Record<string, string>[] } }).document.items;
}

async function certificateBlobs(): Promise<number> {
  const status = await t.runtime.blobs.status();
  return status.tenants.find((s) => s.tenantId === t.tenant.id)?.objects ?? 0;
}

async function audited(action: string): Promise<number> {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
  return rows.filter((r) => r.action === action).length;
}

describe('certificate files', () => {
  it('refuses mislabelled, non-certificate and oversized files and stores nothing', async () => {
    const html = new TextEncoder().encode('<html><script>alert(1)</script></html>');
    const cases: [File, number, string][] = [
      [file(html, 'certificate.pdf', 'application/pdf'), 422, 'not a PDF, PNG, JPEG file'],
      [file(PNG, 'certificate.pdf', 'application/octet-stream'), 422, 'named .pdf but its content is PNG'],
      [file(PDF, 'certificate', 'image/png'), 422, 'sent as PNG but its content is PDF'],
      [file(new Uint8Array(MAX_CERTIFICATE_BYTES + 1).fill(0x25), 'big.pdf', 'application/pdf'), 413, 'larger than 10 MiB'],
    ];
    for (const [upload, status, message] of cases) {
      const res = await postCertifications(CERT, { 'items.0.certificateFile': upload });
      expect(res.status).toBe(status);
      expect(await res.text()).toContain(message);
      const api = await uploadByApi(0, upload);
      expect(api.status).toBe(404); // no draft item yet to attach to
    }
    // A body over the upload limit is cut off while it is read.
    const huge = await postCertifications(CERT, {
      'items.0.certificateFile': file(new Uint8Array(MAX_CERTIFICATE_BYTES + 2 * 1024 * 1024), 'huge.pdf', 'application/pdf'),
    });
    expect(huge.status).toBe(413);
    expect(await draftItems()).toEqual([]);
    expect(await certificateBlobs()).toBe(0);
    expect(await audited('trust_center.certificate_uploaded')).toBe(0);
  });

  it('stores an upload with the draft, shows its name inert, and serves it publicly only once published', async () => {
    const res = await postCertifications(CERT, { 'items.0.certificateFile': file(PDF, SCRIPT_NAME, 'application/pdf') });
    expect(res.status).toBe(303);
    const [item] = await draftItems();
    const id = item?.certificate ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await certificateBlobs()).toBe(1);
    expect(await audited('trust_center.certificate_uploaded')).toBe(1);

    const edit = await (await t.request('/admin/trust-center/certifications', { headers: { cookie: editor.cookie } })).text();
    expect(edit).toContain('enctype="multipart/form-data"');
    expect(edit).not.toContain('<img src=x');
    expect(edit).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;X-Evil: 1;.pdf');

    // Editors can fetch the draft's file; the public cannot until it is published.
    const own = await t.request(`/admin/trust-center/files/${id}`, { headers: { cookie: editor.cookie } });
    expect(own.status).toBe(200);
    expect((await t.request(`/certifications/files/${id}`)).status).toBe(404);

    expect((await t.postForm('/admin/trust-center/certifications/publish', await t.signInAs('owner'), {})).status).toBe(303);
    const page = await (await t.request('/certifications')).text();
    expect(page).toContain(`href="/certifications/files/${id}"`);
    expect(page).toContain('Download certificate');

    const download = await t.request(`/certifications/files/${id}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    const disposition = download.headers.get('content-disposition') ?? '';
    expect(disposition).toMatch(/^attachment; filename="[A-Za-z0-9._-]+\.pdf"$/);
    expect(disposition).not.toMatch(/[<>\r\n]/);
    expect(download.headers.get('x-evil')).toBeNull();
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(PDF);

    // An unknown id, or another id, is not found.
    expect((await t.request('/certifications/files/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await t.request('/certifications/files/..%2f..%2fetc')).status).toBe(404);
  });

  it('attaches a file through the API to the draft only; removing it unpublishes it with the next version', async () => {
    const before = (await draftItems())[0]?.certificate;
    const res = await uploadByApi(0, file(PNG, 'scan.png', 'image/png'));
    expect(res.status).toBe(200);
    const replaced = (await res.json()) as { document: { items: Record<string, string>[] }; unpublishedChanges: boolean };
    const id = replaced.document.items[0]?.certificate ?? '';
    expect(id).not.toBe(before);
    expect(replaced.unpublishedChanges).toBe(true);
    const bad = await uploadByApi(0, file(new TextEncoder().encode('%!PS-Adobe'), 'scan.jpg', 'image/jpeg'));
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const tooBig = await uploadByApi(0, file(new Uint8Array(MAX_CERTIFICATE_BYTES + 1).fill(0xff), 'big.jpg', 'image/jpeg'));
    expect(tooBig.status).toBe(413);
    expect((await draftItems())[0]?.certificate).toBe(id);
    // The draft's new file is not public; the published one still is.
    expect((await t.request(`/certifications/files/${id}`)).status).toBe(404);
    expect((await t.request(`/certifications/files/${before}`)).status).toBe(200);

    // A draft cannot reference a blob that is not a certificate file of this tenant.
    const forged = await t.request('/api/v1/trust-center/sections/certifications/draft', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ ...itemOf(CERT), certificate: '00000000-0000-4000-8000-000000000000' }] }),
    });
    expect(forged.status).toBe(422);
    expect(((await forged.json()) as { errors: Record<string, string> }).errors['items.0.certificate']).toContain('no such');

    // Removing the file in the form and publishing takes the old file off the public site.
    await postCertifications({ ...CERT, 'items.0.certificate': id, 'items.0.certificateRemove': '1' });
    expect((await draftItems())[0]?.certificate).toBe('');
    await t.postForm('/admin/trust-center/certifications/publish', await t.signInAs('owner', 'owner-2@acme.test'), {});
    expect((await t.request(`/certifications/files/${before}`)).status).toBe(404);
    expect(await (await t.request('/certifications')).text()).not.toContain('Download certificate');
  });

  it('refuses uploads from people who cannot edit', async () => {
    const auditor = await t.apiToken('auditor');
    const body = new FormData();
    body.set('file', file(PDF, 'c.pdf', 'application/pdf'));
    const res = await t.request('/api/v1/trust-center/certifications/0/certificate', {
      method: 'PUT',
      headers: { authorization: `Bearer ${auditor}` },
      body,
    });
    expect(res.status).toBe(403);
  });
});

function itemOf(form: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(form).map(([k, v]) => [k.replace('items.0.', ''), v]));
}
