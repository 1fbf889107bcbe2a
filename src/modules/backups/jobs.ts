import { z } from 'zod';
import type { Runtime } from '../../platform/context.ts';
import { defineJob, type JobDefinition, type RegisteredJob, registrable } from '../../platform/jobs/jobs.ts';
import { runBackup, runRestoreDrill, runScheduledBackup, verifyStoredBackups } from './service.ts';

// A backup, verification or drill of a large install can run for hours; the queue must not count it failed.
const LONG_RUN_SECONDS = 12 * 60 * 60;

const Empty = z.object({}).strict() as z.ZodType<Record<string, never>>;
const RunPayload = z.object({ backupId: z.uuid() });
const VerifyPayload = z.object({ backupId: z.uuid().optional() });

// A failed backup, verification or drill is recorded and mailed by the service; repeating it at once
// would only repeat the mail's cause, so these jobs do not retry (the next run comes on schedule).
const NO_RETRY = { limit: 0, delaySeconds: 60, backoff: false };

export interface BackupJobs {
  /** A backup queued from the page or the API. */
  run: JobDefinition<z.infer<typeof RunPayload>>;
  /** Every day at 02:30 UTC, when the schedule is on; retention follows a successful backup. */
  daily: JobDefinition<Record<string, never>>;
  /** Every day at 04:30 UTC (and on demand): re-checks every stored backup's checksums. */
  verify: JobDefinition<z.infer<typeof VerifyPayload>>;
  /** On the 1st of each month at 05:00 UTC: restores the newest good backup into a scratch database. */
  drill: JobDefinition<Record<string, never>>;
}

const definitions = new WeakMap<Runtime, BackupJobs>();

/** The same definitions for the worker that runs them and the services that queue them. */
export function backupJobDefinitions(runtime: Runtime): BackupJobs {
  const known = definitions.get(runtime);
  if (known) return known;
  // Failures are recorded and mailed by the service before it throws: the job only logs them.
  const quietly = (work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (error: unknown) => runtime.log.warn({ err: error }, 'backup failed'),
    );
  const jobs: BackupJobs = {
    run: defineJob({
      name: 'backups.run',
      payload: RunPayload,
      retry: NO_RETRY,
      expireInSeconds: LONG_RUN_SECONDS,
      handler: ({ backupId }) => quietly(runBackup(runtime, { backupId, trigger: 'manual' })),
    }),
    daily: defineJob({
      name: 'backups.daily',
      payload: Empty,
      cron: '30 2 * * *',
      cronPayload: {},
      retry: NO_RETRY,
      expireInSeconds: LONG_RUN_SECONDS,
      handler: () => quietly(runScheduledBackup(runtime)),
    }),
    verify: defineJob({
      name: 'backups.verify',
      payload: VerifyPayload,
      cron: '30 4 * * *',
      cronPayload: {},
      retry: NO_RETRY,
      expireInSeconds: LONG_RUN_SECONDS,
      handler: async (payload) => {
        await verifyStoredBackups(runtime, payload.backupId ? { backupId: payload.backupId } : {});
      },
    }),
    drill: defineJob({
      name: 'backups.drill',
      payload: Empty,
      cron: '0 5 1 * *',
      cronPayload: {},
      retry: NO_RETRY,
      expireInSeconds: LONG_RUN_SECONDS,
      handler: async () => {
        await runRestoreDrill(runtime);
      },
    }),
  };
  definitions.set(runtime, jobs);
  return jobs;
}

export function backupsJobs(runtime: Runtime): RegisteredJob[] {
  const { run, daily, verify, drill } = backupJobDefinitions(runtime);
  return [registrable(run), registrable(daily), registrable(verify), registrable(drill)];
}
