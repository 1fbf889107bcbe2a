import { z } from 'zod';
import type { Runtime } from '../../platform/context.ts';
import { defineJob, type RegisteredJob, registrable } from '../../platform/jobs/jobs.ts';
import { SESSION_IDLE_MS } from './service.ts';
import { deleteExpiredSessions } from './store.ts';

/** Hourly: forget sessions past their idle or absolute timeout, so the table holds only live sessions. */
export function identityJobs(runtime: Runtime): RegisteredJob[] {
  const purge = defineJob({
    name: 'identity.purge-sessions',
    payload: z.object({}),
    cron: '17 * * * *',
    cronPayload: {},
    handler: async () => {
      const now = runtime.clock.now();
      const removed = await runtime.db.withSystem((tx) =>
        deleteExpiredSessions(tx, new Date(now.getTime() - SESSION_IDLE_MS), now),
      );
      if (removed > 0) runtime.log.info({ removed }, 'expired sessions purged');
    },
  });
  return [registrable(purge)];
}
