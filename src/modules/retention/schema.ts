import { z } from '@hono/zod-openapi';

/** A hundred years: longer than any duty to keep, short enough that a typo of extra digits is caught. */
export const MAX_PERIOD_DAYS = 36_500;

export const RUN_OUTCOMES = ['running', 'completed', 'held', 'failed', 'interrupted'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

const HOLD_REASON_REQUIRED = 'say why the data is held (the matter, case or request behind the hold)';
const HoldReason = z.string().trim().max(500, 'use at most 500 characters');

/** A tenant's rule for one category, as the service takes it. */
export const RuleUpdate = z
  .object({
    periodDays: z
      .number()
      .int('enter a whole number of days')
      .min(0, 'enter a number of days, 0 or more')
      .max(MAX_PERIOD_DAYS, `use at most ${MAX_PERIOD_DAYS} days (100 years)`)
      .openapi({ description: 'How many days to keep the data; at least the category’s minimum', example: 365 }),
    held: z.boolean().openapi({ description: 'A legal hold: while true, nothing in the category is purged' }),
    holdReason: HoldReason.nullable()
      .optional()
      .transform((v) => v || null)
      .openapi({ description: 'Why the data is held; required when `held` is true', example: 'Litigation hold, case 2025-17' }),
  })
  .refine((r) => !r.held || Boolean(r.holdReason), { path: ['holdReason'], message: HOLD_REASON_REQUIRED });
export type RuleUpdate = z.infer<typeof RuleUpdate>;
/** What callers may pass: `holdReason` may be left out when there is no hold. */
export type RuleInput = z.input<typeof RuleUpdate>;

export const RuleBody = RuleUpdate.openapi('RetentionRuleUpdate');

/** The edit form: days as typed, a hold select and its reason, each problem reported beside its field. */
export const RuleForm = z
  .object({
    periodDays: z
      .string()
      .trim()
      .regex(/^\d+$/, 'enter a whole number of days')
      .transform(Number)
      .pipe(z.number().max(MAX_PERIOD_DAYS, `use at most ${MAX_PERIOD_DAYS} days (100 years)`)),
    hold: z.enum(['purge', 'hold'], { error: 'choose whether to purge or hold' }),
    holdReason: HoldReason.optional(),
  })
  .refine((f) => f.hold !== 'hold' || Boolean(f.holdReason), { path: ['holdReason'], message: HOLD_REASON_REQUIRED })
  .transform((f): RuleUpdate => ({ periodDays: f.periodDays, held: f.hold === 'hold', holdReason: f.holdReason || null }));

export const CategoryParam = z.object({
  category: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, 'not a category slug')
    .openapi({ param: { name: 'category', in: 'path' }, example: 'outgoing-mail' }),
});

export const RunsQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1).openapi({ example: 1 }),
  category: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, 'not a category slug')
    .optional()
    .openapi({ description: 'Only runs of this category' }),
});

export const RunJson = z
  .object({
    id: z.uuid(),
    category: z.string(),
    periodDays: z.number().int().openapi({ description: 'The period in force for the run' }),
    cutoff: z.iso.datetime().openapi({ description: 'Data older than this was due' }),
    deleted: z.number().int().openapi({ description: 'Rows deleted (the record never holds what they contained)' }),
    batches: z.number().int(),
    outcome: z.enum(RUN_OUTCOMES),
    error: z.string().nullable(),
    requestedBy: z.string().openapi({ description: '`schedule` for the daily run, else who asked for it' }),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
  })
  .openapi('RetentionRun');

export const RuleJson = z
  .object({
    category: z.string(),
    title: z.string(),
    description: z.string(),
    periodDays: z.number().int(),
    defaultDays: z.number().int(),
    isDefault: z.boolean().openapi({ description: 'True while the tenant has not set a period of its own' }),
    minimumDays: z.number().int(),
    minimumReason: z.string(),
    held: z.boolean(),
    holdReason: z.string().nullable(),
    updatedAt: z.iso.datetime().nullable(),
    updatedBy: z.string().nullable(),
    lastRun: RunJson.nullable(),
  })
  .openapi('RetentionRule');

export const RuleListJson = z.object({ items: z.array(RuleJson) }).openapi('RetentionRuleList');

export const RunListJson = z
  .object({ items: z.array(RunJson), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() })
  .openapi('RetentionRunList');

export const PurgeRequestedJson = z
  .object({
    queued: z.boolean().openapi({ description: 'False when a purge of this tenant was already waiting to run' }),
  })
  .openapi('RetentionPurgeRequested');
