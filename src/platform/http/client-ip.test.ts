import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import {
  type CidrBlock,
  canonicalIp,
  cidrContains,
  parseCidr,
  parseCidrList,
  parseForwardedAddress,
  parseHostHeader,
  parseIpAddress,
  viewOfClient,
} from './client-ip.ts';

function cidr(text: string): CidrBlock {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.block;
}

function contains(range: string, address: string): boolean {
  const ip = parseIpAddress(address);
  if (!ip) throw new Error(`not an address: ${address}`);
  return cidrContains(cidr(range), ip);
}

describe('IP addresses', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::1', '::1'],
    ['::', '::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ])('reads %s as %s', (text, canonical) => {
    expect(canonicalIp(text)).toBe(canonical);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.-4',
    '1.2.3.4 ',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7::8',
    '12345::',
    'g::1',
    '::1.2.3',
    '1.2.3.4::',
    '::ffff:1.2.3.4:5',
    'fe80::1%',
    'localhost',
    'unknown',
  ])('refuses %j', (text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });
});

describe('CIDR ranges', () => {
  it('matches IPv4 ranges at every prefix boundary', () => {
    expect(contains('10.0.0.0/8', '10.255.1.2')).toBe(true);
    expect(contains('10.0.0.0/8', '11.0.0.0')).toBe(false);
    expect(contains('192.168.4.0/22', '192.168.7.255')).toBe(true);
    expect(contains('192.168.4.0/22', '192.168.8.0')).toBe(false);
    expect(contains('192.168.4.0/22', '192.168.3.255')).toBe(false);
    expect(contains('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(contains('203.0.113.9', '203.0.113.9')).toBe(true);
    expect(contains('203.0.113.9/32', '203.0.113.8')).toBe(false);
  });

  it('matches IPv6 ranges, including prefixes that split a byte', () => {
    expect(contains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(contains('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(contains('2001:db8:8000::/33', '2001:db8:8000::1')).toBe(true);
    expect(contains('2001:db8:8000::/33', '2001:db8:7fff::1')).toBe(false);
    expect(contains('::1', '::1')).toBe(true);
    expect(contains('::/0', '2001:db8::1')).toBe(true);
  });

  it('compares IPv4-mapped IPv6 addresses and ranges as IPv4', () => {
    expect(contains('127.0.0.0/8', '::ffff:127.0.0.1')).toBe(true);
    expect(contains('::ffff:10.0.0.0/104', '10.1.2.3')).toBe(true);
    expect(cidr('::ffff:10.0.0.0/104').text).toBe('10.0.0.0/8');
    expect(contains('::/0', '::ffff:10.0.0.1')).toBe(false);
    expect(contains('10.0.0.0/8', '::a00:1')).toBe(false);
  });

  it.each([
    ['10.0.0.1/8', /bits set after its \/8 prefix \(the range is 10\.0\.0\.0\/8\)/],
    ['2001:db8::1/32', /the range is 2001:db8::\/32/],
    ['10.0.0.0/33', /prefix length between 0 and 32/],
    ['::/129', /prefix length between 0 and 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['fe80::1%eth0/64', /interface zone/],
    ['example.com', /not an IP address/],
    ['10.0.0/8', /not an IP address/],
  ])('refuses %s with a reason', (text, reason) => {
    const parsed = parseCidr(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(reason);
  });

  it('reads a comma-separated list, skipping blanks, and names the first bad entry', () => {
    const list = parseCidrList(' 10.0.0.0/8, ::1 ,,192.0.2.7,');
    expect(list.ok && list.blocks.map((b) => b.text)).toEqual(['10.0.0.0/8', '::1/128', '192.0.2.7/32']);
    const bad = parseCidrList('10.0.0.0/8, 300.0.0.1');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toContain('"300.0.0.1"');
  });
});

describe('forwarded header values', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    [' 192.0.2.1:4711 ', '192.0.2.1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['"[2001:db8::1]:443"', '2001:db8::1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
  ])('reads the X-Forwarded-For entry %j', (entry, address) => {
    const ip = parseForwardedAddress(entry);
    expect(ip).toBeDefined();
    expect(ip).toEqual(parseIpAddress(address));
  });

  it.each(['unknown', '_hidden', '', '192.0.2.1:port', '[2001:db8::1', '192.0.2.1:4711:1'])('refuses the entry %j', (entry) => {
    expect(parseForwardedAddress(entry)).toBeUndefined();
  });

  it('accepts host names and bracketed IPv6 hosts with ports, nothing else', () => {
    expect(parseHostHeader('Trust.Example.COM')).toBe('trust.example.com');
    expect(parseHostHeader('trust.example.com:8443')).toBe('trust.example.com:8443');
    expect(parseHostHeader('[2001:db8::1]:443')).toBe('[2001:db8::1]:443');
    expect(parseHostHeader('192.0.2.1')).toBe('192.0.2.1');
    for (const bad of [
      '',
      'a b',
      'evil.com/path',
      'user@evil.com',
      'evil.com:99999',
      '-bad.com',
      'a..b',
      '[zz::1]',
      'x.com:1:2',
    ]) {
      expect(parseHostHeader(bad), bad).toBeUndefined();
    }
  });
});

describe('who the client is', () => {
  const proxies = [cidr('10.0.0.0/8'), cidr('fd00::/8')];
  const none = { forwardedFor: undefined, forwardedProto: undefined, forwardedHost: undefined };
  const peer = (address: string, encrypted = false) => ({ address, encrypted });

  it('is the socket, over the socket’s scheme, when no proxy is trusted', () => {
    const headers = { forwardedFor: '198.51.100.7', forwardedProto: 'https', forwardedHost: 'evil.example' };
    expect(viewOfClient(peer('203.0.113.5'), headers, [])).toEqual({ ip: '203.0.113.5', scheme: 'http', host: undefined });
    expect(viewOfClient(peer('10.0.0.2', true), headers, [])).toEqual({ ip: '10.0.0.2', scheme: 'https', host: undefined });
  });

  it('is the socket when the peer is not one of the trusted proxies', () => {
    const headers = { forwardedFor: '198.51.100.7', forwardedProto: 'https', forwardedHost: 'evil.example' };
    expect(viewOfClient(peer('203.0.113.5'), headers, proxies)).toEqual({ ip: '203.0.113.5', scheme: 'http', host: undefined });
  });

  it('is the right-most untrusted hop, so addresses a client writes itself are never believed', () => {
    const view = viewOfClient(peer('10.0.0.2'), { ...none, forwardedFor: '1.1.1.1, 198.51.100.7, 10.0.0.9' }, proxies);
    expect(view.ip).toBe('198.51.100.7');
  });

  it('reads IPv6 and IPv4-mapped peers and hops', () => {
    expect(viewOfClient(peer('::ffff:10.0.0.2'), { ...none, forwardedFor: '2001:db8::7' }, proxies).ip).toBe('2001:db8::7');
    expect(viewOfClient(peer('fd00::2'), { ...none, forwardedFor: '[2001:db8::7]:5000, fd00::3' }, proxies).ip).toBe(
      '2001:db8::7',
    );
    expect(viewOfClient(peer('::ffff:203.0.113.5'), none, proxies).ip).toBe('203.0.113.5');
  });

  it('stops at the last address it can vouch for when a hop is malformed', () => {
    expect(viewOfClient(peer('10.0.0.2'), { ...none, forwardedFor: '198.51.100.7, garbage, 10.0.0.9' }, proxies).ip).toBe(
      '10.0.0.9',
    );
    expect(viewOfClient(peer('10.0.0.2'), { ...none, forwardedFor: 'garbage' }, proxies).ip).toBe('10.0.0.2');
    expect(viewOfClient(peer('10.0.0.2'), { ...none, forwardedFor: '' }, proxies).ip).toBe('10.0.0.2');
    expect(viewOfClient(peer('10.0.0.2'), { ...none, forwardedFor: ',,,' }, proxies).ip).toBe('10.0.0.2');
  });

  it('is the proxy itself when the header names only trusted proxies', () => {
    expect(viewOfClient(peer('10.0.0.2'), { ...none, forwardedFor: '10.0.0.8, 10.0.0.9' }, proxies).ip).toBe('10.0.0.8');
  });

  it('believes a trusted proxy’s scheme and host, and ignores values that are not one', () => {
    const trusted = viewOfClient(
      peer('10.0.0.2'),
      { forwardedFor: '198.51.100.7', forwardedProto: 'HTTPS', forwardedHost: 'Trust.Example.com' },
      proxies,
    );
    expect(trusted).toEqual({ ip: '198.51.100.7', scheme: 'https', host: 'trust.example.com' });
    const junk = viewOfClient(
      peer('10.0.0.2'),
      { forwardedFor: undefined, forwardedProto: 'gopher', forwardedHost: 'a b' },
      proxies,
    );
    expect(junk).toEqual({ ip: '10.0.0.2', scheme: 'http', host: undefined });
  });

  it('takes the scheme the client-facing proxy reported when each proxy appended its own', () => {
    // client → edge (https) → 10.0.0.9 (http from the edge) → 10.0.0.2 (http) → Candor
    const view = viewOfClient(
      peer('10.0.0.2'),
      { forwardedFor: '198.51.100.7, 10.0.0.9', forwardedProto: 'https, http', forwardedHost: undefined },
      proxies,
    );
    expect(view).toEqual({ ip: '198.51.100.7', scheme: 'https', host: undefined });
  });

  it('treats a request made in-process as coming from loopback, keeping the URL’s scheme', () => {
    expect(viewOfClient({ address: undefined, encrypted: undefined }, none, proxies)).toEqual({
      ip: '127.0.0.1',
      scheme: undefined,
      host: undefined,
    });
  });
});

// Through the whole app: the address recorded in the audit trail, the tenant chosen by host, the cookie.
describe('client address and URL through the app', () => {
  let plain: TestApp;
  let proxied: TestApp;

  beforeAll(async () => {
    plain = await createTestApp();
    proxied = await createTestApp({ config: { trustedProxies: [cidr('10.0.0.0/8')] } });
  });
  afterAll(async () => {
    await plain?.close();
    await proxied?.close();
  });

  /** A request arriving on a real socket from `remoteAddress` (how @hono/node-server hands it to Hono). */
  function fromSocket(t: TestApp, url: string, remoteAddress: string, init: RequestInit = {}, encrypted = false) {
    return t.app.request(url, init, { incoming: { socket: { remoteAddress, encrypted } } });
  }

  async function failSignInFrom(t: TestApp, remoteAddress: string, headers: Record<string, string>): Promise<void> {
    const response = await fromSocket(t, 'http://acme.test/admin/login', remoteAddress, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ email: 'nobody@acme.test', password: 'wrong password here' }).toString(),
    });
    expect(response.status).toBe(401);
  }

  async function lastFailedSignInIp(t: TestApp): Promise<string | null> {
    const token = await t.apiToken('owner');
    const response = await t.request('/api/v1/audit/events?action=session.sign_in_failed&pageSize=1', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: { ip: string | null }[] };
    return items[0]?.ip ?? null;
  }

  it('ignores X-Forwarded-For when no proxy is trusted: the socket is the client', async () => {
    await failSignInFrom(plain, '203.0.113.5', { 'x-forwarded-for': '198.51.100.7' });
    expect(await lastFailedSignInIp(plain)).toBe('203.0.113.5');
  });

  it('records an IPv4-mapped socket address as IPv4', async () => {
    await failSignInFrom(plain, '::ffff:203.0.113.6', {});
    expect(await lastFailedSignInIp(plain)).toBe('203.0.113.6');
  });

  it('ignores X-Forwarded-For from a peer outside CANDOR_TRUST_PROXY', async () => {
    await failSignInFrom(proxied, '203.0.113.5', { 'x-forwarded-for': '198.51.100.7' });
    expect(await lastFailedSignInIp(proxied)).toBe('203.0.113.5');
  });

  it('believes X-Forwarded-For from a trusted proxy, taking the right-most untrusted hop', async () => {
    await failSignInFrom(proxied, '10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 198.51.100.9, 10.1.1.1' });
    expect(await lastFailedSignInIp(proxied)).toBe('198.51.100.9');
  });

  it('falls back to the proxy’s address when its X-Forwarded-For is malformed', async () => {
    await failSignInFrom(proxied, '10.0.0.3', { 'x-forwarded-for': 'not-an-address' });
    expect(await lastFailedSignInIp(proxied)).toBe('10.0.0.3');
  });

  it('sends HSTS only over TLS or when a trusted proxy reports https', async () => {
    const hsts = (r: Response) => r.headers.get('strict-transport-security');
    expect(hsts(await fromSocket(plain, 'http://acme.test/', '203.0.113.5'))).toBeNull();
    expect(hsts(await fromSocket(plain, 'https://acme.test/', '203.0.113.5', {}, true))).toBe(
      'max-age=31536000; includeSubDomains',
    );
    // An absolute-form request line claiming https over a plain socket is still plain.
    expect(hsts(await fromSocket(plain, 'https://acme.test/', '203.0.113.5', {}, false))).toBeNull();
    const spoofed = { headers: { 'x-forwarded-proto': 'https' } };
    expect(hsts(await fromSocket(plain, 'http://acme.test/', '10.0.0.2', spoofed))).toBeNull();
    expect(hsts(await fromSocket(proxied, 'http://acme.test/', '203.0.113.5', spoofed))).toBeNull();
    expect(hsts(await fromSocket(proxied, 'http://acme.test/', '10.0.0.2', spoofed))).toBe('max-age=31536000; includeSubDomains');
  });

  it('chooses the tenant by a trusted proxy’s X-Forwarded-Host, and only a trusted one', async () => {
    const headers = { 'x-forwarded-host': 'acme.test', 'x-forwarded-proto': 'https' };
    const viaProxy = await fromSocket(proxied, 'http://127.0.0.1:3000/', '10.0.0.2', { headers });
    expect(viaProxy.status).toBe(200);
    expect(await viaProxy.text()).toContain('Acme Corp');
    expect((await fromSocket(proxied, 'http://127.0.0.1:3000/', '203.0.113.5', { headers })).status).toBe(404);
    expect((await fromSocket(plain, 'http://127.0.0.1:3000/', '10.0.0.2', { headers })).status).toBe(404);
  });

  it('accepts a same-origin form posted through the proxy, the Origin being the public https one', async () => {
    const response = await fromSocket(proxied, 'http://127.0.0.1:3000/admin/login', '10.0.0.4', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://acme.test',
        'x-forwarded-host': 'acme.test',
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '198.51.100.20',
      },
      body: new URLSearchParams({ email: 'nobody@acme.test', password: 'wrong password here' }).toString(),
    });
    // Refused for the password, not as a cross-site request (403).
    expect(response.status).toBe(401);
  });

  it('gives a __Host- session cookie when a trusted proxy reports https, a plain one otherwise', async () => {
    const owner = await proxied.signInAsOwner();
    const signIn = (remoteAddress: string) =>
      fromSocket(proxied, 'http://acme.test/admin/login', remoteAddress, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
        body: new URLSearchParams({ email: owner.email, password: 'correct horse battery staple' }).toString(),
      });
    const viaProxy = await signIn('10.0.0.5');
    expect(viaProxy.status).toBe(303);
    expect(viaProxy.headers.get('set-cookie')).toMatch(/^__Host-candor_session=[^;]+;.*Secure/);
    const direct = await signIn('203.0.113.50');
    expect(direct.status).toBe(303);
    expect(direct.headers.get('set-cookie')).toMatch(/^candor_session=/);
    expect(direct.headers.get('set-cookie')).not.toMatch(/Secure/);
  });
});
