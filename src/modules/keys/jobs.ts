import { z } from 'zod';
import type { Runtime } from '../../platform/context.ts';
import { defineJob, type JobDefinition, type RegisteredJob, registrable } from '../../platform/jobs/jobs.ts';
import { getTenant } from '../tenants/service.ts';
import { queueStaleTenants, reencryptTenant } from './service.ts';

const ReencryptPayload = z.object({ tenantId: z.uuid() });
type ReencryptPayload = z.infer<typeof ReencryptPayload>;

/** Batches per job run; a longer backlog continues in a fresh job, so other queues get their turn. */
const BATCHES_PER_RUN = 50;

interface KeysJobs {
  /** Re-encrypts one tenant's stale values, a share per run, re-queueing itself until none remain. */
  reencrypt: JobDefinition<ReencryptPayload>;
  /** Hourly: queues `keys.reencrypt` for tenants with stale values (lost jobs, clear values from before encryption). */
  sweep: JobDefinition<Record<string, never>>;
}

const definitions = new WeakMap<Runtime, KeysJobs>();

function keysJobDefinitions(runtime: Runtime): KeysJobs {
  const known = definitions.get(runtime);
  if (known) return known;

  const reencrypt: JobDefinition<ReencryptPayload> = defineJob({
    name: 'keys.reencrypt',
    payload: ReencryptPayload,
    retry: { limit: 5, delaySeconds: 10, backoff: true },
    handler: async ({ tenantId }) => {
      const tenant = await getTenant(runtime.db, tenantId);
      if (!tenant) return; // deleted meanwhile: its keys and values are gone
      const run = await reencryptTenant(runtime, tenant, { maxBatches: BATCHES_PER_RUN });
      if (run.remaining === 0) return;
      // A run that changed nothing yet left stale values would spin: the sweep looks again within the hour.
      if (run.reencrypted === 0) {
        runtime.log.warn({ tenantId, remaining: run.remaining }, 're-encryption made no progress');
        return;
      }
      await runtime.jobs.enqueue(reencrypt, { tenantId }, { singletonKey: tenantId });
    },
  });

  const sweep = defineJob({
    name: 'keys.sweep',
    payload: z.object({}).strict() as z.ZodType<Record<string, never>>,
    cron: '41 * * * *',
    cronPayload: {},
    handler: async () => {
      await queueStaleTenants(runtime);
    },
  });

  const jobs = { reencrypt, sweep };
  definitions.set(runtime, jobs);
  return jobs;
}

/** The re-encryption job of a runtime: the same definition for the worker that runs it and the services that queue it. */
export function reencryptJob(runtime: Runtime): JobDefinition<ReencryptPayload> {
  return keysJobDefinitions(runtime).reencrypt;
}

export function keysJobs(runtime: Runtime): RegisteredJob[] {
  const { reencrypt, sweep } = keysJobDefinitions(runtime);
  return [registrable(reencrypt), registrable(sweep)];
}
