import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { type AuditEventRow, type CheckpointRow, latestCheckpoint, searchEvents } from '../../platform/audit/store.ts';
import { verifyLines } from '../../platform/audit/verify.ts';
import type { Actor } from '../../platform/context.ts';
import { auditJobs } from '../audit/jobs.ts';
import { purgeExpiredAuditEvents, RETENTION_DAYS } from '../audit/service.ts';
import { findVerification } from '../audit/store.ts';
import { createTenant } from '../tenants/service.ts';
import { purgeExpiredData } from './purge.ts';
import { listRunRows } from './store.ts';

// The audit trail as a retention category: the anchoring rule that used to live in `audit.retention`.
let current = new Date('2015-01-01T00:00:00.000Z');
const clock = { now: () => current };
let t: TestApp;
let gamma: string;

const actor: Actor = { kind: 'system', name: 'test' };

async function record(tenantId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    current = new Date(current.getTime() + 1000);
    await t.runtime.db.withTenant(tenantId, (tx) =>
      t.runtime.audit.record(tx, { tenantId, actor }, { action: 'thing.happened' }),
    );
  }
}

async function checkpoint(tenantId: string): Promise<void> {
  await t.runtime.db.withTenant(tenantId, (tx) => t.runtime.audit.checkpoint(tx, tenantId));
}

/** A purge of one tenant, a second after whatever happened last (so its records sort after earlier ones). */
async function purge(tenantId: string, batchSize?: number): Promise<void> {
  current = new Date(current.getTime() + 1000);
  await purgeExpiredData(t.runtime, { tenantId, batchSize });
}

async function runAuditJob(name: string): Promise<void> {
  const job = auditJobs(t.runtime).find((j) => j.name === name);
  if (!job) throw new Error(`no job ${name}`);
  await job.run({}, { id: `test-${name}` });
}

function latest(tenantId: string): Promise<CheckpointRow | undefined> {
  return t.runtime.db.withTenant(tenantId, (tx) => latestCheckpoint(tx, tenantId));
}

function eventsWithAction(tenantId: string, action: string): Promise<AuditEventRow[]> {
  return t.runtime.db.withTenant(tenantId, (tx) => searchEvents(tx, { action }, 100, 0));
}

async function exported(tenantId: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of t.runtime.audit.exportLines(t.runtime.db, tenantId)) lines.push(line);
  return lines;
}

async function remainingSeqs(tenantId: string): Promise<number[]> {
  return (await exported(tenantId)).filter((l) => l.includes('"kind":"event"')).map((l) => JSON.parse(l).seq as number);
}

async function auditTrailRuns(tenantId: string) {
  const runs = await t.runtime.db.withTenant(tenantId, (tx) => listRunRows(tx, tenantId, { category: 'audit-trail' }, 100, 0));
  return runs.reverse();
}

beforeAll(async () => {
  t = await createTestApp({ clock });
  gamma = (await createTenant(t.runtime.db, { slug: 'gamma', name: 'Gamma', hosts: ['gamma.test'] })).id;
});

afterAll(async () => {
  await t.close();
});

describe('the audit trail category', () => {
  it('purges expired events only through the newest signed checkpoint among them, leaving a trail that verifies', async () => {
    // 2015: six events, a checkpoint, four more. 2024: two recent events.
    await record(gamma, 6);
    await checkpoint(gamma);
    await record(gamma, 4);
    current = new Date('2024-06-01T00:00:00.000Z');
    await record(gamma, 2);
    expect((await latest(gamma))?.seq).toBe(6);

    await purge(gamma);

    const purged = await eventsWithAction(gamma, 'retention.purged');
    expect(purged).toHaveLength(1);
    expect(purged[0]).toMatchObject({ seq: 13, actorLabel: 'retention.purge', outcome: 'success' });
    expect(purged[0]?.details).toMatchObject({ requestedBy: 'schedule', deleted: { 'audit-trail': 6 } });
    const [run] = await auditTrailRuns(gamma);
    expect(run).toMatchObject({
      deleted: 6,
      batches: 1,
      outcome: 'completed',
      periodDays: RETENTION_DAYS,
      requestedBy: 'schedule',
    });
    expect(run?.cutoff.toISOString()).toBe(new Date(current.getTime() - RETENTION_DAYS * 86_400_000).toISOString());
    // Seven to ten are older than seven years too, but no checkpoint after them is: they wait for one.
    expect(await remainingSeqs(gamma)).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(await verifyLines(await exported(gamma))).toMatchObject({ ok: true, anchor: 'checkpoint', firstSeq: 7, lastSeq: 13 });

    await runAuditJob('audit.verify');
    expect(await t.runtime.db.withTenant(gamma, (tx) => findVerification(tx, gamma))).toMatchObject({
      ok: true,
      anchor: 'checkpoint',
    });
  });

  it('purges nothing more until a newer checkpoint is older than the cutoff', async () => {
    await runAuditJob('audit.checkpoint');
    const anchor = await latest(gamma);
    await purge(gamma);
    expect((await auditTrailRuns(gamma)).map((r) => r.deleted)).toEqual([6, 0]);
    // 14 is the verification's own record, 15 this purge's.
    expect(await remainingSeqs(gamma)).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15]);

    // Eight years on, the 2024 checkpoint is itself expired: everything through it goes.
    current = new Date('2032-07-01T00:00:00.000Z');
    await record(gamma, 1);
    await purge(gamma);
    const deleted = (anchor?.seq ?? 0) - 6;
    // The 2024 deletion records are older than seven years too: the deletion-records category took them.
    expect((await auditTrailRuns(gamma)).map((r) => r.deleted)).toEqual([deleted]);
    const [last] = await eventsWithAction(gamma, 'retention.purged');
    expect(last?.details).toMatchObject({ deleted: { 'audit-trail': deleted } });
    expect((await remainingSeqs(gamma))[0]).toBe((anchor?.seq ?? 0) + 1);
    expect(await verifyLines(await exported(gamma))).toMatchObject({ ok: true, anchor: 'checkpoint' });
    // Every tenant's trail, purged or not, still verifies from the database.
    await runAuditJob('audit.verify');
    for (const tenantId of [t.tenant.id, gamma]) {
      expect((await t.runtime.db.withTenant(tenantId, (tx) => findVerification(tx, tenantId)))?.ok, tenantId).toBe(true);
    }
  });

  it('ends every batch at a signed checkpoint, so a purge stopped after any batch leaves a trail that verifies', async () => {
    const delta = (await createTenant(t.runtime.db, { slug: 'delta', name: 'Delta', hosts: ['delta.test'] })).id;
    // Checkpoints at 3, 6 and 9; then two more events; eight years later, one.
    for (let i = 0; i < 3; i++) {
      await record(delta, 3);
      await checkpoint(delta);
    }
    await record(delta, 2);
    current = new Date(current.getTime() + 8 * 366 * 86_400_000);
    await record(delta, 1);
    const cutoff = new Date(current.getTime() - RETENTION_DAYS * 86_400_000);

    const batches: number[] = [];
    for (;;) {
      const n = await t.runtime.db.withSystem((tx) => purgeExpiredAuditEvents(tx, delta, cutoff, 5));
      batches.push(n);
      if (n === 0) break;
      expect(await verifyLines(await exported(delta))).toMatchObject({ ok: true, anchor: 'checkpoint' });
    }
    // Five events a batch: the newest checkpoint within them ends it (3, then 6, then 9), never beyond the cutoff.
    expect(batches).toEqual([3, 3, 3, 0]);
    expect(await remainingSeqs(delta)).toEqual([10, 11, 12]);
  });

  it('takes a batch past its size up to the next checkpoint when none falls within it', async () => {
    const epsilon = (await createTenant(t.runtime.db, { slug: 'epsilon', name: 'Epsilon', hosts: ['epsilon.test'] })).id;
    await record(epsilon, 4);
    await checkpoint(epsilon);
    await record(epsilon, 4);
    await checkpoint(epsilon);
    current = new Date(current.getTime() + 8 * 366 * 86_400_000);
    await record(epsilon, 1);

    await purge(epsilon, 2);

    const [run] = await auditTrailRuns(epsilon);
    expect(run).toMatchObject({ deleted: 8, batches: 2, outcome: 'completed' });
    expect(await remainingSeqs(epsilon)).toEqual([9, 10]);
    expect(await verifyLines(await exported(epsilon))).toMatchObject({ ok: true, anchor: 'checkpoint', firstSeq: 9 });
  });
});
