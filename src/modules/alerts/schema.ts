import { z } from '@hono/zod-openapi';

/** Every detection rule, as stored in `alerts.rule`. */
export const RULE_IDS = [
  'failed-sign-in-account',
  'failed-sign-in-ip',
  'access-denied',
  'outside-allowlist',
  'mfa-failed',
  'privileged-grant-off-hours',
  'bulk-export',
  'bulk-read',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/** Rules that count events in a window; the others fire on a single event. */
export const COUNTED_RULES = [
  'failed-sign-in-account',
  'failed-sign-in-ip',
  'access-denied',
  'mfa-failed',
  'bulk-export',
  'bulk-read',
] as const satisfies readonly RuleId[];
export type CountedRule = (typeof COUNTED_RULES)[number];

export const ALERT_STATUSES = ['open', 'acknowledged', 'closed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export type Severity = 'low' | 'medium' | 'high';

const Email = z.string().trim().toLowerCase().max(254).pipe(z.email('enter a valid email address'));

export const Threshold = z.object({
  count: z.number().int().min(1).max(1000),
  windowMinutes: z.number().int().min(1).max(1440),
});
export type Threshold = z.infer<typeof Threshold>;

export const DEFAULT_THRESHOLDS: Record<CountedRule, Threshold> = {
  'failed-sign-in-account': { count: 5, windowMinutes: 15 },
  'failed-sign-in-ip': { count: 20, windowMinutes: 15 },
  'access-denied': { count: 5, windowMinutes: 10 },
  'mfa-failed': { count: 5, windowMinutes: 15 },
  'bulk-export': { count: 3, windowMinutes: 10 },
  'bulk-read': { count: 50, windowMinutes: 10 },
};

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const TimeZone = z
  .string()
  .trim()
  .min(1, 'enter a time zone such as UTC or Europe/Berlin')
  .max(64)
  .refine(isTimeZone, 'is not a time zone this server knows (for example UTC or Europe/Berlin)');

/** Monday to Friday from `start` o'clock up to (not including) `end` o'clock, in `timeZone`. */
export const BusinessHours = z
  .object({
    start: z.number().int().min(0).max(23),
    end: z.number().int().min(1).max(24),
    timeZone: TimeZone,
  })
  .refine((h) => h.start < h.end, { path: ['end'], message: 'must be later than the start' });
export type BusinessHours = z.infer<typeof BusinessHours>;

export const DEFAULT_BUSINESS_HOURS: BusinessHours = { start: 8, end: 18, timeZone: 'UTC' };

/**
 * A tenant's detection settings. Stored as JSON and completed with defaults on read, so a rule added later
 * gets its default threshold without a migration.
 */
export const AlertSettings = z.object({
  thresholds: z.object({
    'failed-sign-in-account': Threshold.default(DEFAULT_THRESHOLDS['failed-sign-in-account']),
    'failed-sign-in-ip': Threshold.default(DEFAULT_THRESHOLDS['failed-sign-in-ip']),
    'access-denied': Threshold.default(DEFAULT_THRESHOLDS['access-denied']),
    'mfa-failed': Threshold.default(DEFAULT_THRESHOLDS['mfa-failed']),
    'bulk-export': Threshold.default(DEFAULT_THRESHOLDS['bulk-export']),
    'bulk-read': Threshold.default(DEFAULT_THRESHOLDS['bulk-read']),
  }),
  businessHours: BusinessHours.default(DEFAULT_BUSINESS_HOURS),
  /** Who receives alert mail; empty means the tenant's owners and its public security contact. */
  contacts: z.array(Email).max(20).default([]),
});
export type AlertSettings = z.infer<typeof AlertSettings>;

export function defaultAlertSettings(): AlertSettings {
  return AlertSettings.parse({ thresholds: {} });
}

const WholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'enter a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `use at least ${min}`).max(max, `use at most ${max}`));

/** Form field names for a counted rule's threshold and window. */
export const thresholdField = (rule: CountedRule, part: 'count' | 'window') => `${rule}.${part}`;

/**
 * The settings form: flat fields (`failed-sign-in-account.count`, `businessHoursStart`, `contacts` one
 * address a line) into AlertSettings, each problem reported against the field that has it.
 */
export const AlertSettingsForm = z.record(z.string(), z.string()).transform((values, ctx): AlertSettings => {
  let failed = false;
  function field<T>(name: string, schema: z.ZodType<T>): T {
    const result = schema.safeParse(values[name] ?? '');
    if (result.success) return result.data;
    failed = true;
    ctx.addIssue({ code: 'custom', path: [name], message: result.error.issues[0]?.message ?? 'is invalid' });
    return undefined as T;
  }
  const thresholds = {} as Record<CountedRule, Threshold>;
  for (const rule of COUNTED_RULES) {
    thresholds[rule] = {
      count: field(thresholdField(rule, 'count'), WholeNumber(1, 1000)),
      windowMinutes: field(thresholdField(rule, 'window'), WholeNumber(1, 1440)),
    };
  }
  const start = field('businessHoursStart', WholeNumber(0, 23));
  const end = field('businessHoursEnd', WholeNumber(1, 24));
  const timeZone = field('timeZone', TimeZone);
  if (!failed && start >= end) {
    failed = true;
    ctx.addIssue({ code: 'custom', path: ['businessHoursEnd'], message: 'must be later than the start' });
  }
  const contacts = [
    ...new Set(
      (values.contacts ?? '')
        .split(/[\s,;]+/)
        .map((v) => v.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  const invalid = contacts.find((address) => !Email.safeParse(address).success);
  if (invalid) {
    failed = true;
    ctx.addIssue({ code: 'custom', path: ['contacts'], message: `${invalid} is not a valid email address` });
  } else if (contacts.length > 20) {
    failed = true;
    ctx.addIssue({ code: 'custom', path: ['contacts'], message: 'list at most 20 addresses' });
  }
  if (failed) return z.NEVER;
  return { thresholds, businessHours: { start, end, timeZone }, contacts };
});

export const CloseAlertForm = z.object({
  note: z.string().trim().min(1, 'say why the alert is closed').max(2000, 'use at most 2000 characters'),
});
export type CloseAlertForm = z.infer<typeof CloseAlertForm>;

export const StatusFilter = z.enum(['active', 'open', 'acknowledged', 'closed', 'all']);
export type StatusFilter = z.infer<typeof StatusFilter>;

export const AlertListQuery = z.object({
  status: StatusFilter.default('active').openapi({
    description: 'active (open or acknowledged, the default), open, acknowledged, closed or all',
  }),
  page: z.coerce.number().int().min(1).max(100_000).default(1).openapi({ example: 1 }),
});

export const AlertIdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

export const AlertJson = z
  .object({
    id: z.uuid(),
    rule: z.enum(RULE_IDS),
    key: z.string().openapi({ description: 'What the rule counts by: the account, the IP address or the actor' }),
    status: z.enum(ALERT_STATUSES),
    severity: z.enum(['low', 'medium', 'high']),
    title: z.string(),
    eventSeqs: z.array(z.number().int()).openapi({ description: 'Audit trail sequence numbers of the causing events' }),
    eventCount: z.number().int(),
    openedAt: z.iso.datetime(),
    lastEventAt: z.iso.datetime(),
    acknowledgedBy: z.string().nullable(),
    acknowledgedAt: z.iso.datetime().nullable(),
    closedBy: z.string().nullable(),
    closedAt: z.iso.datetime().nullable(),
    closeNote: z.string().nullable(),
  })
  .openapi('Alert');

export const AlertEventJson = z
  .object({
    seq: z.number().int(),
    time: z.iso.datetime(),
    action: z.string(),
    actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable() }),
    outcome: z.string(),
    ip: z.string().nullable(),
    target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('AlertEvent');

export const AlertDetailJson = AlertJson.extend({ events: z.array(AlertEventJson) }).openapi('AlertDetail');

export const AlertListJson = z
  .object({ items: z.array(AlertJson), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() })
  .openapi('AlertList');

export const CloseAlertBody = CloseAlertForm.openapi('CloseAlert');
