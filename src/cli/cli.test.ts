import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCandor, startCandor, tempDataDir, waitForOutput } from '../../test/cli.ts';
import { openTestDatabase, testEngine } from '../../test/db.ts';

// These start real processes on the embedded engine; the engine matrix adds nothing but time.
const onPglite = describe.skipIf(testEngine !== 'pglite');

onPglite('invalid settings', () => {
  it.each([
    [{ PORT: 'eighty' }, /^candor: PORT: must be a whole number/],
    [{ PORT: '70000' }, /^candor: PORT: must be between 0 and 65535/],
    [{ DATABASE_URL: 'mysql://nope' }, /^candor: DATABASE_URL: must be a postgres:\/\//],
    [{ SMTP_URL: 'http://mail' }, /^candor: SMTP_URL: must be an smtp/],
  ])('exits non-zero with one line naming the variable (%o)', async (env, message) => {
    const result = await runCandor(['start'], { CANDOR_DATA_DIR: tempDataDir(), ...env });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('refuses a data directory it cannot write', async () => {
    const parent = tempDataDir();
    writeFileSync(`${parent}-file`, 'not a directory');
    const result = await runCandor(['start'], { CANDOR_DATA_DIR: path.join(`${parent}-file`, 'data') });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^candor: CANDOR_DATA_DIR: .* is not writable \(ENOTDIR\)$/);
  });

  it('explains an unknown command or flag', async () => {
    const unknown = await runCandor(['frobnicate'], {});
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const flag = await runCandor(['tenant', 'create', '--colour', 'red'], { CANDOR_DATA_DIR: tempDataDir() });
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/--colour/);
  });

  it('prints help for every command', async () => {
    for (const args of [['--help'], ['start', '--help'], ['tenant', 'create', '--help'], ['token', 'create', '--help']]) {
      const result = await runCandor(args, {});
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('candor');
    }
  });
});

onPglite('the data directory lock', () => {
  it('refuses a second server on the same data directory, naming the owner’s PID', async () => {
    const dataDir = tempDataDir();
    const first = await startCandor({ dataDir });
    try {
      const second = await runCandor(['start'], { CANDOR_DATA_DIR: dataDir, PORT: '0' });
      expect(second.code).toBe(1);
      expect(second.stderr.trim()).toBe(`candor: data directory ${dataDir} is in use by process ${first.pid}`);
    } finally {
      expect(await first.stop()).toEqual({ code: 0, signal: null });
    }
  });

  it('takes over a lock left by a process that died, keeping what it acknowledged', async () => {
    const dataDir = tempDataDir();
    const first = await startCandor({ dataDir });
    const created = await runCandor(['tenant', 'create', '--slug', 'survivor', '--name', 'Survivor', '--host', 'survivor.test'], {
      CANDOR_DATA_DIR: dataDir,
    });
    expect(created.code).toBe(0);
    await first.stop('SIGKILL');
    const second = await startCandor({ dataDir });
    try {
      const list = await runCandor(['tenant', 'list'], { CANDOR_DATA_DIR: dataDir });
      expect(list.stdout).toContain('survivor\tSurvivor\tsurvivor.test');
    } finally {
      await second.stop();
    }
  });
});

onPglite('commands beside a running server', () => {
  it('reach the server through its control socket and work against it', async () => {
    const dataDir = tempDataDir();
    const server = await startCandor({ dataDir });
    try {
      const tenant = await runCandor(['tenant', 'create', '--slug', 'globex', '--name', 'Globex', '--host', 'globex.test'], {
        CANDOR_DATA_DIR: dataDir,
      });
      expect(tenant.code).toBe(0);
      expect(tenant.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
      expect(tenant.stderr).toMatch(/http:\/\/globex\.test:\d+\/setup\/[A-Za-z0-9_-]{43}/);

      const token = await runCandor(
        ['token', 'create', '--tenant', 'globex', '--role', 'owner', '--name', 'ci', '--expires', '30d'],
        {
          CANDOR_DATA_DIR: dataDir,
        },
      );
      expect(token.code).toBe(0);
      const secret = token.stdout.trim();
      expect(secret).toMatch(/^cnd_[A-Za-z0-9_-]{43}$/);
      const me = await getWithHost(`${server.url}/api/v1/me`, 'globex.test', { authorization: `Bearer ${secret}` });
      expect(me.status).toBe(200);
      expect(JSON.parse(me.body)).toMatchObject({ roles: [], tenant: { slug: 'globex' } });
      expect(JSON.parse(me.body).permissions).toContain('roles.manage');

      const refused = await runCandor(['token', 'create', '--tenant', 'nobody', '--role', 'owner', '--name', 'x'], {
        CANDOR_DATA_DIR: dataDir,
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim()).toBe('candor: tenant nobody was not found');
      const badRole = await runCandor(['token', 'create', '--tenant', 'globex', '--role', 'emperor', '--name', 'x'], {
        CANDOR_DATA_DIR: dataDir,
      });
      expect(badRole.code).toBe(1);
      expect(badRole.stderr.trim()).toMatch(
        /^candor: --role: unknown role "emperor"; valid roles: owner, security-admin, .*, employee$/,
      );
    } finally {
      await server.stop();
    }
  });

  it('open the data directory themselves when no server runs', async () => {
    const dataDir = tempDataDir();
    const created = await runCandor(['tenant', 'create', '--slug', 'solo', '--name', 'Solo'], { CANDOR_DATA_DIR: dataDir });
    expect(created.code).toBe(0);
    const duplicate = await runCandor(['tenant', 'create', '--slug', 'solo', '--name', 'Solo again', '--host', 'solo.test'], {
      CANDOR_DATA_DIR: dataDir,
    });
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr.trim()).toBe('candor: a tenant with slug "solo" already exists');
    const list = await runCandor(['tenant', 'list'], { CANDOR_DATA_DIR: dataDir });
    expect(list.stdout.trim()).toBe('solo\tSolo\t(any host)');
  });
});

onPglite('start and stop', () => {
  it('prints a setup link on first start that creates the owner', async () => {
    const server = await startCandor();
    try {
      const [, link] = await waitForOutput(server, /(\/setup\/[A-Za-z0-9_-]{43})/);
      const page = await fetch(`${server.url}${link}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Create the owner account');
      expect((await fetch(`${server.url}/`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('finishes a request that is in flight when SIGTERM arrives', async () => {
    const server = await startCandor();
    const body = 'email=someone%40example.com&password=not-the-right-one';
    const response = new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${server.url}/admin/login`,
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      // The body's rest arrives after the signal: the server must wait for it and answer.
      setTimeout(() => req.end(body.slice(10)), 700);
    });
    await new Promise((r) => setTimeout(r, 200));
    const exited = server.stop('SIGTERM');
    expect(await response).toBe(401);
    expect(await exited).toEqual({ code: 0, signal: null });
  });

  it('creates the demo tenant with --demo', async () => {
    const server = await startCandor({ args: ['--demo'] });
    try {
      const home = await (await fetch(`${server.url}/`)).text();
      expect(home).toContain('Halcyon Ledger');
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(testEngine !== 'postgres')('start on PostgreSQL', () => {
  it('serves from a PostgreSQL server with no lock on the data directory', async () => {
    const database = await openTestDatabase();
    await database.db.close();
    const dataDir = tempDataDir();
    const env = { DATABASE_URL: database.url ?? '' };
    const a = await startCandor({ dataDir, env });
    const b = await startCandor({ dataDir, env, args: ['--no-jobs'] });
    try {
      expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
      const list = await runCandor(['tenant', 'list'], { ...env, CANDOR_DATA_DIR: dataDir });
      expect(list.stdout).toContain('default');
    } finally {
      await a.stop();
      await b.stop();
      await database.drop();
    }
  });
});

function getWithHost(url: string, host: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: { ...headers, host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
