import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, TEST_HOST, type TestApp } from '../../../test/app.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { AA_CONTRAST, contrastRatio, DARK_BACKGROUNDS, NON_TEXT_CONTRAST } from './colors.ts';
import { normalizeDomain } from './domains.ts';

let t: TestApp;
let owner: SignedIn;
let editor: SignedIn;
let ownerToken: string;
let server: ReturnType<typeof createAdaptorServer>;

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
const SVG = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>');

beforeAll(async () => {
  t = await createTestApp();
  // The domain check connects to this real server over HTTP, naming the domain as Host, as it would the domain.
  server = createAdaptorServer({ fetch: t.app.fetch });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.runtime.config.domainCheckVia = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  owner = await t.signInAsOwner();
  editor = await t.signInAs('content-editor', 'editor@acme.test');
  ownerToken = await t.apiToken('owner');
  await t.postForm('/admin/trust-center/overview', editor, { 'fields.title': 'Welcome' });
  await t.postForm('/admin/trust-center/overview/publish', editor, {});
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
});

function postBranding(session: SignedIn, fields: Record<string, string>, logo?: File) {
  const body = new FormData();
  body.set('_csrf', session.csrfToken);
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  if (logo) body.set('logo', logo);
  return t.request('/admin/trust-center/branding', {
    method: 'POST',
    headers: { cookie: session.cookie, origin: `http://${TEST_HOST}` },
    body,
  });
}

function api(path: string, init: { method?: string; body?: unknown } = {}) {
  return t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

async function actions(prefix: string) {
  const rows = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
  return rows
    .filter((r) => r.action.startsWith(prefix))
    .map((r) => `${r.action}:${r.outcome}`)
    .reverse();
}

describe('branding', () => {
  it('refuses malformed colours and colours below WCAG AA contrast, changing nothing', async () => {
    expect(contrastRatio('#ffffff', '#000000')).toBeCloseTo(21, 5);
    const res = await postBranding(editor, { displayName: 'Acme', primaryColor: '#7fb2ff', accentColor: 'red' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(/#7fb2ff has a contrast of 2\.\d\d:1 against the page; WCAG AA needs at least 4.5:1/);
    expect(html).toContain('enter a colour as #rrggbb');
    const api422 = await api('/trust-center/branding', { method: 'PUT', body: { primaryColor: '#ffff00' } });
    expect(api422.status).toBe(422);
    expect(((await api422.json()) as { errors: Record<string, string> }).errors.primaryColor).toContain('WCAG AA');
    expect(((await (await api('/trust-center/branding')).json()) as { primaryColor: string | null }).primaryColor).toBeNull();
    expect(await actions('trust_center.branding')).toEqual([]);
  });

  it('refuses an SVG or mislabelled logo and people who cannot publish', async () => {
    const svg = await postBranding(editor, {}, new File([SVG], 'logo.svg', { type: 'image/svg+xml' }));
    expect(svg.status).toBe(422);
    expect(await svg.text()).toContain('the file is not a PNG, JPEG, WebP file');
    const mislabelled = await postBranding(editor, {}, new File([PNG], 'logo.jpg', { type: 'image/jpeg' }));
    expect(mislabelled.status).toBe(422);
    const auditor = await t.signInAs('auditor', 'auditor@acme.test');
    expect((await postBranding(auditor, { primaryColor: '#0b5d4b' })).status).toBe(403);
    expect(await actions('trust_center.branding')).toEqual([]);
  });

  it('applies name, colours and logo to the public pages through a stylesheet, with the CSP intact', async () => {
    expect((await t.request('/')).headers.get('content-security-policy')).toContain("style-src 'self'");
    const before = await (await t.request('/')).text();
    expect(before).not.toContain('/brand.css');

    const res = await postBranding(
      editor,
      { displayName: 'Acme <Trust>', primaryColor: '#0B5D4B', accentColor: '#8a2be2' },
      new File([PNG], 'logo.png', { type: 'image/png' }),
    );
    expect(res.status).toBe(303);
    const page = await t.request('/');
    const html = await page.text();
    expect(page.headers.get('content-security-policy')).toContain("style-src 'self'");
    expect(html).not.toMatch(/<style|style="/);
    expect(html).toContain('Acme &lt;Trust&gt;');
    const css = /href="(\/brand\.css\?v=[\w-]+)"/.exec(html)?.[1];
    expect(css).toBeDefined();
    const sheet = await t.request(css ?? '');
    expect(sheet.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const text = await sheet.text();
    expect(text).toContain('--color-brand: #0b5d4b;');
    expect(text).toContain('--color-link: #8a2be2;');
    // The dark scheme gets shades that read on its backgrounds (the light colours would not).
    const dark = text.slice(text.indexOf('prefers-color-scheme: dark'));
    const darkLink = /--color-link: (#[0-9a-f]{6});/.exec(dark)?.[1] ?? '';
    const darkFocus = /--color-focus: (#[0-9a-f]{6});/.exec(dark)?.[1] ?? '';
    for (const background of DARK_BACKGROUNDS) {
      expect(contrastRatio('#8a2be2', background)).toBeLessThan(AA_CONTRAST);
      expect(contrastRatio(darkLink, background)).toBeGreaterThanOrEqual(AA_CONTRAST);
      expect(contrastRatio(darkFocus, background)).toBeGreaterThanOrEqual(NON_TEXT_CONTRAST);
    }
    const logo = /<img class="brand__logo" src="(\/brand\/logo\/[0-9a-f-]{36})"/.exec(html)?.[1];
    const image = await t.request(logo ?? '');
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('x-content-type-options')).toBe('nosniff');

    // A new logo replaces the old one, which is no longer served.
    const replaced = await api('/trust-center/branding', { method: 'PUT', body: { displayName: null, removeLogo: true } });
    expect(replaced.status).toBe(200);
    expect((await t.request(logo ?? '')).status).toBe(404);
    const after = await (await t.request('/')).text();
    expect(after).not.toContain('brand__logo');
    expect(after).toContain('Acme Corp');
    expect(await actions('trust_center.branding')).toEqual([
      'trust_center.branding_updated:success',
      'trust_center.branding_updated:success',
    ]);
  });
});

describe('custom domains', () => {
  it('accepts only plain domain names, lower-cased', () => {
    expect(normalizeDomain(' Trust.Example.COM ')).toBe('trust.example.com');
    for (const bad of [
      'https://trust.example.com',
      'trust.example.com:8443',
      'trust.example.com/path',
      '127.0.0.1',
      'localhost',
      'example',
      '-bad.example.com',
      'a..b.com',
      'trust.example.com.',
    ]) {
      expect(() => normalizeDomain(bad), bad).toThrow();
    }
  });

  it('routes a domain to the tenant only after Candor finds its token there', async () => {
    // Before: the domain is unknown (and there is no catch-all tenant here).
    expect((await t.app.request('http://trust.acme-example.com/')).status).toBe(404);
    const added = await api('/trust-center/domains', { method: 'POST', body: { hostname: 'Trust.Acme-Example.com' } });
    expect(added.status).toBe(201);
    const domain = (await added.json()) as { hostname: string; token: string; verified: boolean };
    expect(domain).toMatchObject({ hostname: 'trust.acme-example.com', verified: false });
    expect(domain.token).toMatch(/^candor-domain-verification=[\w-]{32}$/);

    // Candor answers the token for the pending name before it routes anywhere.
    const wellKnown = await t.app.request('http://trust.acme-example.com/.well-known/candor-domain-verification');
    expect(await wellKnown.text()).toBe(`${domain.token}\n`);
    expect((await t.app.request('http://trust.acme-example.com/')).status).toBe(404);

    // Nobody can claim it a second time, nor a host already in use; a URL is not a domain.
    expect((await api('/trust-center/domains', { method: 'POST', body: { hostname: 'trust.acme-example.com' } })).status).toBe(
      409,
    );
    expect((await api('/trust-center/domains', { method: 'POST', body: { hostname: 'acme.test' } })).status).toBe(409);
    expect((await api('/trust-center/domains', { method: 'POST', body: { hostname: 'http://x.example.com/' } })).status).toBe(
      422,
    );

    const verified = await api('/trust-center/domains/trust.acme-example.com/verify', { method: 'POST' });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ verified: true, lastError: null });
    const home = await t.app.request('http://trust.acme-example.com/');
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('<link rel="canonical" href="http://trust.acme-example.com/"/>');

    // Removing it stops the routing.
    expect((await api('/trust-center/domains/trust.acme-example.com', { method: 'DELETE' })).status).toBe(204);
    expect((await t.app.request('http://trust.acme-example.com/')).status).toBe(404);
    expect(await actions('trust_center.domain')).toEqual([
      'trust_center.domain_added:success',
      'trust_center.domain_verified:success',
      'trust_center.domain_removed:success',
    ]);
  });

  it('keeps a domain unverified when it does not answer the token, and says why', async () => {
    // Added through the back office; the name does not reach this server, so the check finds no token.
    const res = await t.postForm('/admin/trust-center/domains', owner, { hostname: 'status.acme-example.com' });
    expect(res.status).toBe(303);
    t.runtime.config.domainCheckVia = 'http://127.0.0.1:9';
    const verify = await t.postForm('/admin/trust-center/domains/status.acme-example.com/verify', owner, {});
    expect(verify.status).toBe(303);
    const page = await (await t.request('/admin/trust-center/branding', { headers: { cookie: owner.cookie } })).text();
    expect(page).toContain('Not verified');
    expect(page).toContain('the verification address could not be read');
    expect((await t.app.request('http://status.acme-example.com/')).status).toBe(404);
    expect((await actions('trust_center.domain_verification')).at(-1)).toBe('trust_center.domain_verification_failed:failed');
    // Editors cannot add domains.
    expect((await t.postForm('/admin/trust-center/domains', editor, { hostname: 'x.acme-example.com' })).status).toBe(403);
  });
});
