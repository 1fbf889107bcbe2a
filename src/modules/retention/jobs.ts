import { z } from 'zod';
import type { Runtime } from '../../platform/context.ts';
import { defineJob, type JobDefinition, type RegisteredJob, registrable } from '../../platform/jobs/jobs.ts';
import { purgeExpiredData } from './purge.ts';

const PurgePayload = z.object({
  /** Only this tenant; every tenant when absent (the daily run). */
  tenantId: z.uuid().optional(),
  /** Who asked, for the deletion records; `schedule` when absent. */
  requestedBy: z.string().min(1).max(300).optional(),
});
export type PurgePayload = z.infer<typeof PurgePayload>;

const definitions = new WeakMap<Runtime, JobDefinition<PurgePayload>>();

/** The purge job of a runtime: the same definition for the worker that runs it and the service that queues it. */
export function purgeJobDefinition(runtime: Runtime): JobDefinition<PurgePayload> {
  const known = definitions.get(runtime);
  if (known) return known;
  const purge = defineJob({
    name: 'retention.purge',
    payload: PurgePayload,
    // Daily at 03:15 UTC, when back offices are quiet in most of the world.
    cron: '15 3 * * *',
    cronPayload: {},
    handler: async (payload) => {
      await purgeExpiredData(runtime, payload);
    },
  });
  definitions.set(runtime, purge);
  return purge;
}

export function retentionJobs(runtime: Runtime): RegisteredJob[] {
  return [registrable(purgeJobDefinition(runtime))];
}
