import { z } from 'zod';
import type { Runtime } from '../../platform/context.ts';
import { defineJob, type RegisteredJob, registrable } from '../../platform/jobs/jobs.ts';
import { signMovedHeads, verifyAllTrails } from './service.ts';

/**
 * The trail's upkeep: a signed checkpoint within five minutes of any change (what outsiders copy from the
 * public checkpoints document) and a daily verification of every chain. Expired events are purged by the
 * retention capability (`retention.purge`, category `audit-trail`).
 */
export function auditJobs(runtime: Runtime): RegisteredJob[] {
  const checkpoint = defineJob({
    name: 'audit.checkpoint',
    payload: z.object({}),
    cron: '*/5 * * * *',
    cronPayload: {},
    handler: async () => {
      const signed = await signMovedHeads(runtime);
      if (signed > 0) runtime.log.debug({ signed }, 'audit checkpoints signed');
    },
  });
  const verify = defineJob({
    name: 'audit.verify',
    payload: z.object({}),
    cron: '23 3 * * *',
    cronPayload: {},
    handler: async () => {
      const results = await verifyAllTrails(runtime);
      runtime.log.info({ trails: results.length, broken: results.filter((r) => !r.ok).length }, 'audit trails verified');
    },
  });
  return [registrable(checkpoint), registrable(verify)];
}
