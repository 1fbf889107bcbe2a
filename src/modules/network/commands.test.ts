import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCandor, runCandor, startCandor, tempDataDir } from '../../../test/cli.ts';
import { testEngine } from '../../../test/db.ts';

// These run the real `candor` executable on the embedded engine; the engine matrix adds nothing but time.
const onPglite = describe.skipIf(testEngine !== 'pglite');

interface Answer {
  status: number;
  body: string;
}

/** A request to the running server as the tenant's host, from the loopback address. */
function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: { ...init.headers, host: 'acme.test' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

onPglite('candor allowlist and token create --allow-ip', () => {
  let dataDir: string;
  let server: RunningCandor;
  let token: string;
  const env = () => ({ CANDOR_DATA_DIR: dataDir });
  const candor = (args: string[]) => runCandor(args, env());
  const apiCall = (path: string, init: { method?: string; body?: unknown; bearer?: string } = {}) =>
    send(`${server.url}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${init.bearer ?? token}`, 'content-type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });

  beforeAll(async () => {
    dataDir = tempDataDir();
    expect((await candor(['tenant', 'create', '--slug', 'acme', '--name', 'Acme', '--host', 'acme.test'])).code).toBe(0);
    const created = await candor([
      'token',
      'create',
      '--tenant',
      'acme',
      '--name',
      'ops',
      '--role',
      'owner',
      '--allow-ip',
      '127.0.0.1',
      '--allow-ip',
      '::1',
    ]);
    expect(created.code).toBe(0);
    expect(created.stderr).toContain('usable only from 127.0.0.1/32, ::1/128');
    token = created.stdout.trim();
    server = await startCandor({ dataDir });
    // A fresh data directory, two commands and a server start: slow on a shared machine.
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a bad --allow-ip in one line and creates nothing', async () => {
    const res = await candor([
      'token',
      'create',
      '--tenant',
      'acme',
      '--name',
      'x',
      '--role',
      'auditor',
      '--allow-ip',
      '10.0.0.1/8',
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('candor: --allow-ip "10.0.0.1/8" has bits set after its /8 prefix (the range is 10.0.0.0/8)');
    const tokens = JSON.parse((await apiCall('/api-tokens')).body) as { items: { name: string }[] };
    expect(tokens.items.map((i) => i.name)).toEqual(['ops']);
  });

  it('a token restricted to loopback works from loopback, one restricted elsewhere is refused', async () => {
    expect((await apiCall('/me')).status).toBe(200);
    const elsewhere = await candor([
      'token',
      'create',
      '--tenant',
      'acme',
      '--name',
      'far',
      '--role',
      'auditor',
      '--allow-ip',
      '203.0.113.0/24',
    ]);
    expect(elsewhere.code).toBe(0);
    expect((await apiCall('/me', { bearer: elsewhere.stdout.trim() })).status).toBe(403);
  });

  it('turns a list that locks everyone out off from the command line, at once, recorded', async () => {
    // Through the API (a token is not bound by the back-office list): the back office now admits only 203.0.113.0/24.
    const put = await apiCall('/ip-allowlists/admin', {
      method: 'PUT',
      body: { enabled: true, entries: [{ cidr: '203.0.113.0/24', label: 'office' }] },
    });
    expect(put.status).toBe(200);
    expect((await send(`${server.url}/admin/login`)).status).toBe(403);

    const show = await candor(['allowlist', 'show', '--tenant', 'acme']);
    expect(show.code).toBe(0);
    expect(show.stdout).toBe('admin\ton\t1 entries\n  203.0.113.0/24\toffice\napi\toff\t0 entries\n');

    const disable = await candor(['allowlist', 'disable', '--tenant', 'acme', '--list', 'admin']);
    expect(disable.code).toBe(0);
    expect(disable.stdout.trim()).toBe('The back office allow-list of acme is now off: every address is let in.');
    // The command ran inside the server (control socket), so its cache was dropped at once.
    expect((await send(`${server.url}/admin/login`)).status).toBe(200);

    const again = await candor(['allowlist', 'disable', '--tenant', 'acme', '--list', 'admin']);
    expect(again.stdout.trim()).toBe('The back office allow-list of acme was already off.');
    const trail = JSON.parse((await apiCall('/audit/events?action=ip_allowlist.disabled')).body) as {
      items: { actor: { label: string }; details: Record<string, unknown> }[];
    };
    expect(trail.items).toHaveLength(1);
    expect(trail.items[0]?.details).toEqual({
      list: 'admin',
      before: { enabled: true, entries: [{ cidr: '203.0.113.0/24', label: 'office' }] },
    });
  });

  it('names the valid lists when --list is wrong', async () => {
    const res = await candor(['allowlist', 'disable', '--tenant', 'acme', '--list', 'everything']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('candor: --list must be one of admin, api');
  });
});
