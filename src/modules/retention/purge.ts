import type { JsonValue } from '../../platform/audit/canonical.ts';
import type { Runtime } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { listAllTenants } from '../tenants/service.ts';
import { RETENTION_CATEGORIES, type RetentionCategory } from './categories.ts';
import {
  claimRun,
  finishRun,
  insertFinishedRun,
  interruptAbandonedRun,
  type NewRun,
  type RuleRow,
  type RunRow,
  readRuleRow,
  recordBatch,
} from './store.ts';

/** Rows per transaction: short enough that PGlite's one connection is never held for long. */
export const PURGE_BATCH_SIZE = 1000;
/** A run's hold on its category, renewed with every batch; a run silent for longer is taken to be dead. */
export const LEASE_SECONDS = 600;
const DAY_MS = 86_400_000;
const MAX_ERROR_LENGTH = 500;

/** The actor the purge records its runs as. */
export const PURGE_ACTOR = { kind: 'system', name: 'retention.purge' } as const;

export interface EffectiveRule {
  periodDays: number;
  held: boolean;
  holdReason: string | null;
}

/**
 * The rule in force: the tenant's own, else the default. A period below the minimum (saved before a minimum
 * was raised) counts as the minimum: the purge never removes data the category says must stay.
 */
export function effectiveRule(category: RetentionCategory, row: RuleRow | undefined): EffectiveRule {
  return {
    periodDays: Math.max(row?.periodDays ?? category.defaultDays, category.minimum.days),
    held: row?.held ?? false,
    holdReason: row?.holdReason ?? null,
  };
}

export type CategoryOutcome =
  | { category: string; outcome: 'completed' | 'held'; deleted: number; runId: string }
  | { category: string; outcome: 'failed' | 'interrupted'; deleted: number; runId: string; error: string }
  /** Another run holds the category; it records its own result. */
  | { category: string; outcome: 'busy'; deleted: 0 };

export interface TenantPurge {
  tenantId: string;
  categories: CategoryOutcome[];
}

export interface PurgeOptions {
  /** Only this tenant (a purge asked for from its back office); all tenants otherwise. */
  tenantId?: string | undefined;
  /** `schedule`, or who asked. */
  requestedBy?: string | undefined;
  batchSize?: number | undefined;
}

class LeaseLost extends Error {
  constructor() {
    super('another run took over this category');
  }
}

function inCategoryTransaction<T>(
  runtime: Runtime,
  category: RetentionCategory,
  tenantId: string,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  return category.runsAs === 'schema-owner' ? runtime.db.withSystem(work) : runtime.db.withTenant(tenantId, work);
}

/** Reads the rule and either records a held run or claims the category for a new run. */
async function startRun(
  runtime: Runtime,
  tenantId: string,
  category: RetentionCategory,
  requestedBy: string,
): Promise<{ held: RunRow } | { run: RunRow } | { busy: true }> {
  const startedAt = runtime.clock.now();
  return runtime.db.withTenant(tenantId, async (tx) => {
    const rule = effectiveRule(category, await readRuleRow(tx, tenantId, category.slug));
    const run: NewRun = {
      tenantId,
      category: category.slug,
      periodDays: rule.periodDays,
      cutoff: new Date(startedAt.getTime() - rule.periodDays * DAY_MS),
      requestedBy,
      startedAt,
    };
    if (rule.held) return { held: await insertFinishedRun(tx, { ...run, outcome: 'held' }) };
    await interruptAbandonedRun(tx, tenantId, category.slug, startedAt);
    const claimed = await claimRun(tx, run, LEASE_SECONDS);
    return claimed ? { run: claimed } : { busy: true };
  });
}

/** Deletes batch after batch, each in its own transaction with its count, until nothing more is due. */
async function purgeInBatches(runtime: Runtime, category: RetentionCategory, run: RunRow, batchSize: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const removed = await inCategoryTransaction(runtime, category, run.tenantId, async (tx) => {
      const n = await category.purge(tx, run.tenantId, run.cutoff, batchSize, runtime);
      // The count commits with the deletion it counts, so the record is right even if the process dies next.
      if (n > 0 && !(await recordBatch(tx, run.tenantId, run.id, n, LEASE_SECONDS))) throw new LeaseLost();
      return n;
    });
    if (removed === 0) return deleted;
    deleted += removed;
  }
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_LENGTH);
}

/** One category of one tenant: claim it, purge it in batches, and finish its deletion record. */
export async function purgeCategory(
  runtime: Runtime,
  tenantId: string,
  category: RetentionCategory,
  options: { requestedBy: string; batchSize: number },
): Promise<CategoryOutcome> {
  const start = await startRun(runtime, tenantId, category, options.requestedBy);
  if ('busy' in start) return { category: category.slug, outcome: 'busy', deleted: 0 };
  if ('held' in start) return { category: category.slug, outcome: 'held', deleted: 0, runId: start.held.id };
  const { run } = start;
  let deleted = 0;
  try {
    deleted = await purgeInBatches(runtime, category, run, options.batchSize);
    await runtime.db.withTenant(tenantId, (tx) =>
      finishRun(tx, tenantId, run.id, { outcome: 'completed', error: null, at: runtime.clock.now() }),
    );
    return { category: category.slug, outcome: 'completed', deleted, runId: run.id };
  } catch (error) {
    const text = errorText(error);
    if (error instanceof LeaseLost) {
      runtime.log.warn({ tenantId, category: category.slug, runId: run.id }, 'retention run lost its category to another run');
      return { category: category.slug, outcome: 'interrupted', deleted, runId: run.id, error: text };
    }
    runtime.log.error({ err: error, tenantId, category: category.slug, runId: run.id }, 'retention purge failed');
    const finished = await runtime.db.withTenant(tenantId, (tx) =>
      finishRun(tx, tenantId, run.id, { outcome: 'failed', error: text, at: runtime.clock.now() }),
    );
    return { category: category.slug, outcome: 'failed', deleted: finished?.deleted ?? deleted, runId: run.id, error: text };
  }
}

/** The trail's summary of one tenant's run: counts per category, never what was deleted. */
function purgeDetails(outcomes: CategoryOutcome[], requestedBy: string): Record<string, JsonValue> {
  const deleted: Record<string, JsonValue> = {};
  const failed: Record<string, JsonValue> = {};
  const held: string[] = [];
  const busy: string[] = [];
  for (const o of outcomes) {
    if (o.outcome === 'held') held.push(o.category);
    else if (o.outcome === 'busy') busy.push(o.category);
    else deleted[o.category] = o.deleted;
    if (o.outcome === 'failed' || o.outcome === 'interrupted') failed[o.category] = o.error;
  }
  const total = outcomes.reduce((sum, o) => sum + o.deleted, 0);
  return { requestedBy, total, deleted, held, busy, failed };
}

/** Every category of one tenant, then one `retention.purged` event summarizing the run. */
export async function purgeTenant(
  runtime: Runtime,
  tenantId: string,
  options: { requestedBy: string; batchSize: number },
): Promise<TenantPurge> {
  const categories: CategoryOutcome[] = [];
  for (const category of RETENTION_CATEGORIES) categories.push(await purgeCategory(runtime, tenantId, category, options));
  const failed = categories.some((o) => o.outcome === 'failed');
  await runtime.db.withTenant(tenantId, (tx) =>
    runtime.audit.record(
      tx,
      { tenantId, actor: PURGE_ACTOR },
      {
        action: 'retention.purged',
        target: { type: 'retention' },
        outcome: failed ? 'failed' : 'success',
        details: purgeDetails(categories, options.requestedBy),
      },
    ),
  );
  const total = categories.reduce((sum, o) => sum + o.deleted, 0);
  if (total > 0 || failed) runtime.log.info({ tenantId, total, failed }, 'retention purge ran');
  return { tenantId, categories };
}

// Self-hosted installs have a handful of tenants; the bound only keeps a runaway list finite.
const MAX_TENANTS = 100_000;

/**
 * The daily purge (or one tenant's, when asked for from its back office). A tenant whose run fails does not
 * stop the others; the job then fails as a whole so the queue retries it, which is safe: every category
 * resumes from what is still due.
 */
export async function purgeExpiredData(runtime: Runtime, options: PurgeOptions = {}): Promise<TenantPurge[]> {
  const settings = { requestedBy: options.requestedBy ?? 'schedule', batchSize: options.batchSize ?? PURGE_BATCH_SIZE };
  const tenantIds = options.tenantId
    ? [options.tenantId]
    : (await listAllTenants(runtime.db, MAX_TENANTS)).map((tenant) => tenant.id);
  const results: TenantPurge[] = [];
  const failures: string[] = [];
  for (const tenantId of tenantIds) {
    try {
      results.push(await purgeTenant(runtime, tenantId, settings));
    } catch (error) {
      runtime.log.error({ err: error, tenantId }, 'retention purge of a tenant failed');
      failures.push(tenantId);
    }
  }
  if (failures.length > 0) throw new Error(`retention purge failed for ${failures.length} tenant(s): ${failures.join(', ')}`);
  return results;
}
