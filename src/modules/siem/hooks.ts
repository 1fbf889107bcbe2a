import type { Runtime } from '../../platform/context.ts';
import { siemJobDefinitions } from './jobs.ts';
import { destinationsToWake, mayHaveDestinations } from './service.ts';

/**
 * Subscribes SIEM forwarding to the audit trail: each recorded event wakes the tenant's enabled
 * destinations. The job is queued in the recording transaction (so it exists exactly when the event does),
 * with the destination as singleton key: a burst of events queues one job per destination, not one per
 * event. The job itself reads from the destination's cursor, so a lost wake-up only delays forwarding until
 * the next event or the minute sweep.
 */
export function registerForwarding(runtime: Runtime): void {
  const { forward } = siemJobDefinitions(runtime);
  runtime.audit.onRecorded(
    async (tx, event) => {
      for (const destinationId of await destinationsToWake(runtime.db, tx, event.tenant)) {
        await runtime.jobs.enqueue(forward, { tenantId: event.tenant, destinationId }, { tx, singletonKey: destinationId });
      }
    },
    // Most tenants forward nowhere: their events then cost no savepoint here.
    { when: (event) => mayHaveDestinations(runtime.db, event.tenant) },
  );
}
