import { and, count, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { retentionRules, retentionRuns } from './tables.ts';

export type RuleRow = typeof retentionRules.$inferSelect;
export type RunRow = typeof retentionRuns.$inferSelect;

// Every query names its tenant: the purge runs some categories as the schema owner, which RLS does not filter.

export async function readRuleRows(tx: Tx, tenantId: string): Promise<RuleRow[]> {
  return tx.select().from(retentionRules).where(eq(retentionRules.tenantId, tenantId));
}

/** The tenant's rule for a category; with `lock`, held until the transaction ends (concurrent edits queue). */
export async function readRuleRow(tx: Tx, tenantId: string, category: string, lock = false): Promise<RuleRow | undefined> {
  const query = tx
    .select()
    .from(retentionRules)
    .where(and(eq(retentionRules.tenantId, tenantId), eq(retentionRules.category, category)));
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function writeRuleRow(tx: Tx, row: RuleRow): Promise<void> {
  await tx
    .insert(retentionRules)
    .values(row)
    .onConflictDoUpdate({
      target: [retentionRules.tenantId, retentionRules.category],
      set: {
        periodDays: row.periodDays,
        held: row.held,
        holdReason: row.holdReason,
        updatedAt: row.updatedAt,
        updatedBy: row.updatedBy,
      },
    });
}

const leaseFromNow = (seconds: number) => sql`now() + make_interval(secs => ${seconds})`;

export interface NewRun {
  tenantId: string;
  category: string;
  periodDays: number;
  cutoff: Date;
  requestedBy: string;
  startedAt: Date;
}

/**
 * Marks the category's run as interrupted when its lease ran out (its process died or lost the database):
 * its count stays as committed, batch by batch, so the record is true as far as it goes.
 */
export async function interruptAbandonedRun(tx: Tx, tenantId: string, category: string, at: Date): Promise<void> {
  await tx
    .update(retentionRuns)
    .set({
      outcome: 'interrupted',
      finishedAt: at,
      leaseUntil: null,
      error: 'the run stopped before it finished; the count covers the batches it committed',
    })
    .where(
      and(
        eq(retentionRuns.tenantId, tenantId),
        eq(retentionRuns.category, category),
        eq(retentionRuns.outcome, 'running'),
        lt(retentionRuns.leaseUntil, sql`now()`),
      ),
    );
}

/**
 * Starts a run holding the category for `leaseSeconds`, or returns undefined when another run holds it (the
 * partial unique index admits one `running` row per tenant and category; a concurrent insert waits for the
 * other transaction and then does nothing).
 */
export async function claimRun(tx: Tx, run: NewRun, leaseSeconds: number): Promise<RunRow | undefined> {
  const [row] = await tx
    .insert(retentionRuns)
    .values({ ...run, outcome: 'running', leaseUntil: leaseFromNow(leaseSeconds) })
    .onConflictDoNothing()
    .returning();
  return row;
}

/** A run that did nothing on purpose (a legal hold), recorded as finished at once. */
export async function insertFinishedRun(tx: Tx, run: NewRun & { outcome: string }): Promise<RunRow> {
  const [row] = await tx
    .insert(retentionRuns)
    .values({ ...run, finishedAt: run.startedAt })
    .returning();
  if (!row) throw new Error('retention run insert returned nothing');
  return row;
}

/**
 * Adds a committed batch to the run's count and renews its lease, in the batch's own transaction. False when
 * the run no longer holds its category (another run found its lease expired): the batch must then roll back.
 */
export async function recordBatch(tx: Tx, tenantId: string, id: string, deleted: number, leaseSeconds: number): Promise<boolean> {
  const rows = await tx
    .update(retentionRuns)
    .set({
      deleted: sql`${retentionRuns.deleted} + ${deleted}`,
      batches: sql`${retentionRuns.batches} + 1`,
      leaseUntil: leaseFromNow(leaseSeconds),
    })
    .where(and(eq(retentionRuns.tenantId, tenantId), eq(retentionRuns.id, id), eq(retentionRuns.outcome, 'running')))
    .returning({ id: retentionRuns.id });
  return rows.length > 0;
}

export async function finishRun(
  tx: Tx,
  tenantId: string,
  id: string,
  end: { outcome: 'completed' | 'failed'; error: string | null; at: Date },
): Promise<RunRow | undefined> {
  const [row] = await tx
    .update(retentionRuns)
    .set({ outcome: end.outcome, error: end.error, finishedAt: end.at, leaseUntil: null })
    .where(and(eq(retentionRuns.tenantId, tenantId), eq(retentionRuns.id, id), eq(retentionRuns.outcome, 'running')))
    .returning();
  return row;
}

export async function findRun(tx: Tx, tenantId: string, id: string): Promise<RunRow | undefined> {
  const [row] = await tx
    .select()
    .from(retentionRuns)
    .where(and(eq(retentionRuns.tenantId, tenantId), eq(retentionRuns.id, id)));
  return row;
}

const categoryFilter = (category: string | undefined) => (category ? eq(retentionRuns.category, category) : undefined);

/** Runs newest first, optionally of one category. */
export async function listRunRows(
  tx: Tx,
  tenantId: string,
  filter: { category?: string | undefined },
  limit: number,
  offset: number,
): Promise<RunRow[]> {
  return tx
    .select()
    .from(retentionRuns)
    .where(and(eq(retentionRuns.tenantId, tenantId), categoryFilter(filter.category)))
    .orderBy(desc(retentionRuns.startedAt), desc(retentionRuns.id))
    .limit(limit)
    .offset(offset);
}

export async function countRunRows(tx: Tx, tenantId: string, filter: { category?: string | undefined }): Promise<number> {
  const [row] = await tx
    .select({ n: count() })
    .from(retentionRuns)
    .where(and(eq(retentionRuns.tenantId, tenantId), categoryFilter(filter.category)));
  return row?.n ?? 0;
}

/** The latest run of each category. */
export async function latestRunRows(tx: Tx, tenantId: string): Promise<RunRow[]> {
  return tx
    .selectDistinctOn([retentionRuns.category])
    .from(retentionRuns)
    .where(eq(retentionRuns.tenantId, tenantId))
    .orderBy(retentionRuns.category, desc(retentionRuns.startedAt), desc(retentionRuns.id));
}

/** The `deletion-records` category: up to `limit` finished runs started before `before`. */
export async function purgeOldDeletionRecords(tx: Tx, tenantId: string, before: Date, limit: number): Promise<number> {
  const batch = tx
    .select({ id: retentionRuns.id })
    .from(retentionRuns)
    .where(and(eq(retentionRuns.tenantId, tenantId), ne(retentionRuns.outcome, 'running'), lt(retentionRuns.startedAt, before)))
    .limit(limit);
  const rows = await tx
    .delete(retentionRuns)
    .where(and(eq(retentionRuns.tenantId, tenantId), inArray(retentionRuns.id, batch)))
    .returning({ id: retentionRuns.id });
  return rows.length;
}
