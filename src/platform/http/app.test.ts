import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await createTestApp();
  token = await t.apiToken('owner');
});
afterAll(async () => {
  await t.close();
});

const bearer = () => ({ authorization: `Bearer ${token}` });

describe('probes', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await t.request('/healthz')).status).toBe(200);
    const ready = await t.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });
});

describe('security headers', () => {
  it('sends a CSP without unsafe-inline, frame-ancestors none, nosniff and a referrer policy', async () => {
    const res = await t.request('/');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
  });

  it('renders pages with no inline script or style', async () => {
    for (const path of ['/', '/admin/login', '/nowhere']) {
      const html = await (await t.request(path)).text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style\b/);
      expect(html).not.toMatch(/\sstyle=/);
      expect(html).not.toMatch(/\son[a-z]+=/);
    }
  });

  it('gives every response a request id and keeps a well-formed incoming one', async () => {
    const fresh = await t.request('/healthz');
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.request('/healthz', { headers: { 'x-request-id': 'edge-1234abcd' } });
    expect(kept.headers.get('x-request-id')).toBe('edge-1234abcd');
    const replaced = await t.request('/healthz', { headers: { 'x-request-id': 'bad id<script>' } });
    expect(replaced.headers.get('x-request-id')).not.toContain('<');
  });

  it('serves design assets with immutable caching and answers revalidation with 304', async () => {
    const html = await (await t.request('/')).text();
    const href = /href="(\/assets\/candor\.[0-9a-f]{12}\.css)"/.exec(html)?.[1];
    expect(href).toBeDefined();
    const css = await t.request(href ?? '');
    expect(css.status).toBe(200);
    expect(css.headers.get('cache-control')).toContain('immutable');
    const again = await t.request(href ?? '', { headers: { 'if-none-match': css.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
  });
});

describe('CSRF defence', () => {
  const login = new URLSearchParams({ email: 'x@acme.test', password: 'whatever' }).toString();
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  it('refuses a cross-site form post by its Origin', async () => {
    const res = await t.request('/admin/login', {
      method: 'POST',
      headers: { ...form, origin: 'https://evil.example' },
      body: login,
    });
    expect(res.status).toBe(403);
  });

  it('refuses a cross-site form post by Sec-Fetch-Site', async () => {
    const res = await t.request('/admin/login', {
      method: 'POST',
      headers: { ...form, 'sec-fetch-site': 'cross-site' },
      body: login,
    });
    expect(res.status).toBe(403);
  });

  it('requires the session’s form token on signed-in forms', async () => {
    const owner = await t.signInAsOwner();
    const headers = { ...form, cookie: owner.cookie, origin: 'http://acme.test' };
    const without = await t.request('/admin/api-tokens', { method: 'POST', headers, body: 'name=ci&role=auditor&expires=' });
    expect(without.status).toBe(403);
    const wrong = await t.request('/admin/api-tokens', {
      method: 'POST',
      headers,
      body: '_csrf=nope&name=ci&role=auditor&expires=',
    });
    expect(wrong.status).toBe(403);
    const right = await t.postForm('/admin/api-tokens', owner, { name: 'ci', role: 'auditor', expires: '' });
    expect(right.status).toBe(200);
  });
});

describe('errors', () => {
  it('shows a friendly HTML page for an unknown page', async () => {
    const res = await t.request('/no/such/page');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('Not found');
  });

  it('answers an unknown API route with problem+json', async () => {
    const res = await t.request('/api/v1/no-such-thing', { headers: bearer() });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = await res.json();
    expect(problem).toMatchObject({ type: '/problems/not-found', status: 404 });
    expect(problem.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('explains each problem type at its URI', async () => {
    const page = await t.request('/problems/validation-failed');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('breaks a rule');
    expect((await t.request('/problems/made-up')).status).toBe(404);
  });

  it('answers a wrong method with 405 and an Allow header', async () => {
    const res = await t.request('/api/v1/me', { method: 'DELETE', headers: bearer() });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await res.json()).type).toBe('/problems/method-not-allowed');
  });

  it('refuses malformed JSON with 400 and changes nothing', async () => {
    const before = (await (await t.request('/api/v1/api-tokens', { headers: bearer() })).json()).items.length;
    const res = await t.request('/api/v1/api-tokens', {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: '{"name": "broken",',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const after = (await (await t.request('/api/v1/api-tokens', { headers: bearer() })).json()).items.length;
    expect(after).toBe(before);
  });

  it('names each invalid field in a 422 problem', async () => {
    const res = await t.request('/api/v1/api-tokens', {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: '', permissions: ['emperor.rule'] }),
    });
    expect(res.status).toBe(422);
    const problem = await res.json();
    expect(problem.type).toBe('/problems/validation-failed');
    expect(Object.keys(problem.errors)).toEqual(expect.arrayContaining(['name', 'permissions.0']));
  });

  it('refuses a body over the limit with 413', async () => {
    const big = 'x'.repeat(1024 * 1024 + 10);
    const api = await t.request('/api/v1/api-tokens', {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: big, role: 'auditor' }),
    });
    expect(api.status).toBe(413);
    expect(api.headers.get('content-type')).toBe('application/problem+json');
    const page = await t.request('/admin/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${big}`,
    });
    expect(page.status).toBe(413);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('answers a host no tenant serves with 404', async () => {
    const res = await t.app.request('http://unknown.test/');
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Unknown site');
  });
});

describe('OpenAPI', () => {
  it('publishes an OpenAPI 3.1 document generated from the routes', async () => {
    const res = await t.request('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/me', '/outbox', '/outbox/{id}', '/api-tokens', '/api-tokens/{id}']),
    );
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.Problem).toBeDefined();
  });
});
