import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { renderMarkdown } from './markdown.ts';
import { certificationStatus } from './service.ts';

let t: TestApp;
let editor: SignedIn;
let approver: SignedIn;
let editorToken: string;

beforeAll(async () => {
  t = await createTestApp();
  editor = await t.signInAs('content-editor', 'editor@acme.test');
  approver = await t.signInAs('approver', 'approver@acme.test');
  editorToken = await t.apiToken('content-editor');
});

afterAll(async () => {
  await t?.close();
});

const XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>';

async function actions(): Promise<{ action: string; outcome: string; targetId: string | null }[]> {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
  return rows.map((r) => ({ action: r.action, outcome: r.outcome, targetId: r.targetId }));
}

function api(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  return t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? editorToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

describe('Markdown', () => {
  it('renders editor Markdown with links limited to http(s) and mailto, raw HTML as text', () => {
    const html = renderMarkdown(`**bold** [ok](https://example.test) [bad](javascript:alert(1)) [m](mailto:a@b.test)\n\n${XSS}`);
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('href="https://example.test"');
    expect(html).toContain('href="mailto:a@b.test"');
    expect(html).not.toMatch(/href="?javascript/i);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;script&gt;');
  });
});

describe('certification status', () => {
  it('derives current, expiring within 60 days, expired and not yet valid from the dates', () => {
    expect(certificationStatus('2026-01-01', '2027-06-01', '2026-11-21')).toBe('current');
    expect(certificationStatus('2026-01-01', '2027-01-20', '2026-11-21')).toBe('expiring');
    expect(certificationStatus('2025-01-01', '2026-11-20', '2026-11-21')).toBe('expired');
    expect(certificationStatus('2026-12-01', '2029-12-01', '2026-11-21')).toBe('upcoming');
  });
});

describe('drafts and publishing through the back office', () => {
  it('keeps a saved draft off the public site, feeds and sitemap until it is published', async () => {
    const saved = await t.postForm('/admin/trust-center/faq', editor, {
      'fields.intro': 'Answers to what customers ask most.',
      'items.0.category': 'Encryption',
      'items.0.question': 'Is my data encrypted at rest?',
      'items.0.answer': 'Yes, with **AES-256**.',
      'items.1.question': '',
      'items.1.answer': '',
    });
    expect(saved.status).toBe(303);
    expect((await t.request('/faq')).status).toBe(404);
    expect(await (await t.request('/sitemap.xml')).text()).not.toContain('/faq');
    expect(await (await t.request('/')).text()).not.toContain('Is my data encrypted');

    const preview = await t.request('/admin/trust-center/faq/preview', { headers: { cookie: editor.cookie } });
    expect(preview.status).toBe(200);
    expect(await preview.text()).toContain('Is my data encrypted at rest?');

    expect((await t.postForm('/admin/trust-center/faq/publish', editor, {})).status).toBe(303);
    const page = await t.request('/faq');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<details class="faq" id="is-my-data-encrypted-at-rest">');
    expect(html).toContain('<strong>AES-256</strong>');
    expect(html).toContain('<link rel="canonical" href="http://acme.test/faq"/>');
    expect(html).toContain('og:title');
    expect(await (await t.request('/sitemap.xml')).text()).toContain('<loc>http://acme.test/faq</loc>');

    // A later draft does not reach the public page until it too is published.
    await t.postForm('/admin/trust-center/faq', editor, {
      'items.0.category': 'Encryption',
      'items.0.question': 'A question still in draft?',
      'items.0.answer': 'Not yet.',
    });
    expect(await (await t.request('/faq')).text()).not.toContain('still in draft');
    expect((await actions()).filter((a) => a.targetId === 'faq').map((a) => a.action)).toEqual(
      ['trust_center.draft_saved', 'trust_center.published', 'trust_center.draft_saved'].reverse(),
    );
  });

  it('refuses a bad form with per-field errors and saves nothing', async () => {
    const res = await t.postForm('/admin/trust-center/certifications', editor, {
      'items.0.standard': 'ISO/IEC 27001',
      'items.0.issuer': 'Example Cert Ltd',
      'items.0.validFrom': 'yesterday',
      'items.0.validUntil': '2027-01-01',
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('enter a date as YYYY-MM-DD');
    const draft = await api('/trust-center/sections/certifications/draft');
    expect(((await draft.json()) as { document: { items: unknown[] } }).document.items).toEqual([]);
  });

  it('shows a version diff and rolls back as a new version', async () => {
    await t.postForm('/admin/trust-center/faq/publish', editor, {});
    const diff = await t.request('/admin/trust-center/faq/versions/2', { headers: { cookie: editor.cookie } });
    const html = await diff.text();
    expect(html).toContain('<ins>+   Question: A question still in draft?\n</ins>');
    expect(html).toContain('<del>-   Question: Is my data encrypted at rest?\n</del>');
    expect((await t.postForm('/admin/trust-center/faq/versions/1/rollback', editor, {})).status).toBe(303);
    const versions = (await (await api('/trust-center/sections/faq/versions')).json()) as {
      items: { version: number; note: string | null }[];
    };
    expect(versions.items.map((v) => [v.version, v.note])).toEqual([
      [3, 'rollback to version 1'],
      [2, null],
      [1, null],
    ]);
    expect(await (await t.request('/faq')).text()).toContain('Is my data encrypted at rest?');
  });

  it('lets an auditor read drafts but not change them', async () => {
    const auditor = await t.signInAs('auditor');
    expect((await t.request('/admin/trust-center/faq', { headers: { cookie: auditor.cookie } })).status).toBe(200);
    expect((await t.postForm('/admin/trust-center/faq', auditor, { 'fields.intro': 'x' })).status).toBe(403);
  });
});

describe('policies need an approval by someone other than their author', () => {
  it('refuses to publish before approval, refuses self-approval, then publishes with history', async () => {
    const created = await t.postForm('/admin/trust-center/policies', editor, {
      'fields.title': 'Access Control Policy',
      'fields.summary': 'Who may reach what, and how that is decided.',
      'fields.body': 'Access is granted by **least privilege**.',
    });
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/admin/trust-center/policy:access-control-policy');
    const section = 'policy:access-control-policy';

    expect((await t.postForm(`/admin/trust-center/${section}/publish`, editor, {})).status).toBe(409);
    expect((await t.postForm(`/admin/trust-center/${section}/review`, editor, {})).status).toBe(303);

    // An owner holds content.approve, but wrote nothing here; the editor lacks the permission entirely.
    expect((await t.postForm(`/admin/trust-center/${section}/approve`, editor, {})).status).toBe(403);
    // The approver edits the draft (now its author): the review starts again and they cannot approve it.
    const admin = await t.signInAs('security-admin', 'admin@acme.test');
    await t.postForm(`/admin/trust-center/${section}`, admin, {
      'fields.title': 'Access Control Policy',
      'fields.body': 'Access is granted by **least privilege** and reviewed quarterly.',
    });
    await t.postForm(`/admin/trust-center/${section}/review`, admin, {});
    expect((await t.postForm(`/admin/trust-center/${section}/approve`, admin, {})).status).toBe(403);
    expect((await t.postForm(`/admin/trust-center/${section}/approve`, approver, {})).status).toBe(303);
    expect((await t.postForm(`/admin/trust-center/${section}/publish`, editor, {})).status).toBe(303);

    const page = await t.request('/policies/access-control-policy');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('reviewed quarterly');
    expect(html).toContain('Last updated');
    expect(html).toContain('Version history');
    expect(await (await t.request('/policies')).text()).toContain('Access Control Policy');

    const trail = (await actions()).filter((a) => a.targetId === section);
    expect(trail.map((a) => `${a.action}:${a.outcome}`).reverse()).toEqual([
      'trust_center.draft_saved:success',
      'trust_center.publish_refused:denied',
      'trust_center.review_requested:success',
      'trust_center.draft_saved:success',
      'trust_center.review_requested:success',
      'trust_center.approval_refused:denied',
      'trust_center.approved:success',
      'trust_center.published:success',
    ]);
  });
});

describe('script payloads in every slot render inert', () => {
  it('escapes titles, names, questions and link labels and sanitizes Markdown and URLs on every page and feed', async () => {
    const owner = await t.signInAs('owner', 'boss@acme.test');
    const write = (section: string, fields: Record<string, string>) =>
      t.postForm(`/admin/trust-center/${section}`, owner, fields);
    const publish = (section: string) => t.postForm(`/admin/trust-center/${section}/publish`, owner, {});
    const sections: [string, Record<string, string>][] = [
      ['overview', { 'fields.title': XSS, 'fields.intro': XSS }],
      [
        'security',
        { 'fields.intro': XSS, 'items.0.group': XSS, 'items.0.title': XSS, 'items.0.body': `[x](javascript:alert(1)) ${XSS}` },
      ],
      [
        'certifications',
        {
          'items.0.standard': XSS,
          'items.0.version': XSS,
          'items.0.issuer': XSS,
          'items.0.scope': XSS,
          'items.0.validFrom': '2026-01-01',
          'items.0.validUntil': '2029-01-01',
        },
      ],
      ['faq', { 'items.0.category': XSS, 'items.0.question': XSS, 'items.0.answer': XSS }],
      ['data', { 'items.0.category': XSS, 'items.0.purposes': XSS, 'items.0.legalBasis': XSS, 'items.0.retention': XSS }],
      [
        'subprocessors',
        {
          'items.0.name': XSS,
          'items.0.purpose': XSS,
          'items.0.location': XSS,
          'items.0.dataCategories': XSS,
          'items.0.safeguards': XSS,
          'items.0.website': 'https://example.test/"><script>alert(3)</script>',
        },
      ],
      ['updates', { 'items.0.date': '2026-11-01', 'items.0.title': XSS, 'items.0.kind': XSS, 'items.0.body': XSS }],
      ['contact', { 'fields.intro': XSS, 'fields.security': 'security@acme.test', 'fields.postal': XSS }],
    ];
    for (const [section, fields] of sections) {
      expect((await write(section, fields)).status, section).toBe(303);
      expect((await publish(section)).status, section).toBe(303);
    }
    // A javascript: URL in a URL field is refused outright.
    expect(
      (
        await write('subprocessors', {
          'items.0.name': 'x',
          'items.0.purpose': 'x',
          'items.0.location': 'x',
          'items.0.website': 'javascript:alert(1)',
        })
      ).status,
    ).toBe(422);

    for (const path of [
      '/',
      '/security',
      '/certifications',
      '/faq',
      '/privacy/data',
      '/subprocessors',
      '/updates',
      '/contact',
      '/updates.atom',
      '/subprocessors.atom',
    ]) {
      const body = await (await t.request(path)).text();
      expect(body, path).not.toMatch(/<script>alert|<img src=x|href="?javascript:/i);
      expect(body, path).not.toMatch(/<img[^>]*onerror/i);
    }
    expect(await (await t.request('/faq')).text()).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('the render cache', () => {
  it('answers with a strong ETag, 304 on If-None-Match, touches no database on a hit, and forgets on publish', async () => {
    const first = await t.request('/updates');
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const spies = [vi.spyOn(t.runtime.db, 'withTenant'), vi.spyOn(t.runtime.db, 'withSystem'), vi.spyOn(t.runtime.db, 'query')];
    const again = await t.request('/updates');
    expect(await again.text()).toBe(await first.clone().text());
    const notModified = await t.request('/updates', { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    for (const spy of spies) spy.mockRestore();

    const owner = await t.signInAs('owner', 'boss@acme.test');
    await t.postForm('/admin/trust-center/updates', owner, {
      'items.0.date': '2026-11-20',
      'items.0.title': 'Scheduled maintenance done',
      'items.0.body': 'All systems normal.',
    });
    expect((await t.request('/updates', { headers: { 'if-none-match': etag } })).status).toBe(304);
    await t.postForm('/admin/trust-center/updates/publish', owner, {});
    const fresh = await t.request('/updates', { headers: { 'if-none-match': etag } });
    expect(fresh.status).toBe(200);
    expect(await fresh.text()).toContain('Scheduled maintenance done');
    expect(await (await t.request('/updates.atom')).text()).toContain('<title>Scheduled maintenance done</title>');
  });
});

describe('the JSON API', () => {
  it('writes a draft, publishes it and reads versions; refuses bad fields with a problem', async () => {
    const bad = await api('/trust-center/sections/contact/draft', {
      method: 'PUT',
      body: { fields: { security: 'not an address' } },
    });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(((await bad.json()) as { errors: Record<string, string> }).errors).toEqual({
      'fields.security': 'enter an email address',
    });

    const put = await api('/trust-center/sections/contact/draft', {
      method: 'PUT',
      body: { fields: { security: 'security@acme.test', intro: 'Write to us.' } },
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ section: 'contact', reviewState: 'draft', unpublishedChanges: true });
    const published = await api('/trust-center/sections/contact/publish', { method: 'POST' });
    expect(published.status).toBe(201);
    const { version } = (await published.json()) as { version: number };
    const read = await api(`/trust-center/sections/contact/versions/${version}`);
    expect(await read.json()).toMatchObject({ version, document: { fields: { security: 'security@acme.test' } } });
    expect(await (await t.request('/contact')).text()).toContain('mailto:security@acme.test');

    const auditorToken = await t.apiToken('auditor');
    expect((await api('/trust-center/sections', { token: auditorToken })).status).toBe(200);
    expect((await api('/trust-center/sections/contact/draft', { method: 'PUT', body: {}, token: auditorToken })).status).toBe(
      403,
    );
    expect((await api('/trust-center/sections/nonsense/draft')).status).toBe(404);
  });

  it('refuses a policy approval by the token that wrote it', async () => {
    const approverToken = await t.apiToken('approver');
    const ownerToken = await t.apiToken('owner');
    const section = 'policy:backup-policy';
    expect(
      (
        await api(`/trust-center/sections/${section}/draft`, {
          method: 'PUT',
          token: ownerToken,
          body: { fields: { title: 'Backup Policy', body: 'Daily.' } },
        })
      ).status,
    ).toBe(200);
    expect((await api(`/trust-center/sections/${section}/review`, { method: 'POST', token: ownerToken })).status).toBe(200);
    expect((await api(`/trust-center/sections/${section}/approve`, { method: 'POST', token: ownerToken })).status).toBe(403);
    const approved = await api(`/trust-center/sections/${section}/approve`, { method: 'POST', token: approverToken });
    expect(await approved.json()).toMatchObject({ reviewState: 'approved' });
    expect((await api(`/trust-center/sections/${section}/publish`, { method: 'POST', token: ownerToken })).status).toBe(201);
  });
});

describe('the demo tenant', () => {
  it('fills and publishes every section, policies included', async () => {
    const { createDemo } = await import('../demo/service.ts');
    await createDemo(t.runtime, { kind: 'system', name: 'cli' });
    const paths = [
      '/',
      '/security',
      '/certifications',
      '/policies',
      '/faq',
      '/privacy/data',
      '/subprocessors',
      '/updates',
      '/contact',
    ];
    for (const path of [
      ...paths,
      '/policies/information-security-policy',
      '/updates.atom',
      '/subprocessors.atom',
      '/sitemap.xml',
      '/robots.txt',
    ]) {
      const res = await t.app.request(`http://demo.localhost${path}`);
      expect(res.status, path).toBe(200);
    }
    const sitemap = await (await t.app.request('http://demo.localhost/sitemap.xml')).text();
    for (const path of paths) expect(sitemap).toContain(`<loc>http://demo.localhost${path}</loc>`);
    // Each demo certification carries a generated one-page PDF certificate, downloadable from the public page.
    const certifications = await (await t.app.request('http://demo.localhost/certifications')).text();
    const links = [...certifications.matchAll(/href="(\/certifications\/files\/[0-9a-f-]{36})"/g)].map((m) => m[1]);
    expect(links).toHaveLength(2);
    const pdf = await t.app.request(`http://demo.localhost${links[0]}`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toBe('attachment; filename="ISO-IEC-27001-certificate.pdf"');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    // And its brand colour, through the brand stylesheet.
    const css = /href="(\/brand\.css\?v=[\w-]+)"/.exec(certifications)?.[1] ?? '/brand.css';
    expect(await (await t.app.request(`http://demo.localhost${css}`)).text()).toContain('--color-brand: #0b5d4b;');
  });
});
