import type { Runtime } from '../../platform/context.ts';
import { deliveryJob } from './jobs.ts';
import { TOPICS } from './schema.ts';
import { notifyPublished } from './service.ts';

const PUBLISHING = new Set(['trust_center.published', 'trust_center.rolled_back']);

/**
 * Subscribers hear of a publish of the updates or sub-processor list from the audit event that records it:
 * the hook runs in the publishing transaction, so mails and deliveries exist exactly when the new version does.
 */
export function registerSubscriptionNotices(runtime: Runtime): void {
  const job = deliveryJob(runtime);
  runtime.audit.onRecorded(
    async (tx, event) => {
      const details = (event.details ?? {}) as { locale?: unknown; version?: unknown };
      if (typeof details.version !== 'number' || typeof details.locale !== 'string') return;
      await notifyPublished(
        runtime,
        tx,
        { tenant: event.tenant, section: event.target?.id ?? '', locale: details.locale, version: details.version },
        async (tenantId, deliveryId) => {
          await runtime.jobs.enqueue(job, { tenantId, deliveryId }, { tx });
        },
      );
    },
    {
      when: (event) =>
        PUBLISHING.has(event.action) &&
        (TOPICS as readonly string[]).includes(event.target?.id ?? '') &&
        event.outcome === 'success',
    },
  );
}
