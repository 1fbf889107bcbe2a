import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCandor, startCandor } from '../../../test/cli.ts';
import { databaseUrl, testEngine } from '../../../test/db.ts';
import { TEST_MASTER_KEY_BASE64 } from '../../../test/keys.ts';
import { type Config, ensureDataDir, loadConfig } from '../../config.ts';
import { withAbsolutePaths } from '../../platform/cli/command.ts';
import type { Actor } from '../../platform/context.ts';
import { closeRuntime, createRuntime } from '../../runtime.ts';
import { createApiToken } from '../identity/service.ts';
import { createTenant } from '../tenants/service.ts';
import { backupsCommands } from './commands.ts';

// The whole round trip through the real `candor` executable: back up a running installation, damage a
// copy (verify names the part), restore a good copy into a fresh place, and start Candor on it.

const postgres = testEngine === 'postgres';
const ACTOR: Actor = { kind: 'system', name: 'cli' };
const content = randomBytes(200_000);
let work: string;
const databases: string[] = [];

async function freshDatabase(): Promise<string> {
  const base = process.env.TEST_DATABASE_URL as string;
  const name = `candor_cli_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  databases.push(name);
  return databaseUrl(base, name);
}

interface Install {
  dataDir: string;
  url: string | undefined;
  env: Record<string, string>;
  config: Config;
}

async function install(name: string): Promise<Install> {
  const dataDir = path.join(work, name);
  const url = postgres ? await freshDatabase() : undefined;
  const env: Record<string, string> = {
    CANDOR_DATA_DIR: dataDir,
    ...(url ? { DATABASE_URL: url, CANDOR_MASTER_KEY: TEST_MASTER_KEY_BASE64 } : {}),
  };
  return { dataDir, url, env, config: loadConfig(env) };
}

/** A tenant with an API token and a stored file, written the way the product writes them. */
async function populate(target: Install): Promise<{ tenantId: string; blobId: string; token: string }> {
  ensureDataDir(target.dataDir);
  const runtime = await createRuntime(target.config, { log: pino({ level: 'silent' }) });
  try {
    const tenant = await createTenant(
      runtime.db,
      { slug: 'restored-co', name: 'Restored Company', hosts: [] },
      { audit: runtime.audit, actor: ACTOR },
    );
    const { token } = await createApiToken(runtime, { tenantId: tenant.id, actor: ACTOR }, { name: 'round trip', role: 'owner' });
    const blob = await runtime.db.withTenant(tenant.id, (tx) =>
      runtime.blobs.put(tx, tenant.id, content, {
        category: 'evidence',
        contentType: 'application/octet-stream',
        filename: 'proof.bin',
      }),
    );
    return { tenantId: tenant.id, blobId: blob.id, token };
  } finally {
    await closeRuntime(runtime);
  }
}

async function readBlob(target: Install, tenantId: string, blobId: string): Promise<Buffer> {
  const runtime = await createRuntime(target.config, { log: pino({ level: 'silent' }) });
  try {
    return (await runtime.db.withTenant(tenantId, (tx) => runtime.blobs.get(tx, tenantId, blobId))).content;
  } finally {
    await closeRuntime(runtime);
  }
}

/** An environment for commands that must not find any configured key or data directory by accident. */
function bareEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { CANDOR_DATA_DIR: path.join(work, 'elsewhere'), ...extra };
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'candor-backup-cli-'));
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (databases.length === 0) return;
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  for (const name of databases) await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
});

describe('backup → corrupt → verify → restore → serve', () => {
  let source: Install;
  let made: { tenantId: string; blobId: string; token: string };
  let archive: string;
  let keyFile: string;

  beforeAll(async () => {
    source = await install('source');
    made = await populate(source);
    keyFile = postgres ? path.join(work, 'master.key') : path.join(source.dataDir, 'master.key');
    if (postgres) writeFileSync(keyFile, `${TEST_MASTER_KEY_BASE64}\n`, { mode: 0o600 });
  }, 120_000);

  it('backs up a running installation (through its control socket on PGlite) and prints where', async () => {
    const server = await startCandor({ dataDir: source.dataDir, env: source.url ? { DATABASE_URL: source.url } : {} });
    try {
      const result = await runCandor(['backup', '--to', path.join(work, 'archives')], source.env);
      expect(result.stderr).not.toContain('candor:');
      expect(result.code).toBe(0);
      archive = result.stdout.trim();
      expect(archive).toMatch(/\/archives\/candor-backup-\d{8}T\d{6}Z-[0-9a-f]{8}\.cbk$/);
      expect(result.stderr).toMatch(/Backup [0-9a-f-]{36}: [\d.]+ (KiB|MiB), 1 blobs, digest [0-9a-f]{16}…/);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('verifies the archive anywhere, with or without the master key', async () => {
    const keyed = await runCandor(['backup', 'verify', archive, '--master-key-file', keyFile], bareEnv());
    expect(keyed.code).toBe(0);
    expect(keyed.stdout).toMatch(/: OK: \d+ parts, 1 blobs, .*manifest authenticated with the master key/);
    const bare = await runCandor(['backup', 'verify', archive], bareEnv());
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('manifest NOT authenticated (no master key given)');
  }, 60_000);

  it('fails verification of a copy with one byte changed, naming the part', async () => {
    const damaged = path.join(work, 'damaged.cbk');
    const bytes = readFileSync(archive);
    const part = `blobs/${made.tenantId}/${made.blobId}`;
    const at = bytes.indexOf(Buffer.from(part)) + part.length + 100_000;
    bytes[at] = (bytes[at] ?? 0) ^ 0x20;
    writeFileSync(damaged, bytes);
    const result = await runCandor(['backup', 'verify', damaged], bareEnv());
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`candor: ${damaged}: FAILED: part ${part}: SHA-256 mismatch`);
  }, 60_000);

  it('fails verification of a truncated copy, naming the part where it ends', async () => {
    const truncated = path.join(work, 'truncated.cbk');
    const bytes = readFileSync(archive);
    const part = `blobs/${made.tenantId}/${made.blobId}`;
    writeFileSync(truncated, bytes.subarray(0, bytes.indexOf(Buffer.from(part)) + 50_000));
    const result = await runCandor(['backup', 'verify', truncated], bareEnv());
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`candor: ${truncated}: FAILED: truncated at part ${part}`);
  }, 60_000);

  it('refuses to restore into a non-empty target and leaves it as it was', async () => {
    const before = readdirSync(source.dataDir).sort();
    const args = postgres ? ['--database-url', source.url as string] : ['--into', source.dataDir];
    const result = await runCandor(['restore', archive, ...args, '--master-key-file', keyFile], bareEnv());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/candor: (database .* is not empty \(it has \w+\.\w+|.* is not empty \(it holds )/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(source.dataDir).sort()).toEqual(before);
  }, 60_000);

  it('refuses a master key that is not the backup’s own', async () => {
    const otherKey = path.join(work, 'other.key');
    writeFileSync(otherKey, `${Buffer.alloc(32, 1).toString('base64')}\n`);
    const target = postgres ? ['--database-url', await freshDatabase()] : ['--into', path.join(work, 'never')];
    const result = await runCandor(['restore', archive, ...target, '--master-key-file', otherKey], bareEnv());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^candor: this backup was made with master key [0-9a-f]{16}; the key from .*other\.key is [0-9a-f]{16}\n$/,
    );
    expect(existsSync(path.join(work, 'never'))).toBe(false);
  }, 60_000);

  it('restores a good backup into a fresh place, and Candor serves the restored data', async () => {
    const target = await install('restored');
    const into = postgres ? ['--database-url', target.url as string] : ['--into', target.dataDir];
    const result = await runCandor(
      ['restore', archive, ...into, '--master-key-file', keyFile],
      postgres ? { CANDOR_DATA_DIR: target.dataDir } : bareEnv(),
    );
    expect(result.stderr).not.toContain('candor:');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Restored backup [0-9a-f-]{36} .* in [\d.]+ s: \d+ tables with row counts matching the backup, 1 blobs/,
    );
    if (!postgres) expect(readFileSync(path.join(target.dataDir, 'master.key'), 'utf8')).toBe(readFileSync(keyFile, 'utf8'));

    const server = await startCandor({ dataDir: target.dataDir, env: target.url ? { DATABASE_URL: target.url } : {} });
    try {
      const home = await fetch(`${server.url}/`);
      expect(await home.text()).toContain('Restored Company');
      const events = await fetch(`${server.url}/api/v1/audit/events`, { headers: { authorization: `Bearer ${made.token}` } });
      expect(events.status).toBe(200);
      const body = (await events.json()) as { items: { action: string }[] };
      expect(body.items.map((e) => e.action)).toEqual(expect.arrayContaining(['tenant.created', 'api_token.created']));
    } finally {
      await server.stop();
    }
    expect((await readBlob(target, made.tenantId, made.blobId)).equals(content)).toBe(true);
  }, 180_000);
});

describe('backup commands', () => {
  it('explain themselves with --help', async () => {
    for (const command of [['backup'], ['backup', 'verify'], ['restore']]) {
      const result = await runCandor([...command, '--help'], bareEnv());
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`candor ${command.join(' ')}`);
    }
  }, 60_000);

  it('fail with a one-line reason on bad input', async () => {
    const missing = await runCandor(['backup', 'verify', path.join(work, 'nothing.cbk')], bareEnv());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`candor: ${path.join(work, 'nothing.cbk')} does not exist\n`);
    const noTarget = await runCandor(['restore', path.join(work, 'nothing.cbk')], bareEnv());
    expect(noTarget.stderr).toBe('candor: give the target: --into DATA_DIR (embedded) or --database-url URL (PostgreSQL)\n');
    const both = await runCandor(['restore', 'x.cbk', '--into', 'a', '--database-url', 'postgres://x@y/z'], bareEnv());
    expect(both.stderr).toBe('candor: give either --into DATA_DIR or --database-url URL, not both\n');
    const notBackup = path.join(work, 'not-a-backup.cbk');
    writeFileSync(notBackup, 'plain text');
    const garbage = await runCandor(['backup', 'verify', notBackup], bareEnv());
    expect(garbage.stderr).toBe(`candor: ${notBackup}: FAILED: not a Candor backup (its header is missing or wrong)\n`);
  }, 60_000);

  it('makes --to absolute against the caller’s directory before a server runs the command', () => {
    const backup = backupsCommands.find((c) => c.name === 'backup');
    if (!backup) throw new Error('no backup command');
    expect(withAbsolutePaths(backup, ['backup', '--to', 'archives'], '/home/ops')).toEqual([
      'backup',
      '--to',
      '/home/ops/archives',
    ]);
    expect(withAbsolutePaths(backup, ['backup', '--to=../x'], '/home/ops')).toEqual(['backup', '--to=/home/x']);
    expect(withAbsolutePaths(backup, ['backup', '--to', 's3://bucket/prefix'], '/home/ops')).toEqual([
      'backup',
      '--to',
      's3://bucket/prefix',
    ]);
  });
});
