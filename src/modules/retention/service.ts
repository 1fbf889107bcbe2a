import { auditScope } from '../../platform/audit/audit.ts';
import type { JsonValue } from '../../platform/audit/canonical.ts';
import { actorLabel, type RequestContext } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { InvalidInput, NotFound } from '../../platform/errors.ts';
import { requirePermission } from '../access/service.ts';
import { describePeriod, findCategory, RETENTION_CATEGORIES, type RetentionCategory } from './categories.ts';
import { purgeJobDefinition } from './jobs.ts';
import { effectiveRule } from './purge.ts';
import { type RuleInput, RuleUpdate } from './schema.ts';
import {
  countRunRows,
  latestRunRows,
  listRunRows,
  type RuleRow,
  type RunRow,
  readRuleRow,
  readRuleRows,
  writeRuleRow,
} from './store.ts';

export type { RetentionCategory } from './categories.ts';
export type { RunRow } from './store.ts';

export const RUNS_PAGE_SIZE = 25;

/** A category with the tenant's rule in force and its latest run, as the page and the API show it. */
export interface RuleView {
  category: RetentionCategory;
  periodDays: number;
  /** True while the tenant has no rule of its own for the category. */
  isDefault: boolean;
  held: boolean;
  holdReason: string | null;
  updatedAt: Date | null;
  updatedBy: string | null;
  lastRun: RunRow | undefined;
}

function ruleView(category: RetentionCategory, row: RuleRow | undefined, lastRun: RunRow | undefined): RuleView {
  return {
    category,
    ...effectiveRule(category, row),
    isDefault: !row,
    updatedAt: row?.updatedAt ?? null,
    updatedBy: row?.updatedBy ?? null,
    lastRun,
  };
}

function requireCategory(slug: string): RetentionCategory {
  const category = findCategory(slug);
  if (!category) throw new NotFound('retention category', slug);
  return category;
}

async function rulesOf(tx: Tx, tenantId: string): Promise<RuleView[]> {
  const rows = new Map((await readRuleRows(tx, tenantId)).map((r) => [r.category, r]));
  const runs = new Map((await latestRunRows(tx, tenantId)).map((r) => [r.category, r]));
  return RETENTION_CATEGORIES.map((c) => ruleView(c, rows.get(c.slug), runs.get(c.slug)));
}

/** Every category with the rule in force for the tenant (defaults where it set none) and its latest run. */
export async function listRetentionRules(ctx: RequestContext): Promise<RuleView[]> {
  requirePermission(ctx.actor, 'retention.read');
  return ctx.db.withTenant(ctx.tenant.id, (tx) => rulesOf(tx, ctx.tenant.id));
}

/** One category's rule, for its edit form (so only for those who may change it). */
export async function getRetentionRule(ctx: RequestContext, slug: string): Promise<RuleView> {
  requirePermission(ctx.actor, 'retention.manage');
  const category = requireCategory(slug);
  const rules = await ctx.db.withTenant(ctx.tenant.id, (tx) => rulesOf(tx, ctx.tenant.id));
  const rule = rules.find((r) => r.category.slug === category.slug);
  if (!rule) throw new NotFound('retention category', slug);
  return rule;
}

/** Refuses a period under the category's minimum, saying what the minimum is and why. */
function requireMinimum(category: RetentionCategory, periodDays: number): void {
  const { days, reason } = category.minimum;
  if (periodDays >= days) return;
  const message = `keep ${category.title.toLowerCase()} at least ${describePeriod(days)} (${days} days): ${reason}`;
  throw new InvalidInput(message, { periodDays: message });
}

/** What a rule change changed, as `field: { from, to }` pairs for the trail. */
function ruleChanges(before: RuleView, after: RuleUpdate): Record<string, JsonValue> {
  const changes: Record<string, JsonValue> = {};
  if (before.periodDays !== after.periodDays) changes.periodDays = { from: before.periodDays, to: after.periodDays };
  if (before.held !== after.held) changes.held = { from: before.held, to: after.held };
  if (before.holdReason !== after.holdReason) changes.holdReason = { from: before.holdReason, to: after.holdReason };
  return changes;
}

/**
 * Sets the tenant's rule for a category: a period from the category's minimum up (refused below it, and then
 * nothing changes), and a legal hold with its reason. Records `retention.rule_updated` with what changed;
 * saving the rule as it is changes nothing and records nothing.
 */
export async function updateRetentionRule(ctx: RequestContext, slug: string, input: RuleInput): Promise<RuleView> {
  requirePermission(ctx.actor, 'retention.manage');
  const category = requireCategory(slug);
  const update = RuleUpdate.parse(input);
  requireMinimum(category, update.periodDays);
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const before = ruleView(category, await readRuleRow(tx, tenantId, category.slug, true), undefined);
    const changes = ruleChanges(before, update);
    if (Object.keys(changes).length > 0) {
      await writeRuleRow(tx, {
        tenantId,
        category: category.slug,
        ...update,
        updatedAt: ctx.clock.now(),
        updatedBy: actorLabel(ctx.actor),
      });
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'retention.rule_updated',
        target: { type: 'retention_rule', id: category.slug },
        details: { changes },
      });
    }
    const after = (await rulesOf(tx, tenantId)).find((r) => r.category === category);
    if (!after) throw new Error('retention rule vanished after saving');
    return after;
  });
}

export interface RunPage {
  runs: RunRow[];
  category: string | undefined;
  page: number;
  size: number;
  total: number;
}

/** The deletion records, newest first, optionally of one category. */
export async function listRetentionRuns(
  ctx: RequestContext,
  query: { page: number; category?: string | undefined },
): Promise<RunPage> {
  requirePermission(ctx.actor, 'retention.read');
  const size = RUNS_PAGE_SIZE;
  const filter = { category: query.category };
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => ({
    runs: await listRunRows(tx, ctx.tenant.id, filter, size, (query.page - 1) * size),
    total: await countRunRows(tx, ctx.tenant.id, filter),
    category: query.category,
    page: query.page,
    size,
  }));
}

/**
 * Queues a purge of this tenant now, besides the daily one. At most one waits at a time: asking again while
 * one waits changes nothing (`queued: false`). The request is recorded (`retention.purge_requested`); the run
 * records its result like the daily one.
 */
export async function requestPurge(ctx: RequestContext): Promise<{ queued: boolean }> {
  requirePermission(ctx.actor, 'retention.manage');
  const tenantId = ctx.tenant.id;
  const job = purgeJobDefinition(ctx);
  return ctx.db.withTenant(tenantId, async (tx) => {
    const id = await ctx.jobs.enqueue(job, { tenantId, requestedBy: actorLabel(ctx.actor) }, { tx, singletonKey: tenantId });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'retention.purge_requested',
      target: { type: 'retention' },
      details: { queued: id !== null },
    });
    return { queued: id !== null };
  });
}
