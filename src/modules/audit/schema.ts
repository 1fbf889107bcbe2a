import { z } from '@hono/zod-openapi';
import { ACTOR_TYPES, OUTCOMES } from '../../platform/audit/event.ts';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * A bound of a time range as people type it: a date (`2025-01-31`, a whole UTC day) or an ISO 8601 time
 * with its offset. An end given as a date includes that day, so `from=to=2025-01-31` means that one day.
 * Returns undefined when the text is neither.
 */
export function parseTimeBound(text: string, end: boolean): Date | undefined {
  if (DATE_ONLY.test(text)) {
    const day = new Date(`${text}T00:00:00.000Z`);
    // Rejects dates that do not exist (2025-02-30) instead of rolling them over into March.
    if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== text) return undefined;
    return end ? new Date(day.getTime() + DAY_MS) : day;
  }
  if (!z.iso.datetime({ offset: true }).safeParse(text).success) return undefined;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

const BOUND_MESSAGE = 'use a date like 2025-01-31 or a time like 2025-01-31T09:30:00Z';

function timeBound(end: boolean) {
  return z
    .string()
    .trim()
    .max(40)
    .optional()
    .refine((v) => !v || parseTimeBound(v, end) !== undefined, BOUND_MESSAGE)
    .transform((v) => (v ? parseTimeBound(v, end) : undefined));
}

/** An optional text filter; an empty form field means "any". */
const filterText = (description: string) =>
  z
    .string()
    .trim()
    .max(200)
    .optional()
    .transform((v) => v || undefined)
    .openapi({ description });

const filterShape = {
  actor: filterText('Actor: part of the e-mail address or name, or the exact id'),
  action: filterText('Action prefix, e.g. `session.` or `api_token.created`'),
  target: filterText('Target: part of the type, or the exact id'),
  outcome: z
    .enum([...OUTCOMES, ''])
    .optional()
    .transform((v) => v || undefined)
    .openapi({ description: 'success, denied or failed' }),
  from: timeBound(false).openapi({ description: 'From this time (inclusive); a date means that day’s start (UTC)' }),
  to: timeBound(true).openapi({ description: 'Until this time (exclusive); a date includes that whole day (UTC)' }),
};

/** The back office's filter form (query string) and the CSV export of what it shows. */
export const EventFilterQuery = z.object({
  ...filterShape,
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
export type EventFilterQuery = z.infer<typeof EventFilterQuery>;

export const API_MAX_PAGE_SIZE = 200;

export const ApiEventQuery = z.object({
  ...filterShape,
  page: z.coerce.number().int().min(1).max(100_000).default(1).openapi({ example: 1 }),
  pageSize: z.coerce.number().int().min(1).max(API_MAX_PAGE_SIZE).default(50).openapi({ example: 50 }),
});

export const RangeQuery = z.object({ from: filterShape.from, to: filterShape.to });

export const SeqParam = z.object({
  seq: z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ param: { name: 'seq', in: 'path' }, example: 42 }),
});

export const PublicCheckpointsQuery = z.object({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

const Hash = z.string().regex(/^[0-9a-f]{64}$/);

/** An event exactly as it is hashed, plus its hash: the same object as an `event` line of the export. */
export const AuditEvent = z
  .object({
    v: z.number().int(),
    tenant: z.uuid(),
    seq: z.number().int(),
    time: z.string().openapi({ example: '2025-01-31T09:30:00.000Z' }),
    actor: z.object({ type: z.enum(ACTOR_TYPES), id: z.string().nullable(), label: z.string().nullable() }),
    action: z.string().openapi({ example: 'api_token.created' }),
    target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
    outcome: z.enum(OUTCOMES),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    prev: Hash.openapi({ description: 'Hash of the event before (64 zeros for the first)' }),
    hash: Hash.openapi({ description: 'SHA-256 of the event’s canonical JSON (RFC 8785)' }),
  })
  .openapi('AuditEvent');

export const AuditEventList = z
  .object({
    items: z.array(AuditEvent),
    page: z.number().int(),
    pageSize: z.number().int(),
    total: z.number().int(),
  })
  .openapi('AuditEventList');

export const Verification = z
  .object({
    ok: z.boolean(),
    summary: z.string().openapi({ example: 'audit trail intact: events 1–42 (42), 1 checkpoints, from the first event; …' }),
    checkedAt: z.iso.datetime(),
    events: z.number().int(),
    checkpoints: z.number().int(),
    firstSeq: z.number().int().nullable(),
    lastSeq: z.number().int().nullable(),
    lastHash: z.string().nullable(),
    anchor: z.enum(['genesis', 'checkpoint', 'none', 'empty']),
    problem: z
      .object({
        seq: z.number().int().nullable(),
        line: z.number().int(),
        kind: z.string().openapi({ example: 'altered' }),
        message: z.string(),
      })
      .nullable(),
  })
  .openapi('AuditVerification');
