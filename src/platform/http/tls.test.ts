import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestIgnoringCertificate, runCandor, sleep, startCandor, tempDataDir } from '../../../test/cli.ts';
import { testEngine } from '../../../test/db.ts';
import { ConfigError, loadConfig } from '../../config.ts';
import { ensureSelfSignedCertificate, TLS12_CIPHERS, tlsServerOptions } from './tls.ts';

const HSTS = 'max-age=31536000; includeSubDomains';

interface TestCertificate {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  fingerprint: string;
}

/** An RSA certificate for localhost written to `dir` (RSA, so that RSA-only cipher suites are on offer). */
async function writeTestCertificate(dir: string, name = 'server', keySize = 2048): Promise<TestCertificate> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'rsa',
    keySize,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  writeFileSync(certFile, pems.cert);
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  return { certFile, keyFile, cert: pems.cert, key: pems.private, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}

function configError(env: Record<string, string>, options = {}): string {
  try {
    loadConfig({ CANDOR_DATA_DIR: tempDataDir(), ...env }, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

let dir: string;
let pair: TestCertificate;
let other: TestCertificate;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'candor-tls-'));
  pair = await writeTestCertificate(dir, 'server');
  other = await writeTestCertificate(dir, 'other');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS server settings', () => {
  it('allow TLS 1.2 and 1.3 only, and for 1.2 only ECDHE key exchange with AEAD ciphers', () => {
    const options = tlsServerOptions(pair);
    expect(options.minVersion).toBe('TLSv1.2');
    expect(options.maxVersion).toBe('TLSv1.3');
    expect(options.honorCipherOrder).toBe(true);
    for (const cipher of TLS12_CIPHERS)
      expect(cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(options.ciphers?.split(':').filter((c) => !c.startsWith('TLS_'))).toEqual(TLS12_CIPHERS);
  });
});

describe('TLS settings in the environment', () => {
  it('serves HTTPS with a readable, matching certificate and key, and defaults the public URL to https', () => {
    const config = loadConfig({ PORT: '8443', CANDOR_TLS_CERT: pair.certFile, CANDOR_TLS_KEY: pair.keyFile });
    expect(config.tls).toEqual({ certFile: pair.certFile, keyFile: pair.keyFile, selfSigned: false });
    expect(config.publicUrl).toBe('https://localhost:8443');
    expect(loadConfig({}).tls).toBeUndefined();
    expect(loadConfig({}).publicUrl).toBe('http://localhost:3000');
  });

  it('needs both files or neither', () => {
    expect(configError({ CANDOR_TLS_CERT: pair.certFile })).toMatch(/^CANDOR_TLS_KEY: must be set with CANDOR_TLS_CERT/);
    expect(configError({ CANDOR_TLS_KEY: pair.keyFile })).toMatch(/^CANDOR_TLS_CERT: must be set with CANDOR_TLS_KEY/);
  });

  it('names the file that is missing, unreadable, or not what it should be', () => {
    const missing = path.join(dir, 'nope.crt');
    expect(configError({ CANDOR_TLS_CERT: missing, CANDOR_TLS_KEY: pair.keyFile })).toBe(
      `CANDOR_TLS_CERT: ${missing} does not exist`,
    );
    expect(configError({ CANDOR_TLS_CERT: dir, CANDOR_TLS_KEY: pair.keyFile })).toMatch(/^CANDOR_TLS_CERT: .* is a directory/);
    expect(configError({ CANDOR_TLS_CERT: pair.keyFile, CANDOR_TLS_KEY: pair.keyFile })).toMatch(
      /^CANDOR_TLS_CERT: .*server\.key holds no PEM certificate$/,
    );
    expect(configError({ CANDOR_TLS_CERT: pair.certFile, CANDOR_TLS_KEY: pair.certFile })).toMatch(
      /^CANDOR_TLS_KEY: .*server\.crt holds no PEM private key$/,
    );
    const garbled = path.join(dir, 'garbled.crt');
    writeFileSync(garbled, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    expect(configError({ CANDOR_TLS_CERT: garbled, CANDOR_TLS_KEY: pair.keyFile })).toMatch(/cannot be parsed$/);
  });

  it.skipIf(process.getuid?.() === 0)('says when a file cannot be read', () => {
    const locked = path.join(dir, 'locked.key');
    writeFileSync(locked, pair.key, { mode: 0o000 });
    expect(configError({ CANDOR_TLS_CERT: pair.certFile, CANDOR_TLS_KEY: locked })).toBe(
      `CANDOR_TLS_KEY: ${locked} is not readable (EACCES)`,
    );
  });

  it('refuses a key that is not the certificate’s', () => {
    expect(configError({ CANDOR_TLS_CERT: pair.certFile, CANDOR_TLS_KEY: other.keyFile })).toBe(
      `CANDOR_TLS_KEY: ${other.keyFile} is not the private key of the certificate in ${pair.certFile}`,
    );
  });

  it('refuses a key protected by a passphrase', () => {
    const encrypted = path.join(dir, 'encrypted.key');
    const pem = createPrivateKey(pair.key).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' });
    writeFileSync(encrypted, pem, { mode: 0o600 });
    expect(configError({ CANDOR_TLS_CERT: pair.certFile, CANDOR_TLS_KEY: encrypted })).toMatch(
      /^CANDOR_TLS_KEY: .* is protected by a passphrase/,
    );
  });

  it('refuses an RSA key shorter than 2048 bits', async () => {
    const weak = await writeTestCertificate(dir, 'weak', 1024);
    expect(configError({ CANDOR_TLS_CERT: weak.certFile, CANDOR_TLS_KEY: weak.keyFile })).toBe(
      `CANDOR_TLS_KEY: ${weak.keyFile} is a 1024-bit RSA key; use 2048 bits or more (or an EC key)`,
    );
  });

  it('refuses a plain-HTTP public URL while serving TLS, and self-signed together with given files', () => {
    expect(
      configError({ CANDOR_TLS_CERT: pair.certFile, CANDOR_TLS_KEY: pair.keyFile, CANDOR_PUBLIC_URL: 'http://trust.example' }),
    ).toMatch(/^CANDOR_PUBLIC_URL: must be https:\/\//);
    expect(configError({ CANDOR_TLS_CERT: pair.certFile, CANDOR_TLS_KEY: pair.keyFile }, { tlsSelfSigned: true })).toMatch(
      /^--tls-self-signed: cannot be combined with CANDOR_TLS_CERT/,
    );
  });

  it('keeps a self-signed trial certificate in <data>/tls', () => {
    const dataDir = tempDataDir();
    const config = loadConfig({ CANDOR_DATA_DIR: dataDir }, { tlsSelfSigned: true });
    expect(config.tls).toEqual({
      certFile: path.join(dataDir, 'tls', 'self-signed-cert.pem'),
      keyFile: path.join(dataDir, 'tls', 'self-signed-key.pem'),
      selfSigned: true,
    });
    expect(config.publicUrl).toBe('https://localhost:3000');
  });

  it('reads CANDOR_TRUST_PROXY as CIDR ranges and refuses a bad one by name', () => {
    expect(loadConfig({ CANDOR_TRUST_PROXY: '127.0.0.1, ::1, 10.0.0.0/8' }).trustedProxies.map((b) => b.text)).toEqual([
      '127.0.0.1/32',
      '::1/128',
      '10.0.0.0/8',
    ]);
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(configError({ CANDOR_TRUST_PROXY: '10.0.0.0/8, proxy.internal' })).toMatch(
      /^CANDOR_TRUST_PROXY: "proxy.internal" is not an IP address or CIDR range/,
    );
    expect(configError({ CANDOR_TRUST_PROXY: '10.0.0.1/8' })).toMatch(/the range is 10\.0\.0\.0\/8/);
  });
});

describe('self-signed trial certificates', () => {
  it('are generated owner-only for the given names, and reused while good', async () => {
    const tlsDir = path.join(dir, 'trial', 'tls');
    const now = new Date();
    const first = await ensureSelfSignedCertificate(tlsDir, ['localhost', '127.0.0.1', '::1'], now);
    expect(first.created).toBe(true);
    expect(statSync(tlsDir).mode & 0o777).toBe(0o700);
    expect(statSync(first.files.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(first.files.certFile).mode & 0o777).toBe(0o600);
    const certificate = new X509Certificate(readFileSync(first.files.certFile));
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkIP('::1')).toBeDefined();
    expect(certificate.ca).toBe(false);

    const again = await ensureSelfSignedCertificate(tlsDir, ['localhost', '127.0.0.1', '::1'], now);
    expect(again).toMatchObject({ created: false, fingerprint: first.fingerprint });

    const renamed = await ensureSelfSignedCertificate(tlsDir, ['localhost', 'trust.example'], now);
    expect(renamed.created).toBe(true);
    expect(renamed.fingerprint).not.toBe(first.fingerprint);

    const nearEnd = new Date(renamed.notAfter.getTime() - 10 * 24 * 60 * 60 * 1000);
    const renewed = await ensureSelfSignedCertificate(tlsDir, ['localhost', 'trust.example'], nearEnd);
    expect(renewed.created).toBe(true);
    expect(renewed.notAfter.getTime()).toBeGreaterThan(renamed.notAfter.getTime());
  });

  it('replace a kept pair that no longer matches', async () => {
    const tlsDir = path.join(dir, 'broken', 'tls');
    const first = await ensureSelfSignedCertificate(tlsDir, ['localhost']);
    writeFileSync(first.files.keyFile, other.key);
    const next = await ensureSelfSignedCertificate(tlsDir, ['localhost']);
    expect(next.created).toBe(true);
  });
});

// --- the real server, checked from outside with Debian's openssl ---------------------------------------

// CI sets CANDOR_REQUIRE_BROWSER=1: there a missing openssl must fail these tests rather than skip them.
const opensslInstalled = spawnSync('openssl', ['version']).status === 0;
const opensslRequired = process.env.CANDOR_REQUIRE_BROWSER === '1' || process.env.CI === 'true';
if (!opensslInstalled && !opensslRequired && testEngine === 'pglite') {
  console.warn('\n!!!!!!!! TLS HANDSHAKE TESTS SKIPPED: openssl is not installed (apt-get install openssl) !!!!!!!!\n');
}
// These start real processes on the embedded engine; the engine matrix adds nothing but time.
const onPglite = describe.skipIf(testEngine !== 'pglite');
const withOpenssl = describe.skipIf(testEngine !== 'pglite' || (!opensslInstalled && !opensslRequired));

interface Handshake {
  ok: boolean;
  protocol: string | undefined;
  cipher: string | undefined;
  /** The TLS alert the server sent, if it refused (70 protocol_version, 40 handshake_failure). */
  alertFromServer: number | undefined;
  output: string;
}

/**
 * One handshake with `openssl s_client`. `alertFromServer` is only set when the client *read* an alert, so a
 * refusal by the client itself (say, its own security level forbidding TLS 1.0) never passes for the server's.
 */
function handshake(port: number, args: string[]): Promise<Handshake> {
  if (!opensslInstalled) throw new Error('openssl is not installed: apt-get install openssl (CI installs it in .ci/run)');
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const negotiated = /^New, (TLSv[\d.]+), Cipher is (\S+)/m.exec(output);
      const alert = /ssl3_read_bytes:[^\n]*SSL alert number (\d+)/.exec(output);
      resolve({
        ok: code === 0 && negotiated !== null,
        protocol: negotiated?.[1],
        cipher: negotiated?.[2],
        alertFromServer: alert ? Number(alert[1]) : undefined,
        output,
      });
    });
  });
}

// The client lowers its own floor so that old versions and suites are really offered to the server.
const ANYTHING_GOES = 'DEFAULT@SECLEVEL=0';

function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}

withOpenssl('HTTPS with CANDOR_TLS_CERT and CANDOR_TLS_KEY', () => {
  let server: Awaited<ReturnType<typeof startCandor>>;
  let files: TestCertificate;

  beforeAll(async () => {
    // A copy the test may overwrite for the reload check.
    const own = path.join(dir, 'served');
    mkdirSync(own, { recursive: true });
    files = await writeTestCertificate(own, 'served');
    server = await startCandor({ tls: files });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses TLS 1.0 and 1.1 with a protocol_version alert from the server', async () => {
    for (const version of ['-tls1', '-tls1_1']) {
      const result = await handshake(server.port, [version, '-cipher', ANYTHING_GOES]);
      expect(result.ok, result.output).toBe(false);
      expect(result.alertFromServer, result.output).toBe(70);
    }
  });

  it('accepts TLS 1.2 and TLS 1.3', async () => {
    const v12 = await handshake(server.port, ['-tls1_2']);
    expect(v12.ok, v12.output).toBe(true);
    expect(v12.protocol).toBe('TLSv1.2');
    expect(v12.cipher).toMatch(/^ECDHE-RSA-(AES\d+-GCM|CHACHA20-POLY1305)/);
    const v13 = await handshake(server.port, ['-tls1_3']);
    expect(v13.ok, v13.output).toBe(true);
    expect(v13.protocol).toBe('TLSv1.3');
  });

  it('refuses TLS 1.2 suites without forward secrecy or without AEAD, and accepts the ECDHE AEAD ones', async () => {
    for (const cipher of [
      'AES128-SHA',
      'AES256-GCM-SHA384',
      'ECDHE-RSA-AES128-SHA256',
      'ECDHE-RSA-AES256-SHA',
      'DHE-RSA-AES128-GCM-SHA256',
    ]) {
      const result = await handshake(server.port, ['-tls1_2', '-cipher', `${cipher}@SECLEVEL=0`]);
      expect(result.ok, `${cipher}: ${result.output}`).toBe(false);
      expect(result.alertFromServer, `${cipher}: ${result.output}`).toBe(40);
    }
    for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
      const result = await handshake(server.port, ['-tls1_2', '-cipher', cipher]);
      expect(result.ok, `${cipher}: ${result.output}`).toBe(true);
      expect(result.cipher).toBe(cipher);
    }
  });

  it('sends HSTS over HTTPS and prints an https setup link that works', async () => {
    const home = await requestIgnoringCertificate(`${server.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers['strict-transport-security']).toBe(HSTS);
    expect(server.setupLink()).toMatch(/^https:\/\/localhost:\d+\/setup\//);
    const setup = await requestIgnoringCertificate(server.setupLink());
    expect(setup.status).toBe(200);
    expect(setup.body).toContain('Create the owner account');
  });

  it('answers nothing to plain HTTP on the TLS port', async () => {
    await expect(requestIgnoringCertificate(`http://127.0.0.1:${server.port}/healthz`, { timeoutMs: 5_000 })).rejects.toThrow();
  });

  it('re-reads the certificate on SIGHUP, and keeps serving the old one when the new files are bad', async () => {
    expect(await peerFingerprint(server.port)).toBe(files.fingerprint);
    writeFileSync(files.certFile, other.cert);
    writeFileSync(files.keyFile, other.key);
    process.kill(server.pid, 'SIGHUP');
    expect(
      await eventually(
        () => peerFingerprint(server.port),
        (f) => f === other.fingerprint,
      ),
    ).toBe(other.fingerprint);

    writeFileSync(files.keyFile, pair.key); // not the key of the certificate now in place
    process.kill(server.pid, 'SIGHUP');
    await sleep(500);
    expect(await peerFingerprint(server.port)).toBe(other.fingerprint);
    expect((await requestIgnoringCertificate(`${server.url}/healthz`)).status).toBe(200);
  });

  it('finishes a request that is in flight over HTTPS when SIGTERM arrives, then exits 0', async () => {
    const body = 'email=someone%40example.com&password=not-the-right-one';
    const response = new Promise<number>((resolve, reject) => {
      const req = https.request(
        `${server.url}/admin/login`,
        {
          method: 'POST',
          rejectUnauthorized: false,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
        },
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
    await sleep(200);
    const exited = server.stop('SIGTERM');
    expect(await response).toBe(401);
    expect(await exited).toEqual({ code: 0, signal: null });
  });
});

onPglite('HTTPS from the command line', () => {
  it('starts with --tls-self-signed, says it is for trials, and reuses the certificate on restart', async () => {
    const dataDir = tempDataDir();
    try {
      const first = await startCandor({ dataDir, tls: 'self-signed' });
      let fingerprint: string;
      try {
        expect(first.output()).toMatch(/TLS: generated a SELF-SIGNED certificate for localhost, 127\.0\.0\.1, ::1/);
        expect(first.output()).toMatch(/for trials only/);
        const home = await requestIgnoringCertificate(`${first.url}/`);
        expect(home.status).toBe(200);
        expect(home.headers['strict-transport-security']).toBe(HSTS);
        fingerprint = await peerFingerprint(first.port);
        expect(statSync(path.join(dataDir, 'tls', 'self-signed-key.pem')).mode & 0o777).toBe(0o600);
      } finally {
        expect(await first.stop()).toEqual({ code: 0, signal: null });
      }
      const second = await startCandor({ dataDir, tls: 'self-signed' });
      try {
        expect(second.output()).toMatch(/TLS: reusing a SELF-SIGNED certificate/);
        expect(await peerFingerprint(second.port)).toBe(fingerprint);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  }, 180_000);

  it('sends no HSTS over plain HTTP, unless a trusted proxy reports https', async () => {
    // The test talks to the server from loopback, so loopback plays the proxy.
    const server = await startCandor({ env: { CANDOR_TRUST_PROXY: '127.0.0.1,::1' } });
    try {
      const home = await requestIgnoringCertificate(`${server.url}/`);
      expect(home.status).toBe(200);
      expect(home.headers['strict-transport-security']).toBeUndefined();
      expect(home.headers['content-security-policy']).toBeDefined();

      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'trust.example', 'x-forwarded-for': '198.51.100.7' };
      const proxied = await requestIgnoringCertificate(`${server.url}/`, { headers: forwarded });
      expect(proxied.status).toBe(200);
      expect(proxied.headers['strict-transport-security']).toBe(HSTS);
      // A form posted through the proxy: the body still arrives, and the https Origin is same-origin.
      const body = 'email=someone%40example.com&password=not-the-right-one';
      const login = await requestIgnoringCertificate(`${server.url}/admin/login`, {
        method: 'POST',
        headers: { ...forwarded, origin: 'https://trust.example', 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(login.status).toBe(401);
      expect(login.body).toContain('do not match');
    } finally {
      await server.stop();
    }
  }, 90_000);

  it('exits with one line naming the setting when the TLS files are wrong', async () => {
    const half = await runCandor(['start'], { CANDOR_DATA_DIR: tempDataDir(), CANDOR_TLS_CERT: pair.certFile });
    expect(half.code).toBe(1);
    expect(half.stderr.trim()).toBe('candor: CANDOR_TLS_KEY: must be set with CANDOR_TLS_CERT (the private key file, PEM)');
    const mismatched = await runCandor(['start'], {
      CANDOR_DATA_DIR: tempDataDir(),
      CANDOR_TLS_CERT: pair.certFile,
      CANDOR_TLS_KEY: other.keyFile,
    });
    expect(mismatched.code).toBe(1);
    expect(mismatched.stderr.trim().split('\n')).toHaveLength(1);
    expect(mismatched.stderr).toMatch(/^candor: CANDOR_TLS_KEY: .* is not the private key of the certificate/);
    const proxy = await runCandor(['start'], { CANDOR_DATA_DIR: tempDataDir(), CANDOR_TRUST_PROXY: '10.0.0.0/33' });
    expect(proxy.code).toBe(1);
    expect(proxy.stderr.trim()).toMatch(/^candor: CANDOR_TRUST_PROXY: "10\.0\.0\.0\/33" needs a prefix length/);
  });
});
