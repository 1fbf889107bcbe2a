import { isDeepStrictEqual } from 'node:util';
import { type SQL, sql } from 'drizzle-orm';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Database, Tx } from '../db/client.ts';
import { defineChannel, listen } from '../db/notify.ts';
import type { EnqueueOptions, Jobs, RegisteredJob } from './jobs.ts';

export const JOB_SCHEMA = 'pgboss';

/** pg-boss writes `$1`-style SQL; inside one of our transactions it must run on that transaction. */
export function parameterizedSql(text: string, values: unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  parts.forEach((part, i) => {
    // drizzle drops an `undefined` chunk (leaving a bare `::int` behind); SQL's absent value is null.
    chunks.push(i % 2 === 0 ? sql.raw(part) : sql`${values[Number(part) - 1] ?? null}`);
  });
  return sql.join(chunks);
}

function transactionAdapter(tx: Tx): PgBoss.Db {
  return {
    async executeSql(text, values) {
      const result = (await tx.execute(parameterizedSql(text, values ?? []))) as unknown as { rows: unknown[] };
      return { rows: result.rows };
    },
  };
}

type QueueSettings = Pick<PgBoss.Queue, 'retryLimit' | 'retryDelay' | 'retryBackoff' | 'expireInSeconds'>;

function queueSettings(def: RegisteredJob): QueueSettings {
  return {
    retryLimit: def.retry?.limit ?? 3,
    retryDelay: def.retry?.delaySeconds ?? 30,
    retryBackoff: def.retry?.backoff ?? true,
    ...(def.expireInSeconds ? { expireInSeconds: def.expireInSeconds } : {}),
  };
}

/** Whether a stored queue already has every setting the definition asks for (unset ones are left as they are). */
function settingsHeld(stored: PgBoss.Queue, wanted: QueueSettings): boolean {
  return (Object.keys(wanted) as (keyof QueueSettings)[]).every((key) => stored[key] === wanted[key]);
}

/**
 * Schedules follow the definitions: a cron job's schedule is written when it is new or changed, and a schedule
 * with no cron definition behind it is removed (a job a newer version retired or renamed would otherwise keep
 * being queued with nobody to work it).
 */
async function reconcileSchedules(queue: PgBoss, definitions: Map<string, RegisteredJob>): Promise<void> {
  // The rows also carry their time zone, which pg-boss's type leaves out.
  const rows = (await queue.getSchedules()) as (PgBoss.Schedule & { timezone?: string })[];
  const stored = new Map(rows.map((s) => [s.name, s]));
  for (const def of definitions.values()) {
    if (!def.cron) continue;
    const data = (def.cronPayload ?? {}) as object;
    const current = stored.get(def.name);
    const unchanged = current && current.cron === def.cron && current.timezone === 'UTC' && isDeepStrictEqual(current.data, data);
    if (!unchanged) await queue.schedule(def.name, def.cron, data, { tz: 'UTC' });
  }
  for (const name of stored.keys()) {
    if (!definitions.get(name)?.cron) await queue.unschedule(name);
  }
}

/**
 * Runs queue SQL inside the caller's transaction as the session's own role. A `withTenant` transaction
 * runs as the row-level-security role, which has (and should have) no rights on the queue's schema;
 * the job row is platform plumbing, written on the caller's behalf and committed or rolled back with it.
 * The role is restored afterwards; on failure the transaction is aborted and reverts it anyway.
 */
async function asSessionRole<T>(tx: Tx, work: () => Promise<T>): Promise<T> {
  const current = (await tx.execute(sql`select current_setting('role') as role`)) as unknown as { rows: { role: string }[] };
  const role = current.rows[0]?.role ?? 'none';
  if (role === 'none') return work();
  await tx.execute(sql`select set_config('role', 'none', true)`);
  const result = await work();
  await tx.execute(sql`select set_config('role', ${role}, true)`);
  return result;
}

/** Advisory lock keys (two-int form, so they never meet the single-key locks of migrations and tenants). */
const LOCK_CLASS = 7_201_313;
const SETUP_LOCK = 1;

/**
 * Runs `work` while holding a database-wide lock, so processes starting together install the queue
 * schema and create queues one after another. pg-boss's create_queue adds a foreign key to its queue
 * table, and two of them at once deadlock (one process then fails to start). The lock is held by a
 * transaction on its own connection while `work` uses the pool (so the pool needs two connections or more);
 * PGlite has a single process and connection, and no lock is needed.
 */
async function oneStarterAtATime(db: Database, work: () => Promise<void>): Promise<void> {
  if (db.engine !== 'postgres') return work();
  await db.transaction(async (client) => {
    await client.query('select pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, SETUP_LOCK]);
    await work();
  });
}

export interface JobsOptions {
  /**
   * How often an idle worker asks for work when nobody wakes it. A job queued through `enqueue` wakes its worker
   * at once (a notification on commit), and a worker that found a job asks again at once; polling only picks up
   * what nothing announced: retries and delayed jobs coming due, cron slots, notifications lost in a reconnect.
   */
  pollingIntervalSeconds?: number;
  /** How often a worker checks whether a cron slot is due (pg-boss default 30 s; 1..45). */
  cronMonitorIntervalSeconds?: number;
  /** How often a worker turns due cron slots into jobs (pg-boss default 5 s; 1..45). */
  cronWorkerIntervalSeconds?: number;
}

// Polling is the fallback (see JobsOptions): each idle queue costs one query per interval, on PGlite in-process.
const DEFAULT_POLLING_SECONDS = 10;

/** "A job was queued for this queue": sent on commit by `enqueue`, heard by every working process. */
const jobQueued = defineChannel<string>('candor_jobs', {
  encode: (name) => name,
  decode: (text) => (text.length > 0 ? text : undefined),
});

/**
 * Jobs on pg-boss 10, over our own pool: in-process on PGlite, and across any number of processes on
 * PostgreSQL, where pg-boss's cron guard and per-slot singleton keys make each cron slot run once.
 */
export function createJobs(db: Database, log: Logger, options: JobsOptions = {}): Jobs {
  const definitions = new Map<string, RegisteredJob>();
  const running = new Set<Promise<unknown>>();
  let boss: PgBoss | undefined;
  // Per queue, this process's worker (only while working), to wake when a job is queued.
  const workers = new Map<string, string>();
  let stopListening: (() => Promise<void>) | undefined;
  const pooled: PgBoss.Db = { executeSql: (text, values) => db.query(text, values ?? []) };
  const wake = (name: string) => {
    const id = workers.get(name);
    if (id) boss?.notifyWorker(id);
  };

  function started(): PgBoss {
    if (!boss) throw new Error('jobs are not started');
    return boss;
  }

  return {
    register(...defs) {
      for (const def of defs) {
        if (definitions.has(def.name)) throw new Error(`job ${def.name} is registered twice`);
        definitions.set(def.name, def);
      }
    },

    async start({ work }) {
      const queue = new PgBoss({
        db: pooled,
        schema: JOB_SCHEMA,
        migrate: true,
        // Only workers keep schedules and maintenance; a web-only process just sends.
        supervise: work,
        schedule: work,
        ...(options.cronMonitorIntervalSeconds ? { cronMonitorIntervalSeconds: options.cronMonitorIntervalSeconds } : {}),
        ...(options.cronWorkerIntervalSeconds ? { cronWorkerIntervalSeconds: options.cronWorkerIntervalSeconds } : {}),
      });
      queue.on('error', (err) => log.error({ err }, 'job queue error'));
      await oneStarterAtATime(db, async () => {
        await queue.start();
        // Only what changed is written: a restart with nothing new touches no queue row.
        const existing = new Map((await queue.getQueues()).map((q) => [q.name, q]));
        for (const def of definitions.values()) {
          const settings = queueSettings(def);
          const current = existing.get(def.name);
          if (!current) await queue.createQueue(def.name, { name: def.name, ...settings });
          else if (!settingsHeld(current, settings)) await queue.updateQueue(def.name, { name: def.name, ...settings });
        }
      });
      boss = queue;
      if (!work) return;
      for (const def of definitions.values()) {
        const id = await queue.work<unknown>(
          def.name,
          { pollingIntervalSeconds: options.pollingIntervalSeconds ?? DEFAULT_POLLING_SECONDS, batchSize: 1 },
          async ([job]) => {
            if (!job) return;
            const run = def.run(job.data, { id: job.id });
            running.add(run);
            try {
              await run;
            } catch (err) {
              // pg-boss records the failure and retries; say so in the log too, where an operator looks.
              log.warn({ err, job: def.name, jobId: job.id }, 'job failed');
              throw err;
            } finally {
              running.delete(run);
              // More may be waiting (a backlog of mail): ask again at once rather than after the interval.
              wake(def.name);
            }
          },
        );
        workers.set(def.name, id);
      }
      await reconcileSchedules(queue, definitions);
      stopListening = await listen(db, jobQueued, {
        message: wake,
        // Some announcements may be lost: every worker looks once.
        gap: () => {
          for (const name of workers.keys()) wake(name);
        },
      }).catch((err: unknown) => {
        log.warn({ err }, 'jobs: not woken by notifications; queued jobs wait for the next poll');
        return undefined;
      });
    },

    async enqueue(def, payload, opts: EnqueueOptions = {}) {
      const data = def.payload.parse(payload) as object;
      const queue = started();
      const send = async (client: PgBoss.Db | undefined): Promise<string | null> => {
        if (opts.singletonKey && client) {
          // pg-boss 10 ignores a singleton key on a standard queue: keep "one waiting job per key" ourselves.
          await client.executeSql('select pg_advisory_xact_lock($1::int, hashtext($2))', [
            LOCK_CLASS,
            `${def.name}\n${opts.singletonKey}`,
          ]);
          const waiting = await client.executeSql(
            `select 1 from ${JOB_SCHEMA}.job where name = $1 and singleton_key = $2 and state < 'active' limit 1`,
            [def.name, opts.singletonKey],
          );
          if (waiting.rows.length > 0) return null;
        }
        const id = await queue.send(def.name, data, {
          ...(client ? { db: client } : {}),
          ...(opts.startAfter ? { startAfter: opts.startAfter } : {}),
          ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}),
        });
        // A job due now wakes its worker once this commits; a delayed one is found by polling when due.
        if (id && !(opts.startAfter && opts.startAfter.getTime() > Date.now())) await announce(client ?? pooled, def.name);
        return id;
      };
      const { tx } = opts;
      if (tx) return asSessionRole(tx, () => send(transactionAdapter(tx)));
      if (opts.singletonKey)
        return db.transaction((client) => send({ executeSql: (text, values) => client.query(text, values ?? []) }));
      return send(undefined);
    },

    async stop() {
      if (!boss) return;
      const stopping = boss;
      boss = undefined;
      workers.clear();
      await stopListening?.();
      stopListening = undefined;
      await stopping.stop({ graceful: true, wait: true, timeout: 15_000, close: false });
      await settled(running, log);
    },
  };
}

/** Sends the wake-up on the job's own connection: inside its transaction, it is delivered on commit. */
async function announce(client: PgBoss.Db, name: string): Promise<void> {
  await client.executeSql('select pg_notify($1, $2)', [jobQueued.name, jobQueued.encode(name)]);
}

/**
 * pg-boss gives up waiting for a slow job after its stop timeout, but the job still finishes later and
 * pg-boss then records completion or failure without awaiting it. Waiting for every handler (and one
 * turn of the event loop, in which that record is sent) means the pool is never closed under it.
 */
async function settled(running: Set<Promise<unknown>>, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([Promise.allSettled([...running]), limit]);
  clearTimeout(timer);
  if (outcome === 'timeout') log.warn({ jobs: running.size }, 'stopping with jobs still running');
  await new Promise((resolve) => setImmediate(resolve));
}

/** How long a stop waits for running jobs beyond pg-boss's own timeout. */
const STOP_GRACE_MS = 60_000;
