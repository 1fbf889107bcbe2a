// Audit trail figures: append rate on both engines (each beside a plain insert of the same row, the
// reference measured in the same run) and verification speed beside a bare SHA-256 loop over the same bytes.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { createTenant } from '../src/modules/tenants/service.ts';
import type { AuditInput, AuditScope } from '../src/platform/audit/audit.ts';
import { canonicalJson, type JsonValue } from '../src/platform/audit/canonical.ts';
import { verifyLines } from '../src/platform/audit/verify.ts';
import type { Actor, Runtime } from '../src/platform/context.ts';
import { localMasterKey } from '../src/platform/crypto/master-key.ts';
import { type Database, type Engine, openDatabase } from '../src/platform/db/client.ts';
import { closeRuntime, createRuntime } from '../src/runtime.ts';

export const TARGETS = { pgliteAppendsPerSecond: 5_000, postgresAppendsPerSecond: 20_000, verifyToSha256: 0.3 };
const WRITERS = 4;
const BATCH = 100;
const WARM_UP_MS = 500;
const MEASURE_MS = 3_000;
const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface AuditFigure {
  label: string;
  line: string;
  /** Absent for figures that are only compared with a reference. */
  targetMet?: boolean;
}

const ACTOR: Actor = {
  kind: 'user',
  id: '0b6c7a4e-5d0e-4f7c-9a53-2f1f6b1d7a10',
  email: 'priya.security@acme-corp.example',
  name: 'Priya',
  roles: ['security-admin'],
  permissions: new Set(),
};

/** An event the size the product writes: a reviewer approving a document request from a browser. */
function realisticEvent(i: number): { scope: Omit<AuditScope, 'tenantId'>; input: AuditInput } {
  return {
    scope: {
      actor: ACTOR,
      ip: '203.0.113.24',
      userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Firefox/128.0',
      requestId: `req_${(1_000_000 + i).toString(36)}`,
    },
    input: {
      action: 'document_request.approved',
      target: { type: 'document_request', id: '7d2f3c1a-9b4e-4f0a-8c6d-2e5b1a9f7c30' },
      details: { document: 'SOC 2 Type II report 2025', requester: 'jane.buyer@example.com', ndaAccepted: true, n: i },
    },
  };
}

const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;

interface Bed {
  engine: Engine;
  runtime: Runtime;
  tenants: string[];
  close(): Promise<void>;
}

/** A migrated scratch database with a full runtime (its audit hooks included) and four tenants. */
async function openBed(engine: Engine): Promise<Bed> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'candor-bench-audit-'));
  let db: Database;
  let dropScratch = async () => {};
  let url: string | undefined;
  if (engine === 'postgres') {
    const base = process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES_URL;
    const name = `candor_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const u = new URL(base);
    u.pathname = `/${name}`;
    url = u.toString();
    dropScratch = async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
    db = await openDatabase({ engine, url, poolSize: 2 * WRITERS });
  } else {
    db = await openDatabase({ engine, inMemory: true });
  }
  const config = { ...loadConfig({}), dataDir, engine, databaseUrl: url, logLevel: 'silent' as const };
  const runtime = await createRuntime(config, {
    db,
    log: pino({ level: 'silent' }),
    masterKey: localMasterKey(randomBytes(32), 'bench'),
  });
  await runtime.jobs.start({ work: false });
  const system: Actor = { kind: 'system', name: 'bench' };
  const tenants: string[] = [];
  for (let i = 0; i < WRITERS; i++) {
    const tenant = await createTenant(
      db,
      { slug: `bench-${i}`, name: `Bench ${i}`, hosts: [`bench-${i}.test`] },
      {
        audit: runtime.audit,
        actor: system,
      },
    );
    tenants.push(tenant.id);
  }
  // The reference: the same row in a plain table with the same indexes, no chain, no hooks.
  await db.query('create table bench_plain_events (like audit_events including all)');
  await db.query('grant all on bench_plain_events to candor_app');
  return {
    engine,
    runtime,
    tenants,
    async close() {
      await closeRuntime(runtime);
      rmSync(dataDir, { recursive: true, force: true });
      await dropScratch();
    },
  };
}

/** Runs `writers` loops of `step` for the warm-up and then the measured time; returns units per second. */
async function measure(writers: number, step: (writer: number, i: number) => Promise<number>): Promise<number> {
  let counting = false;
  let units = 0;
  let stopAt = performance.now() + WARM_UP_MS;
  let i = 0;
  const loop = async (writer: number) => {
    while (performance.now() < stopAt) {
      const done = await step(writer, i++);
      if (counting) units += done;
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => loop(w)));
  counting = true;
  const started = performance.now();
  stopAt = started + MEASURE_MS;
  await Promise.all(Array.from({ length: writers }, (_, w) => loop(w)));
  return units / ((performance.now() - started) / 1000);
}

function plainInsert(bed: Bed, tenantFor: (writer: number) => string) {
  let seq = 0;
  return (writer: number, i: number) => {
    const tenantId = tenantFor(writer);
    const { scope, input } = realisticEvent(i);
    return bed.runtime.db.withTenant(tenantId, async (tx) => {
      await tx.execute(sql`insert into bench_plain_events
        (tenant_id, seq, occurred_at, actor_type, actor_id, actor_label, action, target_type, target_id, outcome, ip,
         user_agent, request_id, details, prev_hash, hash)
        values (${tenantId}, ${++seq}, ${new Date().toISOString()}, 'user', ${ACTOR.kind === 'user' ? ACTOR.id : null},
         ${ACTOR.kind === 'user' ? ACTOR.email : null}, ${input.action}, ${input.target?.type ?? null},
         ${input.target?.id ?? null}, 'success', ${scope.ip ?? null}, ${scope.userAgent ?? null}, ${scope.requestId ?? null},
         ${JSON.stringify(input.details)}::jsonb, ${'0'.repeat(64)}, ${'f'.repeat(64)})`);
      return 1;
    });
  };
}

function singleAppends(bed: Bed, tenantFor: (writer: number) => string) {
  return (writer: number, i: number) => {
    const tenantId = tenantFor(writer);
    const { scope, input } = realisticEvent(i);
    return bed.runtime.db.withTenant(tenantId, async (tx) => {
      await bed.runtime.audit.record(tx, { ...scope, tenantId }, input);
      return 1;
    });
  };
}

function batchedAppends(bed: Bed, tenantFor: (writer: number) => string) {
  return (writer: number, i: number) => {
    const tenantId = tenantFor(writer);
    const events = Array.from({ length: BATCH }, (_, k) => realisticEvent(i * BATCH + k));
    return bed.runtime.db.withTenant(tenantId, async (tx) => {
      await bed.runtime.audit.recordMany(
        tx,
        { ...(events[0]?.scope ?? { actor: ACTOR }), tenantId },
        events.map((e) => e.input),
      );
      return BATCH;
    });
  };
}

function appendFigures(
  engine: Engine,
  target: number,
  plain: number,
  results: { how: string; perSecond: number }[],
): AuditFigure[] {
  const name = engine === 'pglite' ? 'PGlite' : 'PostgreSQL';
  return results.map(({ how, perSecond }) => {
    const met = perSecond >= target;
    return {
      label: `audit appends on ${name}, ${how}`,
      targetMet: met,
      line:
        `audit appends on ${name}, ${how}: ${rate(perSecond)}; plain insert of the same row, one per transaction: ` +
        `${rate(plain)}; audit/plain = ${(perSecond / plain).toFixed(2)} (target ≥ ${rate(target)}, ` +
        `${(perSecond / target).toFixed(2)}× target) ${met ? 'PASS' : 'MISS'}`,
    };
  });
}

function eventBytes(): { event: number; details: number } {
  const { scope, input } = realisticEvent(1);
  const details = Buffer.byteLength(canonicalJson((input.details ?? {}) as JsonValue));
  const event = Buffer.byteLength(
    canonicalJson({
      v: 1,
      tenant: '0b6c7a4e-5d0e-4f7c-9a53-2f1f6b1d7a10',
      seq: 123_456,
      time: new Date().toISOString(),
      actor: { type: 'user', id: ACTOR.kind === 'user' ? ACTOR.id : null, label: ACTOR.kind === 'user' ? ACTOR.email : null },
      action: input.action,
      target: { type: input.target?.type ?? '', id: input.target?.id ?? null },
      outcome: 'success',
      ip: scope.ip ?? null,
      userAgent: scope.userAgent ?? null,
      requestId: scope.requestId ?? null,
      details: (input.details ?? {}) as JsonValue,
      prev: '0'.repeat(64),
    }),
  );
  return { event, details };
}

/** The append figures of one engine: the reference, one event per transaction, and batches. */
async function appendRun(engine: Engine, progress: (message: string) => void): Promise<{ figures: AuditFigure[]; bed: Bed }> {
  const bed = await openBed(engine);
  const target = engine === 'pglite' ? TARGETS.pgliteAppendsPerSecond : TARGETS.postgresAppendsPerSecond;
  const one = () => bed.tenants[0] as string;
  const own = (writer: number) => bed.tenants[writer % bed.tenants.length] as string;
  progress(`audit appends on ${engine}: plain insert (reference)`);
  const plain = await measure(WRITERS, plainInsert(bed, one));
  progress(`audit appends on ${engine}: one event per transaction`);
  const results = [
    {
      how: `${WRITERS} writers on one tenant, one event per transaction`,
      perSecond: await measure(WRITERS, singleAppends(bed, one)),
    },
  ];
  if (engine === 'postgres') {
    results.push({
      how: `${WRITERS} writers on ${WRITERS} tenants, one event per transaction`,
      perSecond: await measure(WRITERS, singleAppends(bed, own)),
    });
  }
  progress(`audit appends on ${engine}: batches of ${BATCH}`);
  results.push({
    how: `${WRITERS} writers on one tenant, recordMany batches of ${BATCH}`,
    perSecond: await measure(WRITERS, batchedAppends(bed, one)),
  });
  if (engine === 'postgres') {
    results.push({
      how: `${WRITERS} writers on ${WRITERS} tenants, recordMany batches of ${BATCH}`,
      perSecond: await measure(WRITERS, batchedAppends(bed, own)),
    });
  }
  return { figures: appendFigures(engine, target, plain, results), bed };
}

/** verifyLines over an export of the tenant's trail beside a bare SHA-256 loop over the same lines. */
async function verificationFigure(bed: Bed): Promise<AuditFigure> {
  const tenantId = bed.tenants[0] as string;
  const lines: string[] = [];
  for await (const line of bed.runtime.audit.exportLines(bed.runtime.db, tenantId)) lines.push(line);
  const events = lines.filter((l) => l.startsWith('{"kind":"event"')).length;
  const bytes = lines.reduce((sum, l) => sum + Buffer.byteLength(l), 0);
  const timeOf = async (work: () => Promise<unknown> | unknown) => {
    await work(); // warm-up
    const started = performance.now();
    let rounds = 0;
    while (performance.now() - started < 1_500) {
      await work();
      rounds++;
    }
    return (performance.now() - started) / rounds;
  };
  const verifyMs = await timeOf(async () => {
    const result = await verifyLines(lines);
    if (!result.ok) throw new Error(`the exported trail does not verify: ${result.problem?.message}`);
  });
  const shaMs = await timeOf(() => {
    for (const line of lines) createHash('sha256').update(line, 'utf8').digest('hex');
  });
  const ratio = shaMs / verifyMs;
  const met = ratio >= TARGETS.verifyToSha256;
  const perSecond = (ms: number) => rate(events / (ms / 1000));
  return {
    label: 'audit verification',
    targetMet: met,
    line:
      `audit verification (verifyLines, ${events.toLocaleString('en-US')} events, ${(bytes / 1024 / 1024).toFixed(1)} MiB): ` +
      `${perSecond(verifyMs)} events; bare sha256 over the same lines: ${perSecond(shaMs)}; verify/sha256 = ` +
      `${ratio.toFixed(2)} (target ≥ ${TARGETS.verifyToSha256}) ${met ? 'PASS' : 'MISS'}`,
  };
}

async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({
    connectionString: process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES_URL,
    connectionTimeoutMillis: 3_000,
  });
  try {
    await client.connect();
    await client.end();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function auditFigures(progress: (message: string) => void): Promise<AuditFigure[]> {
  const size = eventBytes();
  const figures: AuditFigure[] = [
    {
      label: 'audit event size',
      line: `audit events in these figures: ${size.event} bytes of canonical JSON each (details ${size.details} bytes)`,
    },
  ];
  const pglite = await appendRun('pglite', progress);
  try {
    figures.push(...pglite.figures);
    progress('audit verification');
    figures.push(await verificationFigure(pglite.bed));
  } finally {
    await pglite.bed.close();
  }
  const unreachable = await postgresReachable();
  if (unreachable) {
    figures.push({ label: 'audit appends on PostgreSQL', line: `audit appends on PostgreSQL: skipped (${unreachable})` });
    return figures;
  }
  const postgres = await appendRun('postgres', progress);
  try {
    figures.push(...postgres.figures);
  } finally {
    await postgres.bed.close();
  }
  return figures;
}

// `node --import tsx bench/audit.ts` runs these figures alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const figure of await auditFigures((message) => process.stderr.write(`bench: ${message}\n`))) console.log(figure.line);
}
