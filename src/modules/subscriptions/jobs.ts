import { z } from 'zod';
import type { Runtime } from '../../platform/context.ts';
import { defineJob, type JobDefinition, type RegisteredJob, registrable } from '../../platform/jobs/jobs.ts';
import { DELIVERY_ATTEMPTS, deliverWebhook } from './service.ts';

const DeliverPayload = z.object({ tenantId: z.uuid(), deliveryId: z.uuid() });
type DeliverPayload = z.infer<typeof DeliverPayload>;

const definitions = new WeakMap<Runtime, JobDefinition<DeliverPayload>>();

/** One signed delivery to one endpoint: 2 s doubling with jitter between attempts, as SIEM forwarding does. */
export function deliveryJob(runtime: Runtime): JobDefinition<DeliverPayload> {
  const known = definitions.get(runtime);
  if (known) return known;
  const job = defineJob({
    name: 'subscriptions.deliver',
    payload: DeliverPayload,
    retry: { limit: DELIVERY_ATTEMPTS - 1, delaySeconds: 2, backoff: true },
    handler: (payload: DeliverPayload) => deliverWebhook(runtime, payload.tenantId, payload.deliveryId),
  });
  definitions.set(runtime, job);
  return job;
}

export function subscriptionJobs(runtime: Runtime): RegisteredJob[] {
  return [registrable(deliveryJob(runtime))];
}
