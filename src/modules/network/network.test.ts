import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { type AuditEventRow, searchEvents } from '../../platform/audit/store.ts';
import { parseCidrList } from '../../platform/http/client-ip.ts';
import { ALLOWLIST_CACHE_TTL_MS } from './service.ts';
import { writeAllowlistRow } from './store.ts';

// Addresses from the documentation ranges: an office (IPv4 and IPv6), and outsiders.
const OFFICE_V4 = '203.0.113.9';
const OFFICE_V6 = '2001:db8:1::7';
const OUTSIDE_V4 = '198.51.100.7';
const OUTSIDE_V6 = '2001:db8:2::5';
const PROXY = '10.1.2.3';
const OFFICE_ENTRIES = [
  { cidr: '203.0.113.0/24', label: 'Berlin office' },
  { cidr: '2001:db8:1::/48', label: 'VPN' },
];

let t: TestApp;
let clock: TestClock;
let owner: SignedIn;
let ownerToken: string;

beforeAll(async () => {
  clock = new TestClock();
  const trusted = parseCidrList('10.0.0.0/8');
  if (!trusted.ok) throw new Error(trusted.error);
  t = await createTestApp({ clock, config: { trustedProxies: trusted.blocks } });
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
});

afterAll(async () => {
  await t?.close();
});

/** A request arriving on a socket from `address` (how @hono/node-server hands requests to Hono). */
function from(address: string, path: string, init: RequestInit = {}): Promise<Response> {
  return Promise.resolve(
    t.app.request(`http://acme.test${path}`, init, { incoming: { socket: { remoteAddress: address, encrypted: false } } }),
  );
}

function page(address: string, path: string, session: SignedIn = owner) {
  return from(address, path, { headers: { cookie: session.cookie } });
}

function api(address: string, path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  return from(address, `/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? ownerToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

function postForm(address: string, path: string, fields: Record<string, string>, session: SignedIn = owner) {
  return from(address, path, {
    method: 'POST',
    headers: { cookie: session.cookie, origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: session.csrfToken, ...fields }).toString(),
  });
}

async function putList(address: string, list: 'admin' | 'api', body: unknown, token = ownerToken) {
  return api(address, `/ip-allowlists/${list}`, { method: 'PUT', body, token });
}

async function events(action: string): Promise<AuditEventRow[]> {
  return t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, { action }, 1000, 0));
}

async function listsNow(address = OFFICE_V4) {
  const res = await api(address, '/ip-allowlists');
  expect(res.status).toBe(200);
  return (await res.json()) as { items: { list: string; enabled: boolean; entries: { cidr: string; label: string }[] }[] };
}

describe('IP-restricted API tokens', () => {
  let restricted: string;

  it('creates a token usable only from its ranges, shown in the list', async () => {
    const res = await api(OFFICE_V4, '/api-tokens', {
      method: 'POST',
      body: { name: 'office only', role: 'auditor', allowedIps: ['203.0.113.0/24', '2001:DB8:1::/48', '198.51.100.99'] },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { token: string; id: string; allowedIps: string[] };
    expect(created.allowedIps).toEqual(['203.0.113.0/24', '2001:db8:1::/48', '198.51.100.99/32']);
    restricted = created.token;
    const list = (await (await api(OFFICE_V4, '/api-tokens')).json()) as { items: { id: string; allowedIps: string[] | null }[] };
    expect(list.items.find((i) => i.id === created.id)?.allowedIps).toEqual(created.allowedIps);
    const html = await (await page(OFFICE_V4, '/admin/api-tokens')).text();
    expect(html).toContain('Usable from');
    expect(html).toContain('2001:db8:1::/48');
  });

  it('lets the token in from inside its ranges, IPv4 and IPv6', async () => {
    expect((await api(OFFICE_V4, '/me', { token: restricted })).status).toBe(200);
    expect((await api(OFFICE_V6, '/me', { token: restricted })).status).toBe(200);
    expect((await api('198.51.100.99', '/me', { token: restricted })).status).toBe(200);
  });

  it('refuses the token from outside its ranges with 403, recorded as api_token.refused outside_ip_range', async () => {
    for (const address of [OUTSIDE_V4, OUTSIDE_V6]) {
      const res = await api(address, '/me', { token: restricted });
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { type: string }).type).toBe('/problems/forbidden');
    }
    const refused = (await events('api_token.refused')).filter((e) => e.details.reason === 'outside_ip_range');
    expect(refused.map((e) => e.ip).sort()).toEqual([OUTSIDE_V4, OUTSIDE_V6].sort());
    expect(refused[0]?.outcome).toBe('denied');
    expect(refused[0]?.details.prefix).toBe(restricted.slice(0, 10));
  });

  it('refuses a bad range per entry and creates nothing (API and form)', async () => {
    const before = (await (await api(OFFICE_V4, '/api-tokens')).json()) as { items: unknown[] };
    const res = await api(OFFICE_V4, '/api-tokens', {
      method: 'POST',
      body: { name: 'bad', role: 'auditor', allowedIps: ['10.0.0.0/8', '10.0.0.1/8', 'nonsense'] },
    });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: Record<string, string> };
    expect(problem.errors['allowedIps.1']).toContain('has bits set after its /8 prefix');
    expect(problem.errors['allowedIps.2']).toContain('is not an IP address or CIDR range');
    const form = await postForm(OFFICE_V4, '/admin/api-tokens', {
      name: 'bad form',
      permissions: 'audit.read',
      allowedIps: '203.0.113.0/24, 2001:db8::/129',
    });
    expect(form.status).toBe(422);
    expect(await form.text()).toContain('needs a prefix length between 0 and 128');
    const after = (await (await api(OFFICE_V4, '/api-tokens')).json()) as { items: unknown[] };
    expect(after.items.length).toBe(before.items.length);
  });

  it('creates a restricted token from the back-office form', async () => {
    const res = await postForm(OFFICE_V4, '/admin/api-tokens', {
      name: 'form token',
      permissions: 'audit.read',
      allowedIps: '192.0.2.0/24,\n2001:db8:9::1',
    });
    expect(res.status).toBe(200);
    const list = (await (await api(OFFICE_V4, '/api-tokens')).json()) as { items: { name: string; allowedIps: string[] }[] };
    expect(list.items.find((i) => i.name === 'form token')?.allowedIps).toEqual(['192.0.2.0/24', '2001:db8:9::1/128']);
  });
});

describe('the back-office allow-list', () => {
  it('lets everyone in while the lists are off', async () => {
    expect((await page(OUTSIDE_V4, '/admin')).status).toBe(200);
    const lists = await listsNow(OUTSIDE_V4);
    expect(lists.items.map((l) => [l.list, l.enabled, l.entries])).toEqual([
      ['admin', false, []],
      ['api', false, []],
    ]);
  });

  it('refuses a change from the back office that would lock out the person making it, and records the refusal', async () => {
    const res = await postForm(OFFICE_V4, '/admin/ip-allowlists/admin', { enabled: 'on', entries: '2001:db8:1::/48 VPN' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain(`your address ${OFFICE_V4} is not in this list, so saving it would lock you out of the back office`);
    expect(html).toContain('2001:db8:1::/48 VPN');
    expect((await listsNow()).items[0]?.enabled).toBe(false);
    const [refusal] = await events('ip_allowlist.change_refused');
    expect(refusal).toMatchObject({ outcome: 'denied', ip: OFFICE_V4, targetId: 'admin' });
    expect(refusal?.details.reason).toBe('would_lock_out');
  });

  it('refuses bad entries line by line, and an enabled list with no entries, changing nothing', async () => {
    const bad = await postForm(OFFICE_V4, '/admin/ip-allowlists/admin', {
      enabled: 'on',
      entries: '203.0.113.0/24 Office\n\n10.0.0.1/8 typo\nnot-an-address',
    });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('line 3: &quot;10.0.0.1/8&quot; has bits set after its /8 prefix (the range is 10.0.0.0/8)');
    expect(html).toContain('line 4: &quot;not-an-address&quot; is not an IP address or CIDR range');
    const empty = await postForm(OFFICE_V4, '/admin/ip-allowlists/admin', { enabled: 'on', entries: '' });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain('add at least one address or range, or turn the list off');
    const viaApi = await putList(OFFICE_V4, 'admin', {
      enabled: true,
      entries: [{ cidr: '203.0.113.0/24' }, { cidr: '::1/129' }],
    });
    expect(viaApi.status).toBe(422);
    expect(((await viaApi.json()) as { errors: Record<string, string> }).errors['entries.1.cidr']).toContain('prefix length');
    expect((await listsNow()).items[0]).toMatchObject({ enabled: false, entries: [] });
    expect(await events('ip_allowlist.updated')).toEqual([]);
  });

  it('saves a list that includes the editor, recorded with before and after', async () => {
    const res = await postForm(OFFICE_V4, '/admin/ip-allowlists/admin', {
      enabled: 'on',
      entries: '203.0.113.0/24 Berlin office\n2001:DB8:1:0::/48   VPN',
    });
    expect(res.status).toBe(303);
    expect((await listsNow()).items[0]).toMatchObject({ list: 'admin', enabled: true, entries: OFFICE_ENTRIES });
    const [updated] = await events('ip_allowlist.updated');
    expect(updated?.details).toEqual({
      list: 'admin',
      before: { enabled: false, entries: [] },
      after: { enabled: true, entries: OFFICE_ENTRIES },
    });
    expect(updated?.ip).toBe(OFFICE_V4);
  });

  it('shows your address and whether it is inside', async () => {
    const inside = await (await page(OFFICE_V6, '/admin/ip-allowlists')).text();
    expect(inside).toContain(`Your address is <code>${OFFICE_V6}</code>`);
    expect(inside).toContain('inside this list');
    const auditor = await t.signInAs('auditor');
    const readOnly = await page(OFFICE_V4, '/admin/ip-allowlists', auditor);
    expect(readOnly.status).toBe(200);
    const html = await readOnly.text();
    expect(html).toContain('Berlin office');
    expect(html).not.toContain('Save the back office list');
  });

  it('lets the back office in from inside the list, IPv4 and IPv6', async () => {
    expect((await page(OFFICE_V4, '/admin')).status).toBe(200);
    expect((await page(OFFICE_V6, '/admin/users')).status).toBe(200);
  });

  it('refuses the back office from outside with an HTML 403 that reveals nothing, sign-in page included', async () => {
    for (const [address, path] of [
      [OUTSIDE_V4, '/admin'],
      [OUTSIDE_V6, '/admin/users'],
      [OUTSIDE_V4, '/admin/login'],
    ] as const) {
      const res = await page(address, path);
      expect(res.status, `${address} ${path}`).toBe(403);
      expect(res.headers.get('content-type')).toContain('text/html');
      const html = await res.text();
      expect(html).toContain(`requests from your address (${address}) are not accepted`);
      expect(html).not.toContain('Olivia Owner');
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    // A sign-in attempt from outside never reaches the password check.
    const login = await from(OUTSIDE_V4, '/admin/login', {
      method: 'POST',
      headers: { origin: 'http://acme.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'owner@acme.test', password: 'wrong password here' }).toString(),
    });
    expect(login.status).toBe(403);
    expect(await events('session.sign_in_failed')).toEqual([]);
  });

  it('never restricts the public Trust Center', async () => {
    expect((await from(OUTSIDE_V4, '/')).status).toBe(200);
  });

  it('records one refusal per address and list a minute, and the alert opens', async () => {
    const outside = () => events('access.outside_allowlist');
    const v4 = (await outside()).filter((e) => e.ip === OUTSIDE_V4);
    expect(v4).toHaveLength(1);
    expect(v4[0]).toMatchObject({ outcome: 'denied', targetType: 'ip_allowlist', targetId: 'admin' });
    expect(v4[0]?.details).toMatchObject({ list: 'admin', method: 'GET', path: '/admin' });
    expect((await outside()).filter((e) => e.ip === OUTSIDE_V6)).toHaveLength(1);
    clock.advance(61_000);
    expect((await page(OUTSIDE_V4, '/admin')).status).toBe(403);
    expect((await outside()).filter((e) => e.ip === OUTSIDE_V4)).toHaveLength(2);

    const alerts = (await (await api(OFFICE_V4, '/alerts')).json()) as { items: { rule: string; key: string }[] };
    expect(alerts.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'outside-allowlist', key: OUTSIDE_V4 }),
        expect.objectContaining({ rule: 'outside-allowlist', key: OUTSIDE_V6 }),
      ]),
    );
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    // Spoofed: an outsider claims to be the office; its socket is not a trusted proxy.
    const spoofed = await from(OUTSIDE_V4, '/admin', { headers: { cookie: owner.cookie, 'x-forwarded-for': OFFICE_V4 } });
    expect(spoofed.status).toBe(403);
    const viaProxy = await from(PROXY, '/admin', { headers: { cookie: owner.cookie, 'x-forwarded-for': OFFICE_V4 } });
    expect(viaProxy.status).toBe(200);
    // The proxy appends the real client; what the client wrote further left is never believed.
    const smuggled = await from(PROXY, '/admin', {
      headers: { cookie: owner.cookie, 'x-forwarded-for': `${OFFICE_V4}, ${OUTSIDE_V4}` },
    });
    expect(smuggled.status).toBe(403);
  });

  it('applies a change at once in this process, and another process’s change within the cache lifetime', async () => {
    const newcomer = '198.51.100.20';
    expect((await page(newcomer, '/admin')).status).toBe(403);
    const res = await putList(OFFICE_V4, 'admin', {
      enabled: true,
      entries: [...OFFICE_ENTRIES, { cidr: '198.51.100.0/24', label: 'partner' }],
    });
    expect(res.status).toBe(200);
    expect((await page(newcomer, '/admin')).status).toBe(200);

    // Another process (a second server) takes the partner out: this process sees it once its copy expires.
    await t.runtime.db.withTenant(t.tenant.id, (tx) =>
      writeAllowlistRow(tx, {
        tenantId: t.tenant.id,
        list: 'admin',
        enabled: true,
        entries: OFFICE_ENTRIES,
        updatedAt: clock.now(),
        updatedBy: 'another process',
      }),
    );
    expect((await page(newcomer, '/admin')).status).toBe(200);
    clock.advance(ALLOWLIST_CACHE_TTL_MS);
    expect((await page(newcomer, '/admin')).status).toBe(403);
  });
});

describe('the API allow-list', () => {
  it('refuses an API change that would leave out the token’s own address', async () => {
    const res = await putList(OUTSIDE_V4, 'api', { enabled: true, entries: OFFICE_ENTRIES });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { detail: string; type: string };
    expect(problem.type).toBe('/problems/validation-failed');
    expect(problem.detail).toBe(
      `your address ${OUTSIDE_V4} is not in this list, so saving it would lock you out of the API; add ${OUTSIDE_V4} or a range that contains it first`,
    );
    expect((await listsNow()).items[1]?.enabled).toBe(false);
    const refusals = await events('ip_allowlist.change_refused');
    expect(refusals.find((e) => e.targetId === 'api')?.ip).toBe(OUTSIDE_V4);
  });

  it('saves an API list that includes the token’s address', async () => {
    const res = await putList(OFFICE_V6, 'api', { enabled: true, entries: OFFICE_ENTRIES });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      list: 'api',
      enabled: true,
      entries: OFFICE_ENTRIES,
      yourAddress: OFFICE_V6,
      yourAddressInside: true,
      updatedBy: 'token test owner',
    });
  });

  it('lets API calls in from inside and refuses them from outside with a problem, before any token is looked at', async () => {
    expect((await api(OFFICE_V4, '/me')).status).toBe(200);
    expect((await api(OFFICE_V6, '/me')).status).toBe(200);
    const refusedBefore = (await events('api_token.refused')).length;
    for (const address of [OUTSIDE_V4, OUTSIDE_V6]) {
      for (const token of [ownerToken, 'cnd_not-a-real-token']) {
        const res = await api(address, '/me', { token });
        expect(res.status).toBe(403);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const problem = (await res.json()) as { type: string; detail: string };
        expect(problem.type).toBe('/problems/forbidden');
        expect(problem.detail).toContain("this workspace's API");
      }
    }
    // Outside requests never reached the token check: no token refusal was written for them.
    expect((await events('api_token.refused')).length).toBe(refusedBefore);
    const outside = (await events('access.outside_allowlist')).filter((e) => e.details.list === 'api');
    expect(outside.map((e) => e.ip).sort()).toEqual([OUTSIDE_V4, OUTSIDE_V6].sort());
  });

  it('keeps the lists apart: the back office does not follow the API list', async () => {
    await putList(OFFICE_V4, 'admin', { enabled: false, entries: OFFICE_ENTRIES });
    expect((await page(OUTSIDE_V4, '/admin')).status).toBe(200);
    expect((await api(OUTSIDE_V4, '/me')).status).toBe(403);
  });
});
