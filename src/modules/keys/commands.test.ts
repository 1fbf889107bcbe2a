import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { testMasterKey } from '../../../test/keys.ts';
import { runDatabaseCommand } from '../../cli/commands.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { bufferedIO } from '../../platform/cli/io.ts';
import { masterKeyFromFile } from '../../platform/crypto/master-key.ts';
import { createRuntime } from '../../runtime.ts';
import { addDestination } from '../siem/service.ts';
import { createTenant } from '../tenants/service.ts';

let t: TestApp;
let dir: string;
let otherId: string;
const context = { table: 'notes', column: 'body', rowId: 'n1' };
let sealedBefore: string;

/** Runs a command as `candor` would with this runtime; resolves to its output, or rejects with its reason. */
async function candor(...argv: string[]): Promise<{ out: string; err: string }> {
  const io = bufferedIO();
  await runDatabaseCommand(t.runtime, argv, io);
  return { out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

async function events(tenantId: string, action: string) {
  return t.runtime.db.withTenant(tenantId, (tx) => searchEvents(tx, { action }, 1000, 0));
}

beforeAll(async () => {
  t = await createTestApp();
  dir = mkdtempSync(path.join(tmpdir(), 'candor-keys-'));
  const system = { kind: 'system' as const, name: 'test' };
  const other = await createTenant(
    t.runtime.db,
    { slug: 'other', name: 'Other', hosts: ['other.test'] },
    { audit: t.runtime.audit, actor: system },
  );
  otherId = other.id;
  for (const tenant of [t.tenant, other]) {
    await addDestination(
      { ...t.runtime, tenant, actor: system, requestId: 'r', ip: '127.0.0.1', userAgent: '' },
      { kind: 'webhook', name: 'hook', url: 'https://siem.example.com/in', secret: 'a webhook secret of enough length' },
    );
    // A checkpoint makes the tenant's (encrypted) audit signing key: two encrypted values per tenant.
    await t.runtime.db.withTenant(tenant.id, (tx) => t.runtime.audit.checkpoint(tx, tenant.id));
  }
  sealedBefore = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
    t.runtime.keys.encrypt(tx, t.tenant.id, 'written under v1', context),
  );
});

afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('candor keys status', () => {
  it('prints the master key id and source, then each tenant’s versions and what is left to re-encrypt', async () => {
    const { out } = await candor('keys', 'status');
    const lines = out.split('\n');
    expect(lines[0]).toBe(`master key ${testMasterKey.id} from test master key`);
    expect(lines).toContainEqual(expect.stringMatching(/^acme\tdata key v1 active\tup to date$/));
    expect(lines).toContainEqual(expect.stringMatching(/^other\tdata key v1 active\tup to date$/));
    expect(out).not.toContain(Buffer.alloc(32, 7).toString('base64'));
  });
});

describe('candor keys rotate', () => {
  it('explains usage mistakes before changing anything', async () => {
    await expect(candor('keys', 'rotate')).rejects.toThrow(
      /exactly one of --tenant SLUG, --all-tenants or --new-master-key-file/,
    );
    await expect(candor('keys', 'rotate', '--tenant', 'acme', '--all-tenants')).rejects.toThrow(/exactly one of/);
    await expect(candor('keys', 'rotate', '--new-master-key-file', '/x/new.key', '--wait')).rejects.toThrow(
      /--wait and --destroy-retired go with --tenant/,
    );
    await expect(candor('keys', 'rotate', '--new-master-key-file', 'relative.key')).rejects.toThrow(/absolute path/);
    await expect(candor('keys', 'rotate', '--tenant', 'nobody')).rejects.toThrow(/tenant nobody was not found/);
    await expect(candor('keys', 'rotate', '--tenant', 'acme', '--colour')).rejects.toThrow(/--colour/);
    expect(await events(t.tenant.id, 'keys.rotated')).toEqual([]);
  });

  it('rotates a tenant’s data key, records it, and leaves the re-encryption to the background job', async () => {
    const { out } = await candor('keys', 'rotate', '--tenant', 'acme');
    expect(out).toContain('acme: new writes now use data key v2 (from v1).');
    expect(out).toMatch(/acme: 2 values will be re-encrypted in the background \(job keys\.reencrypt\)/);
    expect((await events(t.tenant.id, 'keys.rotated'))[0]).toMatchObject({
      actorType: 'system',
      actorLabel: 'cli',
      details: { purpose: 'data', version: 2, previousVersion: 1, staleValues: 2 },
    });
    const queued = await t.runtime.db.query<{ n: number }>(
      `select count(*)::int as n from pgboss.job where name = 'keys.reencrypt' and data->>'tenantId' = $1`,
      [t.tenant.id],
    );
    expect(queued.rows[0]?.n).toBe(1);
    expect((await candor('keys', 'status')).out).toMatch(
      /acme\tdata key v1 retired, v2 active\tstale 2 \(.*siem_destinations\.secret 1/,
    );
  });

  it('refuses to destroy retired versions while values still use them', async () => {
    await expect(candor('keys', 'rotate', '--tenant', 'acme', '--destroy-retired')).rejects.toThrow(
      /2 value\(s\) of acme are not yet re-encrypted under version 2/,
    );
    expect(await events(t.tenant.id, 'keys.retired_destroyed')).toEqual([]);
  });

  it('with --wait re-encrypts inline, then destroys the retired versions; old ciphertexts made under them no longer open', async () => {
    const { out } = await candor('keys', 'rotate', '--tenant', 'acme', '--destroy-retired', '--wait');
    expect(out).toContain('acme: re-encrypted 2 values under data key v2; nothing is left on older versions.');
    expect(out).toContain('acme: destroyed retired data key v1.');
    expect((await events(t.tenant.id, 'keys.retired_destroyed'))[0]?.details).toEqual({
      purpose: 'data',
      versions: [1],
      activeVersion: 2,
    });
    expect((await events(t.tenant.id, 'keys.reencrypted'))[0]?.details).toEqual({ version: 2, values: 2, remaining: 0 });
    expect((await candor('keys', 'status')).out).toMatch(/acme\tdata key v2 active\tup to date/);
    // A value nobody registered (and so nobody re-encrypted) was made under v1: it is gone with v1.
    await expect(
      t.runtime.db.withTenant(t.tenant.id, (tx) => t.runtime.keys.decryptText(tx, t.tenant.id, sealedBefore, context)),
    ).rejects.toThrow(/data key version 1 of this tenant no longer exists/);
    expect((await candor('keys', 'rotate', '--tenant', 'acme', '--destroy-retired')).out).toContain(
      'no retired data key versions',
    );
  });

  it('rotates every tenant with --all-tenants --wait', async () => {
    const { out } = await candor('keys', 'rotate', '--all-tenants', '--wait');
    expect(out).toContain('acme: new writes now use data key v3 (from v2).');
    expect(out).toContain('other: new writes now use data key v2 (from v1).');
    expect(out).toContain('other: re-encrypted 2 values under data key v2');
    expect((await candor('keys', 'status')).out).not.toContain('stale');
  });
});

describe('candor keys rotate --new-master-key-file', () => {
  it('refuses a file that does not hold a 32-byte base64 key, changing nothing', async () => {
    const bad = path.join(dir, 'bad.key');
    writeFileSync(bad, 'not a key\n');
    await expect(candor('keys', 'rotate', '--new-master-key-file', bad)).rejects.toThrow(/must be base64/);
    const short = path.join(dir, 'short.key');
    writeFileSync(short, `${randomBytes(16).toString('base64')}\n`);
    await expect(candor('keys', 'rotate', '--new-master-key-file', short)).rejects.toThrow(/must be 32 bytes/);
    await expect(candor('keys', 'rotate', '--new-master-key-file', path.join(dir, 'missing.key'))).rejects.toThrow(/ENOENT/);
    expect(t.runtime.keys.master.id).toBe(testMasterKey.id);
  });

  it('re-wraps every key; the server switches at once, a runtime with the new key starts, and the old key is refused', async () => {
    const file = path.join(dir, 'new.key');
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const next = masterKeyFromFile(file);
    const sealed = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
      t.runtime.keys.encrypt(tx, t.tenant.id, 'survives', context),
    );

    const { out, err } = await candor('keys', 'rotate', '--new-master-key-file', file);
    expect(out).toMatch(
      new RegExp(`^Re-wrapped \\d+ tenant keys of 2 tenants under master key ${next.id} \\(was ${testMasterKey.id}\\)\\.$`),
    );
    expect(err).toContain(`set CANDOR_MASTER_KEY_FILE=${file}`);
    expect((await events(otherId, 'keys.master_rewrapped'))[0]?.details).toMatchObject({
      fromMasterKeyId: testMasterKey.id,
      toMasterKeyId: next.id,
    });
    // This process switched: it reads and writes without a restart.
    expect(t.runtime.keys.master.id).toBe(next.id);
    expect(await t.runtime.db.withTenant(t.tenant.id, (tx) => t.runtime.keys.decryptText(tx, t.tenant.id, sealed, context))).toBe(
      'survives',
    );
    expect((await candor('keys', 'status')).out.split('\n')[0]).toBe(`master key ${next.id} from ${file}`);

    const config = t.runtime.config;
    const restarted = await createRuntime(config, { db: t.runtime.db, log: pino({ level: 'silent' }), masterKey: next });
    expect(await restarted.db.withTenant(t.tenant.id, (tx) => restarted.keys.decryptText(tx, t.tenant.id, sealed, context))).toBe(
      'survives',
    );
    await expect(
      createRuntime(config, { db: t.runtime.db, log: pino({ level: 'silent' }), masterKey: testMasterKey }),
    ).rejects.toThrow(
      `the master key from test master key (id ${testMasterKey.id}) is not the key this database was encrypted with (id ${next.id}); Candor will not start with it`,
    );
  });
});
