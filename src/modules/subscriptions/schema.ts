import { z } from '@hono/zod-openapi';

export const TOPICS = ['updates', 'subprocessors'] as const;
export type Topic = (typeof TOPICS)[number];

export const TOPIC_TITLE: Record<Topic, string> = {
  updates: 'Security and incident updates',
  subprocessors: 'Sub-processor changes',
};

const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'use at most 254 characters')
  .regex(/^[^\s@<>()"]+@[^\s@<>()"]+\.[^\s@<>()"]+$/, 'enter an email address');

/** The public form: an address and at least one topic (checkboxes arrive as a list). */
export const SubscribeForm = z.object({
  email: Email,
  topics: z.array(z.enum(TOPICS, 'choose updates or sub-processor changes')).min(1, 'choose at least one topic'),
});
export type SubscribeInput = z.infer<typeof SubscribeForm>;

const WebhookUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((v) => {
    try {
      return ['https:', 'http:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'enter an http(s) address');

export const NewWebhook = z
  .object({
    url: WebhookUrl,
    topics: z.array(z.enum(TOPICS)).min(1, 'choose at least one topic'),
  })
  .openapi('NewSubscriptionWebhook');
export type NewWebhookInput = z.infer<typeof NewWebhook>;

export const WebhookJson = z
  .object({ id: z.uuid(), url: z.string(), topics: z.array(z.enum(TOPICS)), createdAt: z.iso.datetime(), createdBy: z.string() })
  .openapi('SubscriptionWebhook');

export const CreatedWebhookJson = WebhookJson.extend({
  secret: z.string().openapi({ description: 'The HMAC-SHA256 key; shown only in this response' }),
}).openapi('CreatedSubscriptionWebhook');

export const DeliveryJson = z
  .object({
    id: z.uuid(),
    endpointId: z.uuid(),
    topic: z.string(),
    status: z.enum(['pending', 'delivered', 'retrying', 'failed']),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
    deliveredAt: z.iso.datetime().nullable(),
  })
  .openapi('SubscriptionDelivery');

export const SummaryJson = z
  .object({
    topics: z.array(z.object({ topic: z.enum(TOPICS), confirmed: z.number().int(), pending: z.number().int() })),
    subscribers: z.array(
      z.object({
        email: z.string().openapi({ description: 'Masked: first letter and domain' }),
        state: z.enum(['pending', 'confirmed', 'unsubscribed']),
        topics: z.array(z.string()),
        createdAt: z.iso.datetime(),
      }),
    ),
  })
  .openapi('SubscriptionSummary');

export const WebhookIdParam = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }),
});
