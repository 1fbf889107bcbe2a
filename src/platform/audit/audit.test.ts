import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { testMasterKey } from '../../../test/keys.ts';
import { createTenant } from '../../modules/tenants/service.ts';
import type { Actor } from '../context.ts';
import { createKeyring } from '../crypto/keyring.ts';
import { pgErrorCode } from '../db/errors.ts';
import { type Audit, createAudit } from './audit.ts';
import { ed25519PublicKey, verifyLines } from './verify.ts';

let database: TestDatabase;
let audit: Audit;
let tenantId: string;
const actor: Actor = {
  kind: 'user',
  id: '2b0c4a9e-5d0e-4f7c-9a53-2f1f6b1d7a10',
  email: 'ada@acme.test',
  name: 'Ada',
  roles: ['owner'],
  permissions: new Set(),
};

async function recordMany(n: number, action = 'thing.happened'): Promise<void> {
  for (let i = 0; i < n; i++) {
    await database.db.withTenant(tenantId, (tx) =>
      audit.record(
        tx,
        { tenantId, actor, ip: '192.0.2.7', requestId: `req-${i}` },
        { action, target: { type: 'thing', id: String(i) }, details: { n: i } },
      ),
    );
  }
}

async function exportLines(id = tenantId): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of audit.exportLines(database.db, id)) lines.push(line);
  return lines;
}

beforeAll(async () => {
  database = await openTestDatabase();
  audit = createAudit({
    clock: { now: () => new Date() },
    keys: createKeyring(testMasterKey),
    log: pino({ level: 'silent' }),
    checkpointEvery: 5,
  });
  tenantId = (await createTenant(database.db, { slug: 'acme', name: 'Acme', hosts: ['acme.test'] })).id;
  await recordMany(12);
});

afterAll(async () => {
  await database.drop();
});

describe('the audit chain', () => {
  it('numbers events consecutively and links each to the one before', async () => {
    const rows = await database.db.withTenant(
      tenantId,
      async (tx) =>
        (
          (await tx.execute(sql`select seq, prev_hash, hash from audit_events order by seq`)) as unknown as {
            rows: { seq: string | number; prev_hash: string; hash: string }[];
          }
        ).rows,
    );
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(rows[0]?.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]?.prev_hash).toBe(rows[i - 1]?.hash);
  });

  it('exports a trail that verifies, with checkpoints signed by the tenant key', async () => {
    const lines = await exportLines();
    const result = await verifyLines(lines);
    expect(result).toMatchObject({ ok: true, events: 12, checkpoints: 2, firstSeq: 1, lastSeq: 12, anchor: 'genesis' });
    const key = JSON.parse(lines[0] ?? '{}').publicKey as string;
    expect((await verifyLines(lines, ed25519PublicKey(key))).ok).toBe(true);
  });

  it('refuses a checkpoint signed by another key than the one given', async () => {
    const other = createAudit({
      clock: { now: () => new Date() },
      keys: createKeyring(testMasterKey),
      log: pino({ level: 'silent' }),
    });
    const otherTenant = (await createTenant(database.db, { slug: 'other', name: 'Other', hosts: ['other.test'] })).id;
    await database.db.withTenant(otherTenant, (tx) =>
      other.record(tx, { tenantId: otherTenant, actor }, { action: 'thing.happened' }),
    );
    await database.db.withTenant(otherTenant, (tx) => other.checkpoint(tx, otherTenant));
    const otherKey = (await database.db.withTenant(otherTenant, (tx) => other.publicKeys(tx, otherTenant)))[0]?.publicKey ?? '';
    const result = await verifyLines(await exportLines(), ed25519PublicKey(otherKey));
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ seq: 5, kind: 'bad-signature' });
  });

  it('names the altered, missing and reordered events', async () => {
    const lines = await exportLines();
    const eventAt = (seq: number) => lines.findIndex((l) => l.includes('"kind":"event"') && JSON.parse(l).seq === seq);

    const altered = [...lines];
    altered[eventAt(7)] = (altered[eventAt(7)] ?? '').replace('"action":"thing.happened"', '"action":"thing.hidden"');
    expect((await verifyLines(altered)).problem).toMatchObject({ seq: 7, kind: 'altered' });

    const missing = lines.filter((_, i) => i !== eventAt(8));
    expect((await verifyLines(missing)).problem).toMatchObject({ seq: 8, kind: 'missing' });

    const swapped = [...lines];
    const [a, b] = [eventAt(3), eventAt(4)];
    [swapped[a], swapped[b]] = [swapped[b] ?? '', swapped[a] ?? ''];
    expect((await verifyLines(swapped)).problem).toMatchObject({ seq: 3, kind: 'reordered' });
  });

  it('fails clearly on a truncated or malformed export, and on unknown fields', async () => {
    const lines = await exportLines();
    const cut = await verifyLines(lines.slice(0, 6));
    expect(cut.problem?.kind).toBe('truncated');
    const half = [...lines.slice(0, 6), (lines[6] ?? '').slice(0, 40)];
    expect((await verifyLines(half)).problem?.kind).toBe('malformed');
    const extra = lines.map((l) => (l.includes('"seq":2,') && l.includes('"kind":"event"') ? l.replace('{', '{"note":"x",') : l));
    const unknown = await verifyLines(extra);
    expect(unknown.problem).toMatchObject({ seq: 2, kind: 'malformed' });
    expect(unknown.problem?.message).toContain('note');
  });

  it('is append-only for the application role', async () => {
    const update = database.db.withTenant(tenantId, (tx) =>
      tx.execute(sql`update audit_events set action = 'x.y' where seq = 1`),
    );
    expect(pgErrorCode(await update.catch((e: unknown) => e))).toBe('42501');
    const del = database.db.withTenant(tenantId, (tx) => tx.execute(sql`delete from audit_events where seq = 1`));
    expect(pgErrorCode(await del.catch((e: unknown) => e))).toBe('42501');
  });

  it('detects an event altered by the database superuser', async () => {
    await database.db.withSystem(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
      await tx.execute(sql`update audit_events set details = '{"n": 99}' where tenant_id = ${tenantId} and seq = 9`);
      await tx.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    });
    const result = await verifyLines(await exportLines());
    expect(result.problem).toMatchObject({ seq: 9, kind: 'altered' });
  });

  it('refuses details that look like secrets', async () => {
    await expect(
      database.db.withTenant(tenantId, (tx) =>
        audit.record(tx, { tenantId, actor }, { action: 'user.created', details: { password: 'x' } }),
      ),
    ).rejects.toThrow(/secret/);
  });
});
