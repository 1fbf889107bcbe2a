import { z } from '@hono/zod-openapi';

export const DEFAULT_DUE_DAYS = 14;

const optionalText = (max: number, message: string) =>
  z
    .string()
    .trim()
    .max(max, message)
    .optional()
    .transform((v) => v || undefined);

/** Starting a campaign by hand: everything has a default. An empty reviewer means "spread over the admins". */
export const StartCampaign = z
  .object({
    name: optionalText(120, 'use at most 120 characters'),
    dueInDays: z.coerce
      .number({ error: 'give a number of days' })
      .int('give a whole number of days')
      .min(1, 'at least 1 day')
      .max(90, 'at most 90 days')
      .default(DEFAULT_DUE_DAYS),
    reviewerId: z
      .union([z.literal(''), z.uuid('choose a reviewer from the list')])
      .optional()
      .transform((v) => v || undefined),
  })
  .openapi('StartAccessReview');
export type StartCampaign = z.input<typeof StartCampaign>;

export const Decision = z
  .object({
    decision: z.enum(['keep', 'revoke'], { error: 'choose keep or revoke' }),
    note: optionalText(1000, 'use at most 1,000 characters'),
  })
  .openapi('AccessReviewDecision');
export type Decision = z.input<typeof Decision>;

export const Reassignment = z
  .object({ reviewerId: z.uuid('choose a reviewer from the list') })
  .openapi('AccessReviewReassignment');

export const ReviewSettingsChange = z.object({ scheduleEnabled: z.boolean() }).openapi('AccessReviewSettings');

export const CampaignIdParam = z.object({
  id: z.uuid('not a campaign id').openapi({ param: { name: 'id', in: 'path' } }),
});
export const ItemParams = CampaignIdParam.extend({
  itemId: z.uuid('not an item id').openapi({ param: { name: 'itemId', in: 'path' } }),
});

export const CampaignJson = z
  .object({
    id: z.uuid(),
    name: z.string(),
    period: z.string(),
    trigger: z.enum(['schedule', 'manual']),
    startedBy: z.string(),
    startedAt: z.iso.datetime(),
    dueAt: z.iso.datetime(),
    status: z.enum(['open', 'closed']),
    overdue: z.boolean(),
    closedAt: z.iso.datetime().nullable(),
    closedBy: z.string().nullable(),
    counts: z.object({
      total: z.number().int(),
      undecided: z.number().int(),
      kept: z.number().int(),
      revoked: z.number().int(),
      flagged: z.number().int().openapi({ description: 'Items no one but the person themselves could review' }),
    }),
  })
  .openapi('AccessReview');

export const ItemJson = z
  .object({
    id: z.uuid(),
    person: z.object({ id: z.uuid(), email: z.string(), name: z.string() }),
    role: z.string(),
    roleName: z.string(),
    reviewer: z.object({ id: z.uuid(), email: z.string() }).nullable(),
    flag: z.string().nullable(),
    decision: z.enum(['keep', 'revoke']).nullable(),
    outcome: z.enum(['kept', 'revoked', 'already_gone']).nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: z.iso.datetime().nullable(),
    note: z.string().nullable(),
    grantPresent: z.boolean().openapi({ description: 'Whether the person still holds the role' }),
  })
  .openapi('AccessReviewItem');

export const CampaignDetailJson = CampaignJson.extend({ items: z.array(ItemJson) }).openapi('AccessReviewDetail');
