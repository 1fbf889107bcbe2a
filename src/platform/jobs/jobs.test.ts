import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { sleep, waitFor } from '../../../test/wait.ts';
import { APP_ROLE, type Database } from '../db/client.ts';
import { defineJob, type Jobs, type RegisteredJob, registrable } from './jobs.ts';
import { createJobs, JOB_SCHEMA } from './pgboss.ts';

const log = pino({ level: 'silent' });

let database: TestDatabase;
let db: Database;
const running: Jobs[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  db = database.db;
});

afterAll(async () => {
  for (const jobs of running) await jobs.stop();
  await database.drop();
});

/** A started job system working the given jobs, stopped after the file. */
async function startJobs(...defs: RegisteredJob[]): Promise<Jobs> {
  const jobs = createJobs(db, log, { pollingIntervalSeconds: 0.5 });
  jobs.register(...defs);
  await jobs.start({ work: true });
  running.push(jobs);
  return jobs;
}

async function stopJobs(jobs: Jobs): Promise<void> {
  await jobs.stop();
  running.splice(running.indexOf(jobs), 1);
}

async function jobStates(name: string): Promise<string[]> {
  const { rows } = await db.query<{ state: string }>(
    `select state::text from ${JOB_SCHEMA}.job where name = $1 order by created_on`,
    [name],
  );
  return rows.map((r) => r.state);
}

const Payload = z.object({ n: z.number().int().positive(), label: z.string().trim() });

describe('jobs', () => {
  it('runs a job enqueued in a tenant transaction that commits, with its validated payload', async () => {
    const seen: unknown[] = [];
    const job = defineJob({
      name: 'test.commit',
      payload: Payload,
      handler: async (payload) => {
        seen.push(payload);
      },
    });
    const jobs = await startJobs(registrable(job));
    const id = await db.withTenant(randomUUID(), (tx) => jobs.enqueue(job, { n: 7, label: '  padded  ' }, { tx }));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => seen.length > 0);
    // The handler sees the payload as the schema parsed it (trimmed), exactly once.
    await sleep(1000);
    expect(seen).toEqual([{ n: 7, label: 'padded' }]);
  });

  it('wakes a worker when a job is queued and drains a backlog at once, not at the next poll', async () => {
    const seen: number[] = [];
    const job = defineJob({ name: 'test.woken', payload: Payload, handler: async ({ n }) => void seen.push(n) });
    // A poll a minute: anything that runs within seconds was woken.
    const jobs = createJobs(db, log, { pollingIntervalSeconds: 60 });
    jobs.register(registrable(job));
    await jobs.start({ work: true });
    running.push(jobs);
    await sleep(500); // past the worker's first, empty, fetch
    await db.withTenant(randomUUID(), async (tx) => {
      for (const n of [1, 2, 3, 4, 5]) await jobs.enqueue(job, { n, label: 'backlog' }, { tx });
    });
    await waitFor(() => seen.length === 5, 10_000);
    await jobs.enqueue(job, { n: 6, label: 'outside a transaction' });
    await waitFor(() => seen.length === 6, 10_000);
    expect(seen.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    await stopJobs(jobs);
  });

  it('never runs a job whose transaction rolls back', async () => {
    const seen: unknown[] = [];
    const job = defineJob({
      name: 'test.rollback',
      payload: Payload,
      handler: async (payload) => {
        seen.push(payload);
      },
    });
    const control = defineJob({ name: 'test.rollback-control', payload: Payload, handler: async (p) => void seen.push(p) });
    const jobs = await startJobs(registrable(job), registrable(control));
    const attempt = db.withTenant(randomUUID(), async (tx) => {
      await jobs.enqueue(job, { n: 1, label: 'doomed' }, { tx });
      throw new Error('the change fails after the job was queued');
    });
    await expect(attempt).rejects.toThrow('the change fails');
    // A committed job enqueued afterwards runs, so the worker was polling while the rolled-back one did not.
    await db.withTenant(randomUUID(), (tx) => jobs.enqueue(control, { n: 2, label: 'kept' }, { tx }));
    await waitFor(() => seen.length > 0);
    await sleep(1000);
    expect(seen).toEqual([{ n: 2, label: 'kept' }]);
    expect(await jobStates('test.rollback')).toEqual([]);
  });

  it('leaves the caller’s transaction under the row-level security role after enqueueing in it', async () => {
    const job = defineJob({ name: 'test.role', payload: Payload, handler: async () => {} });
    const jobs = await startJobs(registrable(job));
    const tenantId = randomUUID();
    const seen = await db.withTenant(tenantId, async (tx) => {
      await jobs.enqueue(job, { n: 1, label: 'in a tenant transaction' }, { tx });
      const result = (await tx.execute(
        sql`select current_user as role, current_setting('candor.tenant_id') as tenant`,
      )) as unknown as { rows: { role: string; tenant: string }[] };
      return result.rows[0];
    });
    expect(seen).toEqual({ role: APP_ROLE, tenant: tenantId });
  });

  it('refuses an invalid payload at enqueue and queues nothing', async () => {
    const job = defineJob({ name: 'test.invalid', payload: Payload, handler: async () => {} });
    const jobs = await startJobs(registrable(job));
    await expect(jobs.enqueue(job, { n: -1, label: 'negative' })).rejects.toThrow(z.ZodError);
    const bad = { n: 'three', label: 'text' } as unknown as z.infer<typeof Payload>;
    await expect(db.withTenant(randomUUID(), (tx) => jobs.enqueue(job, bad, { tx }))).rejects.toThrow(z.ZodError);
    expect(await jobStates('test.invalid')).toEqual([]);
  });

  it('retries a failing handler until it succeeds', async () => {
    const attempts: number[] = [];
    const job = defineJob({
      name: 'test.flaky',
      payload: Payload,
      retry: { limit: 3, delaySeconds: 0, backoff: false },
      handler: async ({ n }) => {
        attempts.push(n);
        if (attempts.length < 3) throw new Error(`transient failure ${attempts.length}`);
      },
    });
    const jobs = await startJobs(registrable(job));
    await jobs.enqueue(job, { n: 5, label: 'flaky' });
    await waitFor(async () => (await jobStates('test.flaky'))[0] === 'completed');
    expect(attempts).toEqual([5, 5, 5]);
  });

  it('gives up after the retry limit and marks the job failed', async () => {
    let calls = 0;
    const job = defineJob({
      name: 'test.broken',
      payload: Payload,
      retry: { limit: 1, delaySeconds: 0, backoff: false },
      handler: async () => {
        calls++;
        throw new Error('always broken');
      },
    });
    const jobs = await startJobs(registrable(job));
    await jobs.enqueue(job, { n: 1, label: 'broken' });
    await waitFor(async () => (await jobStates('test.broken'))[0] === 'failed');
    await sleep(1000);
    expect(calls).toBe(2);
  });

  it('applies changed retry settings to a queue created by an earlier start', async () => {
    const name = 'test.retry-changed';
    const noRetry = defineJob({
      name,
      payload: Payload,
      retry: { limit: 0, delaySeconds: 0, backoff: false },
      handler: async () => {},
    });
    await stopJobs(await startJobs(registrable(noRetry)));
    let calls = 0;
    const withRetry = defineJob({
      name,
      payload: Payload,
      retry: { limit: 2, delaySeconds: 0, backoff: false },
      handler: async () => {
        calls++;
        if (calls === 1) throw new Error('first attempt fails');
      },
    });
    const jobs = await startJobs(registrable(withRetry));
    await jobs.enqueue(withRetry, { n: 1, label: 'retry me' });
    await waitFor(async () => ['completed', 'failed'].includes((await jobStates(name))[0] ?? ''));
    expect(await jobStates(name)).toEqual(['completed']);
    expect(calls).toBe(2);
  });

  it('starts again without rewriting unchanged queues and schedules, and follows a changed or retired cron', async () => {
    const cronJob = (cron?: string) =>
      registrable(
        defineJob({
          name: 'test.nightly',
          payload: z.object({}),
          ...(cron ? { cron, cronPayload: {} } : {}),
          handler: async () => {},
        }),
      );
    const plain = registrable(defineJob({ name: 'test.plain', payload: Payload, handler: async () => {} }));
    const stamps = async () => {
      const queues = await db.query<{ name: string; updated: string }>(
        `select name, updated_on::text as updated from ${JOB_SCHEMA}.queue where name in ('test.nightly', 'test.plain') order by name`,
      );
      const schedules = await db.query<{ cron: string; updated: string }>(
        `select cron, updated_on::text as updated from ${JOB_SCHEMA}.schedule where name = 'test.nightly'`,
      );
      return { queues: queues.rows, schedules: schedules.rows };
    };
    await stopJobs(await startJobs(cronJob('0 3 * * *'), plain));
    const first = await stamps();
    expect(first.queues).toHaveLength(2);
    expect(first.schedules.map((s) => s.cron)).toEqual(['0 3 * * *']);
    await sleep(20); // a rewrite would move updated_on
    await stopJobs(await startJobs(cronJob('0 3 * * *'), plain));
    expect(await stamps()).toEqual(first);
    await stopJobs(await startJobs(cronJob('0 4 * * *'), plain));
    expect((await stamps()).schedules.map((s) => s.cron)).toEqual(['0 4 * * *']);
    await stopJobs(await startJobs(cronJob(), plain));
    expect((await stamps()).schedules).toEqual([]);
  });

  it('keeps one waiting job per singletonKey', async () => {
    const job = defineJob({ name: 'test.singleton', payload: Payload, handler: async () => {} });
    // Not working: the jobs wait, so the second enqueue meets the first.
    const jobs = createJobs(db, log, { pollingIntervalSeconds: 0.5 });
    jobs.register(registrable(job));
    await jobs.start({ work: false });
    running.push(jobs);
    const first = await jobs.enqueue(job, { n: 1, label: 'a' }, { singletonKey: 'k1' });
    const second = await db.withTenant(randomUUID(), (tx) => jobs.enqueue(job, { n: 2, label: 'b' }, { tx, singletonKey: 'k1' }));
    const other = await jobs.enqueue(job, { n: 3, label: 'c' }, { singletonKey: 'k2' });
    expect(first).toBeTruthy();
    expect(second).toBeNull();
    expect(other).toBeTruthy();
    expect(await jobStates('test.singleton')).toEqual(['created', 'created']);
  });
});
