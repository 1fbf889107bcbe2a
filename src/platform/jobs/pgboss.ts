import { type SQL, sql } from 'drizzle-orm';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Database, Tx } from '../db/client.ts';
import type { EnqueueOptions, Jobs, RegisteredJob } from './jobs.ts';

export const JOB_SCHEMA = 'pgboss';

/** pg-boss writes `$1`-style SQL; inside one of our transactions it must run on that transaction. */
export function parameterizedSql(text: string, values: unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  parts.forEach((part, i) => {
    chunks.push(i % 2 === 0 ? sql.raw(part) : sql`${values[Number(part) - 1]}`);
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

export interface JobsOptions {
  /** How often an idle worker asks for work. */
  pollingIntervalSeconds?: number;
}

/**
 * Jobs on pg-boss 10, over our own pool: in-process on PGlite, and across any number of processes on
 * PostgreSQL, where pg-boss's cron guard and per-slot singleton keys make each cron slot run once.
 */
export function createJobs(db: Database, log: Logger, options: JobsOptions = {}): Jobs {
  const definitions = new Map<string, RegisteredJob>();
  let boss: PgBoss | undefined;

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
      boss = new PgBoss({
        db: { executeSql: (text, values) => db.query(text, values ?? []) },
        schema: JOB_SCHEMA,
        migrate: true,
        // Only workers keep schedules and maintenance; a web-only process just sends.
        supervise: work,
        schedule: work,
      });
      boss.on('error', (err) => log.error({ err }, 'job queue error'));
      await boss.start();
      for (const def of definitions.values()) {
        await boss.createQueue(def.name, {
          name: def.name,
          retryLimit: def.retry?.limit ?? 3,
          retryDelay: def.retry?.delaySeconds ?? 30,
          retryBackoff: def.retry?.backoff ?? true,
        });
        if (!work) continue;
        await boss.work<unknown>(
          def.name,
          { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2, batchSize: 1 },
          async ([job]) => {
            if (!job) return;
            await def.run(job.data, { id: job.id });
          },
        );
        if (def.cron) await boss.schedule(def.name, def.cron, (def.cronPayload ?? {}) as object, { tz: 'UTC' });
        else await boss.unschedule(def.name);
      }
    },

    async enqueue(def, payload, opts: EnqueueOptions = {}) {
      const data = def.payload.parse(payload) as object;
      return started().send(def.name, data, {
        ...(opts.tx ? { db: transactionAdapter(opts.tx) } : {}),
        ...(opts.startAfter ? { startAfter: opts.startAfter } : {}),
        ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}),
      });
    },

    async stop() {
      if (!boss) return;
      const stopping = boss;
      boss = undefined;
      await stopping.stop({ graceful: true, wait: true, timeout: 15_000, close: false });
    },
  };
}
