import type { RecordedEvent } from '../../platform/audit/audit.ts';

export {
  DELIVERY_HEADER,
  postWebhook,
  SIGNATURE_HEADER,
  signatureHeader,
  verifyWebhookSignature,
} from '../../platform/http/webhook.ts';

/** The body of one delivery: the tenant and a batch of events in sequence order, each with its hash. */
export function webhookBody(tenant: { id: string; slug: string }, events: RecordedEvent[]): string {
  return JSON.stringify({ tenant, events });
}
