import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngine } from '../../../test/db.ts';
import { testMasterKey } from '../../../test/keys.ts';
import { createTenant } from '../../modules/tenants/service.ts';
import type { Actor } from '../context.ts';
import { createKeyring } from '../crypto/keyring.ts';
import type { Tx } from '../db/client.ts';
import { type Audit, createAudit, type RecordedEvent } from './audit.ts';
import { verifyLines } from './verify.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WRITER = 'test/fixtures/audit-writer.ts';
const actor: Actor = { kind: 'system', name: 'test' };

let database: TestDatabase;

beforeAll(async () => {
  database = await openTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

async function newTenant(slug: string): Promise<string> {
  // No creator: these trails start empty, so their sequence numbers are the test's own.
  return (await createTenant(database.db, { slug, name: slug, hosts: [`${slug}.test`] })).id;
}

async function rows(tenantId: string): Promise<{ seq: number; writer: number; n: number; prev: string; hash: string }[]> {
  const result = (await database.db.withTenant(tenantId, (tx) =>
    tx.execute(sql`select seq, details, prev_hash, hash from audit_events order by seq`),
  )) as unknown as {
    rows: { seq: string | number; details: { writer?: number; n?: number }; prev_hash: string; hash: string }[];
  };
  return result.rows.map((r) => ({
    seq: Number(r.seq),
    writer: r.details.writer ?? 0,
    n: r.details.n ?? 0,
    prev: r.prev_hash,
    hash: r.hash,
  }));
}

async function exportOf(audit: Audit, tenantId: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of audit.exportLines(database.db, tenantId)) lines.push(line);
  return lines;
}

interface Writer {
  ready: Promise<void>;
  go(): void;
  exited: Promise<{ code: number | null; out: string; err: string }>;
}

/** A writer process that connects, says `ready`, and appends once it is told to go. */
function startWriter(url: string, tenantId: string, count: number, batch: number): Writer {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', WRITER, url, tenantId, String(count), String(batch)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`writer exited with ${code} before it was ready: ${err}`)));
  });
  return { ready, exited, go: () => child.stdin?.end('go\n') };
}

describe('appends from several processes at once', () => {
  it.skipIf(testEngine !== 'postgres')(
    'keeps one gapless chain that verifies while four processes append to the same tenant',
    async () => {
      const url = database.url;
      if (!url) throw new Error('a PostgreSQL URL is expected');
      const tenantId = await newTenant('shared');
      // Three writers one event per transaction, one in batches; all start on an empty trail (no head row yet).
      const plan = [
        { count: 150, batch: 1 },
        { count: 150, batch: 1 },
        { count: 150, batch: 1 },
        { count: 150, batch: 7 },
      ];
      const writers = plan.map((p) => startWriter(url, tenantId, p.count, p.batch));
      await Promise.all(writers.map((w) => w.ready));
      for (const writer of writers) writer.go();
      const results = await Promise.all(writers.map((w) => w.exited));
      for (const result of results) {
        expect(result.err).toBe('');
        expect(result.code).toBe(0);
        expect(result.out).toContain('done 150');
      }

      const total = plan.reduce((sum, p) => sum + p.count, 0);
      const chain = await rows(tenantId);
      expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (let i = 1; i < chain.length; i++) expect(chain[i]?.prev).toBe(chain[i - 1]?.hash);
      // Each process's events are all there, once, in the order it wrote them.
      const byWriter = new Map<number, number[]>();
      for (const r of chain) byWriter.set(r.writer, [...(byWriter.get(r.writer) ?? []), r.n]);
      expect(byWriter.size).toBe(plan.length);
      for (const ns of byWriter.values()) expect(ns).toEqual(Array.from({ length: 150 }, (_, i) => i));
      // And they really wrote at the same time: the chain switches between writers again and again.
      const switches = chain.filter((r, i) => i > 0 && r.writer !== chain[i - 1]?.writer).length;
      expect(switches).toBeGreaterThan(20);

      const audit = createAudit({
        clock: { now: () => new Date() },
        keys: createKeyring(testMasterKey),
        log: pino({ level: 'silent' }),
      });
      const result = await verifyLines(await exportOf(audit, tenantId));
      expect(result).toMatchObject({ ok: true, events: total, firstSeq: 1, lastSeq: total, anchor: 'genesis' });
      // Four processes at once, each spending a few seconds starting tsx: allow for a slow machine.
    },
    120_000,
  );
});

describe('batched appends', () => {
  it('chains a batch onto single events and after it, in one verifiable trail', async () => {
    const audit = createAudit({
      clock: { now: () => new Date() },
      keys: createKeyring(testMasterKey),
      log: pino({ level: 'silent' }),
      checkpointEvery: 4,
    });
    const tenantId = await newTenant('batched');
    const scope = { tenantId, actor };
    await database.db.withTenant(tenantId, (tx) => audit.record(tx, scope, { action: 'test.single', details: { n: 0 } }));
    const batch = await database.db.withTenant(tenantId, (tx) =>
      audit.recordMany(
        tx,
        scope,
        Array.from({ length: 6 }, (_, i) => ({ action: 'test.batched', details: { n: i + 1 } })),
      ),
    );
    expect(batch.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(batch[0]?.prev).toBe((await rows(tenantId))[0]?.hash);
    await database.db.withTenant(tenantId, (tx) => audit.record(tx, scope, { action: 'test.single', details: { n: 7 } }));
    expect((await rows(tenantId)).map((r) => r.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await database.db.withTenant(tenantId, (tx) => audit.recordMany(tx, scope, []))).toEqual([]);
    const result = await verifyLines(await exportOf(audit, tenantId));
    // A checkpoint is signed at seq 4 even though it fell inside the batch.
    expect(result).toMatchObject({ ok: true, events: 8, checkpoints: 2, lastSeq: 8 });
  });

  it('refuses a whole batch when one event carries a secret, writing none of it', async () => {
    const audit = createAudit({
      clock: { now: () => new Date() },
      keys: createKeyring(testMasterKey),
      log: pino({ level: 'silent' }),
    });
    const tenantId = await newTenant('refused');
    await expect(
      database.db.withTenant(tenantId, (tx) =>
        audit.recordMany(tx, { tenantId, actor }, [
          { action: 'test.fine', details: {} },
          { action: 'test.leaky', details: { password: 'hunter2' } },
        ]),
      ),
    ).rejects.toThrow(/looks like a secret/);
    expect(await rows(tenantId)).toEqual([]);
  });
});

describe('hooks', () => {
  it('keeps the events and the other hooks’ work when one hook fails, and skips hooks that do not want an event', async () => {
    await database.db.query('create table if not exists hook_marks (seq bigint not null, hook text not null)');
    const errors: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => errors.push(line) });
    const audit = createAudit({ clock: { now: () => new Date() }, keys: createKeyring(testMasterKey), log });
    const mark = (hook: string) => async (tx: Tx, event: RecordedEvent) => {
      await tx.execute(sql`insert into hook_marks (seq, hook) values (${event.seq}, ${hook})`);
    };
    const watched: number[] = [];
    audit.onRecorded(mark('first'));
    audit.onRecorded(async (tx, event) => {
      await mark('failing')(tx, event);
      if (event.details.fail) throw new Error('rule exploded');
    });
    audit.onRecorded(
      async (tx, event) => {
        watched.push(event.seq);
        await mark('watcher')(tx, event);
      },
      { when: (event) => event.action === 'test.watched' },
    );
    const tenantId = await newTenant('hooked');
    await database.db.withSystem((tx) =>
      audit.recordMany(tx, { tenantId, actor }, [
        { action: 'test.watched', details: {} },
        { action: 'test.other', details: { fail: true } },
        { action: 'test.other', details: {} },
      ]),
    );
    await database.db.withSystem((tx) =>
      audit.record(tx, { tenantId, actor }, { action: 'test.other', details: { fail: true } }),
    );

    expect((await rows(tenantId)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    const marks = (
      await database.db.query<{ seq: string | number; hook: string }>('select seq, hook from hook_marks order by seq, hook')
    ).rows.map((r) => `${Number(r.seq)}:${r.hook}`);
    // The failing hook's own work for the events it failed on is undone; everything else stays.
    expect(marks).toEqual(['1:failing', '1:first', '1:watcher', '2:first', '3:failing', '3:first', '4:first']);
    expect(watched.at(-1)).toBe(1);
    expect(watched.every((seq) => seq === 1)).toBe(true);
    expect(errors.filter((line) => line.includes('audit hook failed'))).toHaveLength(2);
  });
});
