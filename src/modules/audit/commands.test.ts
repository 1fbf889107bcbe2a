import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { runCandor, tempDataDir } from '../../../test/cli.ts';
import { testEngine } from '../../../test/db.ts';
import { runDatabaseCommand } from '../../cli/commands.ts';
import { bufferedIO } from '../../platform/cli/io.ts';
import type { Actor } from '../../platform/context.ts';
import { openDatabase } from '../../platform/db/client.ts';
import { createTenant } from '../tenants/service.ts';
import { signMovedHeads } from './service.ts';
import { verifyTrailFile } from './trail-file.ts';

let t: TestApp;
let dir: string;
let otherKey: string;
const actor: Actor = { kind: 'system', name: 'test' };

async function record(tenantId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await t.runtime.db.withTenant(tenantId, (tx) =>
      t.runtime.audit.record(tx, { tenantId, actor }, { action: 'thing.happened' }),
    );
  }
}

/** Runs a command as `candor` would with this runtime; resolves to its output lines, or rejects with its reason. */
async function candor(argv: string[], stdin = ''): Promise<string[]> {
  const io = bufferedIO(stdin);
  await runDatabaseCommand(t.runtime, argv, io);
  return io.stdout;
}

async function exportFile(name: string): Promise<string> {
  const file = path.join(dir, name);
  writeFileSync(file, `${(await candor(['audit', 'export', '--tenant', 'acme'])).join('\n')}\n`);
  return file;
}

async function publicKeyOf(tenantId: string): Promise<string> {
  const keys = await t.runtime.db.withTenant(tenantId, (tx) => t.runtime.audit.publicKeys(tx, tenantId));
  return keys[0]?.publicKey ?? '';
}

beforeAll(async () => {
  t = await createTestApp();
  dir = mkdtempSync(path.join(tmpdir(), 'candor-audit-'));
  const other = await createTenant(t.runtime.db, { slug: 'other', name: 'Other', hosts: ['other.test'] });
  await record(t.tenant.id, 4);
  await record(other.id, 1);
  await signMovedHeads(t.runtime);
  otherKey = await publicKeyOf(other.id);
});

afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('candor audit export', () => {
  it('writes the trail as JSON Lines, one line a write, and records the export in it', async () => {
    const lines = await candor(['audit', 'export', '--tenant', 'acme']);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ kind: 'key', algorithm: 'Ed25519' });
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ kind: 'end' });
    const events = lines.filter((l) => l.includes('"kind":"event"')).map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ action: 'audit.exported', actor: { type: 'system', label: 'cli' } });
  });

  it('limits the export to a time range and refuses a malformed one', async () => {
    const lines = await candor(['audit', 'export', '--tenant', 'acme', '--from', '2999-01-01']);
    expect(lines.filter((l) => l.includes('"kind":"event"'))).toEqual([]);
    await expect(candor(['audit', 'export', '--tenant', 'acme', '--to', 'last tuesday'])).rejects.toThrow(/--to must be a date/);
    await expect(candor(['audit', 'export', '--tenant', 'nobody'])).rejects.toThrow(/tenant nobody was not found/);
  });
});

describe('candor audit verify', () => {
  it('verifies an exported file and says what it checked', async () => {
    const file = await exportFile('trail.jsonl');
    const [line] = await candor(['audit', 'verify', '--file', file]);
    expect(line).toMatch(
      /^audit trail intact: events 1–\d+ \(\d+\), \d+ checkpoints, from the first event; signatures checked with the keys in the trail/,
    );
  });

  it('checks signatures with a public key given as base64 or as a file, and fails with another tenant’s key', async () => {
    const file = await exportFile('keyed.jsonl');
    const key = await publicKeyOf(t.tenant.id);
    expect((await candor(['audit', 'verify', '--file', file, '--public-key', key]))[0]).toContain(
      'signatures checked with the given public key',
    );
    const keyFile = path.join(dir, 'acme.pub');
    writeFileSync(keyFile, `${key}\n`);
    expect((await candor(['audit', 'verify', '--file', file, '--public-key', keyFile]))[0]).toContain('given public key');
    await expect(candor(['audit', 'verify', '--file', file, '--public-key', otherKey])).rejects.toThrow(
      /^audit trail NOT intact: seq \d+: bad-signature/,
    );
    await expect(candor(['audit', 'verify', '--file', file, '--public-key', path.join(dir, 'nope.pub')])).rejects.toThrow(
      /--public-key is neither/,
    );
  });

  it('reads the trail from standard input with -', async () => {
    const lines = await candor(['audit', 'export', '--tenant', 'acme']);
    expect((await candor(['audit', 'verify', '--file', '-'], `${lines.join('\n')}\n`))[0]).toMatch(/^audit trail intact/);
    await expect(candor(['audit', 'verify', '--file', '-'], lines.slice(0, -1).join('\n'))).rejects.toThrow(/truncated/);
  });

  it('names the first altered event of an edited file', async () => {
    const lines = await candor(['audit', 'export', '--tenant', 'acme']);
    const edited = lines.map((l) =>
      l.includes('"kind":"event"') && JSON.parse(l).seq === 3 ? l.replace('thing.happened', 'thing.hidden') : l,
    );
    const file = path.join(dir, 'edited.jsonl');
    writeFileSync(file, edited.join('\n'));
    await expect(candor(['audit', 'verify', '--file', file])).rejects.toThrow(/^audit trail NOT intact: seq 3: altered: /);
    expect(await verifyTrailFile(file)).toMatchObject({ ok: false, problem: { seq: 3, kind: 'altered' } });
    await expect(verifyTrailFile(path.join(dir, 'missing.jsonl'))).rejects.toThrow(/ENOENT/);
  });

  it('asks for a file or a tenant, not both and not neither', async () => {
    await expect(candor(['audit', 'verify'])).rejects.toThrow(/give the file to verify, or --tenant/);
    await expect(candor(['audit', 'verify', '--file', 'x', '--tenant', 'acme'])).rejects.toThrow(/not both/);
  });

  it('verifies the tenant’s trail in the database, then names an event the superuser altered', async () => {
    expect((await candor(['audit', 'verify', '--tenant', 'acme']))[0]).toMatch(/^audit trail intact/);
    await t.runtime.db.withSystem(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
      await tx.execute(sql`update audit_events set details = '{"n": 99}' where tenant_id = ${t.tenant.id} and seq = 2`);
      await tx.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    });
    await expect(candor(['audit', 'verify', '--tenant', 'acme'])).rejects.toThrow(
      /^audit trail NOT intact: seq 2: altered: its content does not match its hash$/,
    );
  });
});

// The real executable on the embedded engine; the engine matrix adds nothing but time.
describe.skipIf(testEngine !== 'pglite')('candor audit on the command line', () => {
  it('exports and verifies, and exits 1 naming the event a superuser altered', async () => {
    const dataDir = tempDataDir();
    const env = { CANDOR_DATA_DIR: dataDir };
    try {
      const created = await runCandor(['tenant', 'create', '--slug', 'acme', '--name', 'Acme', '--host', 'acme.test'], env);
      expect(created.code, created.stderr).toBe(0);
      // One export only: the process logger writes warnings to standard output, and several exports in a row
      // raise a bulk-export alert whose warning would land in the middle of the file.
      const exported = await runCandor(['audit', 'export', '--tenant', 'acme'], env);
      const file = path.join(path.dirname(dataDir), 'trail.jsonl');
      writeFileSync(file, exported.stdout);
      const fromFile = await runCandor(['audit', 'verify', '--file', file], env);
      expect(fromFile.code, fromFile.stderr).toBe(0);
      expect(fromFile.stdout).toMatch(/^audit trail intact: events 1–/);
      const fromStdin = await runCandor(['audit', 'verify', '--file', '-'], env, exported.stdout);
      expect(fromStdin.code, fromStdin.stderr).toBe(0);
      const intact = await runCandor(['audit', 'verify', '--tenant', 'acme'], env);
      expect(intact.code, intact.stderr).toBe(0);

      const db = await openDatabase({ engine: 'pglite', dataDir });
      try {
        await db.withSystem(async (tx) => {
          await tx.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
          await tx.execute(sql`update audit_events set actor_label = 'someone else' where seq = 2`);
          await tx.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
        });
      } finally {
        await db.close();
      }
      const broken = await runCandor(['audit', 'verify', '--tenant', 'acme'], env);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toBe('');
      expect(broken.stderr.trim()).toBe('candor: audit trail NOT intact: seq 2: altered: its content does not match its hash');
    } finally {
      rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  }, 120_000);
});
