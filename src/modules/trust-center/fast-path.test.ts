import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, TEST_HOST, type TestApp } from '../../../test/app.ts';
import { notificationsDelivered } from '../../../test/notifications.ts';
import { requestListener } from '../../server.ts';
import { pagesChanged } from './cache.ts';
import { publishDraft, saveDraft } from './service.ts';

let t: TestApp;
let server: http.Server;
let port: number;
let fullPathRequests = 0;

beforeAll(async () => {
  t = await createTestApp();
  // The whole application, counting what reaches it: what the fast path answers never does.
  const app = {
    fetch: (request: Request, env?: unknown) => {
      fullPathRequests++;
      return t.app.fetch(request, env);
    },
  };
  server = http.createServer(requestListener(t.runtime, app));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request over a real socket with the tenant's Host header (fetch may not set Host). */
function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, headers: { host: TEST_HOST, ...headers } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('error', reject);
  });
}

async function publishUpdate(title: string): Promise<void> {
  const ctx = t.contextOf({ kind: 'system', name: 'test' });
  await saveDraft(ctx, 'updates', { fields: {}, items: [{ date: '2026-11-20', title, body: 'Details.' }] });
  await publishDraft(ctx, 'updates');
  // Its own echo must have arrived before a test counts on a page staying cached.
  await notificationsDelivered(t.runtime.db, pagesChanged.name);
}

// Connection-level headers Node adds itself, and the per-request id.
const PER_CONNECTION = new Set(['date', 'connection', 'keep-alive', 'x-request-id', 'content-length', 'transfer-encoding']);

function pageHeaders(headers: http.IncomingHttpHeaders | Headers): Record<string, string> {
  const entries: [string, string][] = [];
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      entries.push([name, value]);
    });
  } else for (const [name, value] of Object.entries(headers)) entries.push([name, String(value)]);
  return Object.fromEntries(entries.filter(([name]) => !PER_CONNECTION.has(name)).sort());
}

describe('the public pages fast path', () => {
  it('answers a cached page and its 304 with the application’s exact bytes and headers, touching no database', async () => {
    await publishUpdate('Fast notice');
    const first = await get('/updates');
    expect(first.status).toBe(200);
    expect(fullPathRequests).toBe(1); // the miss went the long way and filled the cache

    const spies = [vi.spyOn(t.runtime.db, 'withTenant'), vi.spyOn(t.runtime.db, 'withSystem'), vi.spyOn(t.runtime.db, 'query')];
    const hit = await get('/updates', { 'x-request-id': 'bench-request-0001' });
    const etag = String(hit.headers.etag);
    const revalidated = await get('/updates?utm=x', { 'if-none-match': etag });
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    for (const spy of spies) spy.mockRestore();
    expect(fullPathRequests).toBe(1);

    expect(hit.body).toBe(first.body);
    expect(hit.headers['x-request-id']).toBe('bench-request-0001');
    expect(hit.headers['content-length']).toBe(String(Buffer.byteLength(first.body)));
    expect(revalidated.status).toBe(304);
    expect(revalidated.body).toBe('');
    expect(revalidated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    // The same page through the application alone: identical headers, security headers included.
    const viaApp = await t.request('/updates');
    expect(pageHeaders(hit.headers)).toEqual(pageHeaders(viaApp.headers));
    expect(pageHeaders(hit.headers)['content-security-policy']).toContain("script-src 'self'");
    expect(await viaApp.text()).toBe(hit.body);
    const notModifiedViaApp = await t.request('/updates', { headers: { 'if-none-match': etag } });
    expect(pageHeaders(revalidated.headers)).toEqual(pageHeaders(notModifiedViaApp.headers));
    // A 304 carries what updates the stored copy, not the stored copy's other headers (RFC 9110 §15.4.5).
    expect(revalidated.headers.etag).toBe(etag);
    expect(revalidated.headers['cache-control']).toBe('public, no-cache');
    expect(revalidated.headers['content-security-policy']).toBeUndefined();
  });

  it('leaves other methods, uncached pages, unknown hosts and absolute targets to the application', async () => {
    const before = fullPathRequests;
    await get('/updates');
    expect(fullPathRequests).toBe(before);
    expect((await get('/updates', { host: 'nobody.test' })).status).toBe(404);
    expect((await get('/admin/login')).status).toBe(200);
    await new Promise<void>((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port, path: '/updates', method: 'HEAD', headers: { host: TEST_HOST } },
        (r) => {
          r.resume();
          r.on('end', resolve);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(fullPathRequests).toBe(before + 3);
  });

  it('serves the new page once a publish forgot the old one', async () => {
    const old = await get('/updates');
    await publishUpdate('Newer fast notice');
    const fresh = await get('/updates', { 'if-none-match': String(old.headers.etag) });
    expect(fresh.status).toBe(200);
    expect(fresh.body).toContain('Newer fast notice');
  });

  it('answers each language from its own cached page, as the application does: prefixed and negotiated', async () => {
    await publishUpdate('Aviso en inglés');
    const cases: [string, Record<string, string>][] = [
      ['/es/updates', {}],
      ['/es', {}],
      ['/updates', { 'accept-language': 'es-MX,es;q=0.9' }],
      ['/updates', { 'accept-language': 'tr' }],
    ];
    for (const [path, headers] of cases) {
      const miss = await get(path, headers);
      const before = fullPathRequests;
      const hit = await get(path, headers);
      expect(fullPathRequests, path).toBe(before);
      expect(hit.body).toBe(miss.body);
      const viaApp = await t.request(path, { headers });
      expect(pageHeaders(hit.headers)).toEqual(pageHeaders(viaApp.headers));
      expect(await viaApp.text()).toBe(hit.body);
    }
    expect((await get('/es/updates')).body).toContain('lang="es"');
    expect((await get('/updates', { 'accept-language': 'tr' })).body).toContain('lang="tr"');
    expect((await get('/updates', { 'accept-language': 'tr' })).headers.vary).toBe('accept-language');
    expect((await get('/es/updates')).headers.vary).toBeUndefined();
    // An English reader still gets English, from its own entry.
    expect((await get('/updates', { 'accept-language': 'en' })).body).toContain('lang="en"');
  });
});
