import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import { InvalidInput } from '../../platform/errors.ts';
import { requirePermission } from '../access/service.ts';
import { csvField } from '../audit/service.ts';
import { readDocuments } from '../documents/store.ts';
import { countsByDocument, countsByDomain, countsByWeek } from './store.ts';
import type { AccessEventKind } from './tables.ts';

const DAY = 86_400_000;
/** The periods the page offers, in days ending today. */
export const PERIOD_CHOICES = [30, 90, 365] as const;
export const DEFAULT_PERIOD_DAYS = 90;
/** A longer span would draw more weekly buckets than a chart or a person can read. */
const MAX_PERIOD_DAYS = 3 * 366;

export const KINDS: readonly AccessEventKind[] = ['requested', 'approved', 'denied', 'viewed', 'downloaded'];
export type Counts = Record<AccessEventKind, number>;

/** Whole UTC days: `from` is the first day counted, `to` the last (both YYYY-MM-DD). */
export interface Period {
  from: string;
  to: string;
}

export interface Analytics {
  period: Period;
  totals: Counts;
  documents: { id: string; title: string | null; counts: Counts }[];
  domains: { domain: string; companies: string[]; counts: Counts }[];
  /** Every week (Monday, UTC) the period touches, empty ones included, oldest first. */
  weeks: { week: string; counts: Counts }[];
}

const emptyCounts = (): Counts => ({ requested: 0, approved: 0, denied: 0, viewed: 0, downloaded: 0 });
const day = (d: Date) => d.toISOString().slice(0, 10);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(text: string, field: 'from' | 'to'): Date {
  const date = new Date(`${text}T00:00:00Z`);
  if (!DATE.test(text) || Number.isNaN(date.getTime()) || day(date) !== text)
    throw new InvalidInput('a date is not valid', { [field]: 'give a date as YYYY-MM-DD' });
  return date;
}

/** The last `days` days up to today (UTC). */
export function lastDays(days: number, now: Date): Period {
  return { from: day(new Date(now.getTime() - (days - 1) * DAY)), to: day(now) };
}

/**
 * The period asked for: both ends optional (the last 90 days up to today by default, or 90 days from `from`,
 * or up to `to`). A malformed date, an end before the start or more than three years are refused.
 */
export function periodOf(input: { from?: string | undefined; to?: string | undefined }, now: Date): Period {
  const span = (DEFAULT_PERIOD_DAYS - 1) * DAY;
  const to = input.to ? parseDay(input.to, 'to') : input.from ? new Date(parseDay(input.from, 'from').getTime() + span) : now;
  const from = input.from ? parseDay(input.from, 'from') : new Date(to.getTime() - span);
  if (from.getTime() > parseDay(day(to), 'to').getTime())
    throw new InvalidInput('the period ends before it starts', { to: 'choose an end on or after the start' });
  if ((to.getTime() - from.getTime()) / DAY >= MAX_PERIOD_DAYS)
    throw new InvalidInput('the period is too long', { from: 'choose at most three years' });
  return { from: day(from), to: day(to) };
}

/** The Monday (UTC) of a day's week, as PostgreSQL's date_trunc('week') gives it. */
function mondayOf(date: Date): Date {
  const back = (date.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - back));
}

function weeksOf(period: Period): string[] {
  const weeks: string[] = [];
  const last = new Date(`${period.to}T00:00:00Z`).getTime();
  for (let w = mondayOf(new Date(`${period.from}T00:00:00Z`)); w.getTime() <= last; w = new Date(w.getTime() + 7 * DAY))
    weeks.push(day(w));
  return weeks;
}

function add(map: Map<string, Counts>, key: string, kind: AccessEventKind, count: number): void {
  const counts = map.get(key) ?? emptyCounts();
  counts[kind] += count;
  map.set(key, counts);
}

const busiest = (a: { counts: Counts }, b: { counts: Counts }) =>
  b.counts.requested - a.counts.requested || b.counts.downloaded - a.counts.downloaded;

/**
 * Requests, approvals, denials, views and downloads in a period: per document, per mail domain (with the
 * company names typed for it) and per week. Needs `documents.read`.
 */
export async function documentAnalytics(ctx: RequestContext, period: Period): Promise<Analytics> {
  requirePermission(ctx.actor, 'documents.read');
  const from = new Date(`${period.from}T00:00:00Z`);
  const to = new Date(new Date(`${period.to}T00:00:00Z`).getTime() + DAY);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const [byDocument, byDomain, byWeek, documents] = [
      await countsByDocument(tx, ctx.tenant.id, from, to),
      await countsByDomain(tx, ctx.tenant.id, from, to),
      await countsByWeek(tx, ctx.tenant.id, from, to),
      await readDocuments(tx, ctx.tenant.id),
    ];
    const totals = emptyCounts();
    const perDocument = new Map<string, Counts>();
    for (const row of byDocument) {
      add(perDocument, row.documentId, row.kind, row.count);
      totals[row.kind] += row.count;
    }
    const perDomain = new Map<string, Counts>();
    const companies = new Map<string, Set<string>>();
    for (const row of byDomain) {
      add(perDomain, row.emailDomain, row.kind, row.count);
      companies.set(row.emailDomain, (companies.get(row.emailDomain) ?? new Set()).add(row.company));
    }
    const perWeek = new Map<string, Counts>();
    for (const row of byWeek) add(perWeek, row.week, row.kind, row.count);
    const titles = new Map(documents.map((d) => [d.id, d.title]));
    return {
      period,
      totals,
      documents: [...perDocument]
        .map(([id, counts]) => ({ id, title: titles.get(id) ?? null, counts }))
        .sort((a, b) => busiest(a, b) || (a.title ?? '').localeCompare(b.title ?? '')),
      domains: [...perDomain]
        .map(([domain, counts]) => ({ domain, companies: [...(companies.get(domain) ?? [])].sort(), counts }))
        .sort((a, b) => busiest(a, b) || a.domain.localeCompare(b.domain)),
      weeks: weeksOf(period).map((week) => ({ week, counts: perWeek.get(week) ?? emptyCounts() })),
    };
  });
}

const CSV_COLUMNS = ['table', 'key', 'name', 'requests', 'approvals', 'denials', 'views', 'downloads'] as const;

/** The analytics as CSV lines (RFC 4180, formula-safe: company names are typed by visitors), header first. */
export function analyticsCsv(a: Analytics): string[] {
  const line = (table: string, key: string, name: string, c: Counts) =>
    [table, key, name, c.requested, c.approved, c.denied, c.viewed, c.downloaded].map(csvField).join(',');
  return [
    CSV_COLUMNS.join(','),
    ...a.documents.map((d) => line('document', d.id, d.title ?? '(removed document)', d.counts)),
    ...a.domains.map((d) => line('domain', d.domain, d.companies.join('; '), d.counts)),
    ...a.weeks.map((w) => line('week', w.week, '', w.counts)),
  ];
}

/** The CSV export of a period; recorded as `document_analytics.exported`. Needs `documents.read`. */
export async function exportAnalyticsCsv(ctx: RequestContext, period: Period): Promise<string[]> {
  const analytics = await documentAnalytics(ctx, period);
  await ctx.db.withTenant(ctx.tenant.id, (tx) =>
    ctx.audit.record(tx, auditScope(ctx), {
      action: 'document_analytics.exported',
      target: { type: 'document_analytics', id: `${period.from}..${period.to}` },
      details: { format: 'csv', from: period.from, to: period.to, rows: analytics.documents.length + analytics.domains.length },
    }),
  );
  return analyticsCsv(analytics);
}
