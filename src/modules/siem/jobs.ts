import { z } from 'zod';
import type { Runtime } from '../../platform/context.ts';
import { defineJob, type JobDefinition, type RegisteredJob, registrable } from '../../platform/jobs/jobs.ts';
import { destinationsToSweep, forwardEvents } from './service.ts';

const ForwardPayload = z.object({ tenantId: z.uuid(), destinationId: z.uuid() });
type ForwardPayload = z.infer<typeof ForwardPayload>;

/** When another run holds the destination, look again after this long (its lease is renewed per batch). */
const BUSY_RETRY_MS = 5_000;

export interface SiemJobs {
  /** Forwards a destination's events after its cursor; queued per destination with its id as singleton key. */
  forward: JobDefinition<ForwardPayload>;
  /** Every minute: wakes destinations whose cursor is behind their tenant's head (lost triggers, restarts). */
  sweep: JobDefinition<Record<string, never>>;
}

const definitions = new WeakMap<Runtime, SiemJobs>();

/** The SIEM jobs of a runtime: the same definitions for the worker that runs them and the hook that queues them. */
export function siemJobDefinitions(runtime: Runtime): SiemJobs {
  const known = definitions.get(runtime);
  if (known) return known;

  const wake = (payload: ForwardPayload, startAfter?: Date) =>
    runtime.jobs.enqueue(forward, payload, { singletonKey: payload.destinationId, ...(startAfter ? { startAfter } : {}) });

  const forward: JobDefinition<ForwardPayload> = defineJob({
    name: 'siem.forward',
    payload: ForwardPayload,
    // 2 s doubling (with jitter) for ten retries, about half an hour; the sweep keeps trying every minute after.
    retry: { limit: 10, delaySeconds: 2, backoff: true },
    handler: async (payload) => {
      const outcome = await forwardEvents(runtime, payload.tenantId, payload.destinationId);
      if (outcome === 'more') await wake(payload);
      if (outcome === 'busy') await wake(payload, new Date(Date.now() + BUSY_RETRY_MS));
    },
  });

  const sweep = defineJob({
    name: 'siem.sweep',
    payload: z.object({}).strict() as z.ZodType<Record<string, never>>,
    cron: '* * * * *',
    cronPayload: {},
    handler: async () => {
      for (const { tenantId, id } of await destinationsToSweep(runtime)) await wake({ tenantId, destinationId: id });
    },
  });

  const jobs = { forward, sweep };
  definitions.set(runtime, jobs);
  return jobs;
}

export function siemJobs(runtime: Runtime): RegisteredJob[] {
  const { forward, sweep } = siemJobDefinitions(runtime);
  return [registrable(forward), registrable(sweep)];
}
