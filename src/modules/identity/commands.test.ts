import http from 'node:http';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCandor, runCandor, startCandor, tempDataDir } from '../../../test/cli.ts';
import { testEngine } from '../../../test/db.ts';
import { passwordFromStdin } from './commands.ts';

// These run the real `candor` executable on the embedded engine; the engine matrix adds nothing but time.
const onPglite = describe.skipIf(testEngine !== 'pglite');

const PASSWORD = 'correct horse battery staple';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request to the running server as the tenant's host (fetch may not set Host). */
function send(url: string, host: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: { ...init.headers, host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('the password read from standard input', () => {
  it('loses one trailing line break and nothing else', () => {
    expect(passwordFromStdin('  spaced out  \n')).toBe('  spaced out  ');
    expect(passwordFromStdin('windows\r\n')).toBe('windows');
    expect(passwordFromStdin('two\n\n')).toBe('two\n');
    expect(passwordFromStdin('')).toBe('');
  });
});

onPglite('candor user create', () => {
  let dataDir: string;
  let server: RunningCandor;
  const env = () => ({ CANDOR_DATA_DIR: dataDir });
  const userCreate = (args: string[], stdin = `${PASSWORD}\n`) =>
    runCandor(['user', 'create', '--tenant', 'acme', ...args], env(), stdin);

  beforeAll(async () => {
    dataDir = tempDataDir();
    const tenant = await runCandor(['tenant', 'create', '--slug', 'acme', '--name', 'Acme', '--host', 'acme.test'], env());
    expect(tenant.code).toBe(0);
    // The first one opens the data directory itself; the others reach the server through its control socket.
    const direct = await userCreate([
      '--email',
      'Ada@Acme.test',
      '--role',
      'security-admin',
      '--name',
      'Ada Lovelace',
      '--password-stdin',
    ]);
    expect(direct.code).toBe(0);
    expect(direct.stderr).toContain('Created ada@acme.test (security-admin) in acme');
    server = await startCandor({ dataDir });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('creates an active person with the role, who signs in and sees what the role allows', async () => {
    const login = await send(`${server.url}/admin/login`, 'acme.test', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://acme.test' },
      body: new URLSearchParams({ email: 'ada@acme.test', password: PASSWORD }).toString(),
    });
    expect(login.status).toBe(303);
    const cookie = /(candor_session=[^;]+)/.exec(String(login.headers['set-cookie']))?.[1] ?? '';
    // Security admins must use two-step sign-in (the default policy): they set up an authenticator app first.
    const gated = await send(`${server.url}/admin/users`, 'acme.test', { headers: { cookie } });
    expect(gated.headers.location).toBe('/admin/account/mfa?required=1');
    const enrol = await send(`${server.url}/admin/account/mfa/totp`, 'acme.test', { headers: { cookie } });
    const secret = /data-totp-secret[^>]*>([A-Z2-7]{32})</.exec(enrol.body)?.[1] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec(enrol.body)?.[1] ?? '';
    const confirmed = await send(`${server.url}/admin/account/mfa/totp`, 'acme.test', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'http://acme.test' },
      body: new URLSearchParams({ _csrf: csrf, secret, code: await generate({ secret }) }).toString(),
    });
    expect(confirmed.status).toBe(200);
    const people = await send(`${server.url}/admin/users`, 'acme.test', { headers: { cookie } });
    expect(people.status).toBe(200);
    expect(people.body).toContain('Ada Lovelace');
    expect(people.body).toContain('Security admin');
    // Proving the second factor changed what the session may do: it came back under a new id, as a browser keeps it.
    const reissued = /(candor_session=[^;]+)/.exec(String(people.headers['set-cookie']))?.[1] ?? '';
    expect(reissued).toMatch(/^candor_session=./);
    expect(reissued).not.toBe(cookie);
    expect((await send(`${server.url}/admin/roles/new`, 'acme.test', { headers: { cookie: reissued } })).status).toBe(403);
  });

  it('prints the new person’s id, and works beside a running server', async () => {
    const res = await userCreate(['--email', 'grace@acme.test', '--role', 'auditor', '--password-stdin']);
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.stderr.trim()).toMatch(
      /^Created grace@acme\.test \(auditor\) in acme; they can sign in at http:\/\/acme\.test.*\/admin\/login$/,
    );
  });

  it('names the valid roles when the role is unknown', async () => {
    const res = await userCreate(['--email', 'eve@acme.test', '--role', 'emperor', '--password-stdin']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(
      'candor: --role: unknown role "emperor"; valid roles: owner, security-admin, privacy-officer, incident-commander, ' +
        'responder, vendor-manager, content-editor, approver, auditor, employee',
    );
  });

  it('refuses an address that already has an account', async () => {
    const res = await userCreate(['--email', 'ADA@acme.test', '--role', 'employee', '--password-stdin']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('candor: a person with the email ada@acme.test already exists');
  });

  it('refuses an empty or short password, a missing --password-stdin and a bad address, each in one line', async () => {
    const cases: [string[], string, string][] = [
      [
        ['--email', 'e1@acme.test', '--role', 'employee', '--password-stdin'],
        '',
        'candor: the password on standard input is empty',
      ],
      [
        ['--email', 'e2@acme.test', '--role', 'employee', '--password-stdin'],
        'short\n',
        'candor: password: use at least 12 characters (a short phrase works well)',
      ],
      [
        ['--email', 'e4@acme.test', '--role', 'employee', '--password-stdin'],
        'Password2024!\n',
        'candor: password: this password is on a list of common or breached passwords; choose another',
      ],
      [
        ['--email', 'ada.lovelace@acme.test', '--role', 'employee', '--password-stdin'],
        'lovelace-acme-2026\n',
        'candor: password: this password leans on your email, the organisation’s name or “candor”; choose something else',
      ],
      [
        ['--email', 'e3@acme.test', '--role', 'employee'],
        PASSWORD,
        'candor: --password-stdin is required: pipe the password on standard input',
      ],
      [
        ['--email', 'not-an-address', '--role', 'employee', '--password-stdin'],
        PASSWORD,
        'candor: --email enter a valid email address',
      ],
    ];
    for (const [args, stdin, message] of cases) {
      const res = await userCreate(args, stdin);
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stderr.trim()).toBe(message);
    }
    const list = await runCandor(['tenant', 'list'], env());
    expect(list.code).toBe(0);
    // Six commands, each hashing or refusing a password: more than the default on a busy machine.
  }, 120_000);

  it('gives a token exactly the permissions asked for, or a role’s as a shortcut', async () => {
    const token = (args: string[]) => runCandor(['token', 'create', '--tenant', 'acme', '--name', 'ci', ...args], env());
    const scoped = await token(['--permission', 'audit.read', '--permission', 'alerts.read']);
    expect(scoped.code).toBe(0);
    expect(scoped.stderr).toContain('(2 permissions)');
    const me = await send(`${server.url}/api/v1/me`, 'acme.test', {
      headers: { authorization: `Bearer ${scoped.stdout.trim()}` },
    });
    expect(JSON.parse(me.body).permissions).toEqual(['audit.read', 'alerts.read']);

    const byRole = await token(['--role', 'responder']);
    expect(byRole.code).toBe(0);
    const meByRole = await send(`${server.url}/api/v1/me`, 'acme.test', {
      headers: { authorization: `Bearer ${byRole.stdout.trim()}` },
    });
    expect(JSON.parse(meByRole.body).permissions).toEqual(['audit.read', 'alerts.read']);

    const unknown = await token(['--permission', 'galaxy.rule']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toMatch(/^candor: --permission galaxy\.rule is not a permission; valid: users\.read, /);
    const neither = await token([]);
    expect(neither.code).toBe(1);
    expect(neither.stderr.trim()).toBe('candor: give --permission (one or more) or --role');
  });
});
