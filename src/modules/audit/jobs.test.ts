import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import {
  type AuditEventRow,
  type CheckpointRow,
  latestCheckpoint,
  readHead,
  recentCheckpoints,
  searchEvents,
} from '../../platform/audit/store.ts';
import { verifyLines } from '../../platform/audit/verify.ts';
import type { Actor } from '../../platform/context.ts';
import { createTenant } from '../tenants/service.ts';
import { auditJobs } from './jobs.ts';
import { findVerification } from './store.ts';

let current = new Date('2015-01-01T00:00:00.000Z');
const clock = { now: () => current };
let t: TestApp;
let beta: string;

const actor: Actor = { kind: 'system', name: 'test' };

async function record(tenantId: string, n: number, action = 'thing.happened'): Promise<void> {
  for (let i = 0; i < n; i++) {
    current = new Date(current.getTime() + 1000);
    await t.runtime.db.withTenant(tenantId, (tx) => t.runtime.audit.record(tx, { tenantId, actor }, { action }));
  }
}

async function runJob(name: string): Promise<void> {
  const job = auditJobs(t.runtime).find((j) => j.name === name);
  if (!job) throw new Error(`no job ${name}`);
  await job.run({}, { id: `test-${name}` });
}

function head(tenantId: string) {
  return t.runtime.db.withTenant(tenantId, (tx) => readHead(tx, tenantId));
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

/** As the database superuser would: past the append-only trigger. */
async function tamper(statement: ReturnType<typeof sql>): Promise<void> {
  await t.runtime.db.withSystem(async (tx) => {
    await tx.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
    await tx.execute(statement);
    await tx.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
  });
}

beforeAll(async () => {
  t = await createTestApp({ clock });
  beta = (await createTenant(t.runtime.db, { slug: 'beta', name: 'Beta', hosts: ['beta.test'] })).id;
});

afterAll(async () => {
  await t.close();
});

describe('the checkpoint job', () => {
  it('runs every five minutes', () => {
    expect(auditJobs(t.runtime).find((j) => j.name === 'audit.checkpoint')?.cron).toBe('*/5 * * * *');
  });

  it('signs the head of every tenant whose chain moved, and only those', async () => {
    await record(t.tenant.id, 3);
    await record(beta, 2);
    await runJob('audit.checkpoint');
    for (const tenantId of [t.tenant.id, beta]) {
      const [checkpoint, chainHead] = [await latest(tenantId), await head(tenantId)];
      expect(checkpoint?.seq).toBe(chainHead?.seq);
      expect(checkpoint?.hash).toBe(chainHead?.hash);
    }
    const betaBefore = await t.runtime.db.withTenant(beta, (tx) => recentCheckpoints(tx, beta, 100));
    await record(t.tenant.id, 1);
    await runJob('audit.checkpoint');
    expect((await latest(t.tenant.id))?.seq).toBe((await head(t.tenant.id))?.seq);
    expect(await t.runtime.db.withTenant(beta, (tx) => recentCheckpoints(tx, beta, 100))).toEqual(betaBefore);
    // The signed heads verify as part of the export.
    expect(await verifyLines(await exported(t.tenant.id))).toMatchObject({ ok: true });
  });
});

describe('the daily verification', () => {
  it('keeps each tenant’s result and records the run', async () => {
    await runJob('audit.verify');
    for (const tenantId of [t.tenant.id, beta]) {
      const verification = await t.runtime.db.withTenant(tenantId, (tx) => findVerification(tx, tenantId));
      expect(verification).toMatchObject({ ok: true, anchor: 'genesis', problem: null, checkedBy: 'audit.verify' });
      expect(verification?.summary).toMatch(/^audit trail intact/);
      const [run] = await eventsWithAction(tenantId, 'audit.verified');
      expect(run).toMatchObject({ outcome: 'success', actorLabel: 'audit.verify' });
    }
  });
});

describe('verification of the stored trail', () => {
  async function tenantWithEvents(slug: string, n: number): Promise<string> {
    const id = (await createTenant(t.runtime.db, { slug, name: slug, hosts: [`${slug}.test`] })).id;
    await record(id, n);
    return id;
  }

  function verificationOf(tenantId: string) {
    return t.runtime.db.withTenant(tenantId, (tx) => findVerification(tx, tenantId));
  }

  it('fails on an event altered by the database superuser, naming it, and records the failure', async () => {
    const delta = await tenantWithEvents('delta', 5);
    await tamper(sql`update audit_events set action = 'thing.hidden' where tenant_id = ${delta} and seq = 3`);
    await runJob('audit.verify');
    const verification = await verificationOf(delta);
    expect(verification).toMatchObject({ ok: false, problem: { seq: 3, kind: 'altered' } });
    expect(verification?.summary).toMatch(/^audit trail NOT intact: seq 3: altered/);
    const [run] = await eventsWithAction(delta, 'audit.verified');
    expect(run).toMatchObject({ outcome: 'failed', details: { problem: { seq: 3, kind: 'altered' } } });
  });

  it('fails when the start of the trail was removed without a retention anchor', async () => {
    const epsilon = await tenantWithEvents('epsilon', 5);
    await tamper(sql`delete from audit_events where tenant_id = ${epsilon} and seq <= 2`);
    await runJob('audit.verify');
    expect(await verificationOf(epsilon)).toMatchObject({ ok: false, problem: { seq: 3, kind: 'missing' } });
  });

  it('fails when the newest events were removed behind the chain head', async () => {
    const zeta = await tenantWithEvents('zeta', 5);
    await tamper(sql`delete from audit_events where tenant_id = ${zeta} and seq >= 4`);
    await runJob('audit.verify');
    expect(await verificationOf(zeta)).toMatchObject({ ok: false, problem: { seq: 4, kind: 'missing' } });
  });
});
