import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { mailOutbox } from './tables.ts';

export type OutboxRow = typeof mailOutbox.$inferSelect;

export async function insertOutboxMail(tx: Tx, row: typeof mailOutbox.$inferInsert): Promise<string> {
  const [created] = await tx.insert(mailOutbox).values(row).returning({ id: mailOutbox.id });
  if (!created) throw new Error('outbox insert returned nothing');
  return created.id;
}

/**
 * Claims one queued message for a delivery attempt: counts the attempt and leases the message for
 * `leaseSeconds`, so no other worker attempts it meanwhile, in a statement of its own (no lock is held
 * while the message travels). Returns the message as claimed, or `{ busy }` when it is queued but
 * leased by an attempt under way, or undefined when it is no longer queued (sent, kept or failed).
 */
export async function claimOutboxMail(
  tx: Tx,
  tenantId: string,
  id: string,
  leaseSeconds: number,
): Promise<OutboxRow | { busy: true } | undefined> {
  const [claimed] = await tx
    .update(mailOutbox)
    .set({
      attempts: sql`${mailOutbox.attempts} + 1`,
      nextAttemptAt: sql`now() + make_interval(secs => ${leaseSeconds})`,
    })
    .where(
      and(
        eq(mailOutbox.tenantId, tenantId),
        eq(mailOutbox.id, id),
        eq(mailOutbox.status, 'queued'),
        sql`${mailOutbox.nextAttemptAt} <= now()`,
      ),
    )
    .returning();
  if (claimed) return claimed;
  const [queued] = await tx
    .select({ id: mailOutbox.id })
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.id, id), eq(mailOutbox.status, 'queued')));
  return queued ? { busy: true } : undefined;
}

/** Records a failed attempt and ends its lease, so the next retry may claim the message at once. */
export async function recordFailedAttempt(
  tx: Tx,
  tenantId: string,
  id: string,
  failure: { lastError: string; final: boolean },
): Promise<void> {
  await tx
    .update(mailOutbox)
    .set({ lastError: failure.lastError, status: failure.final ? 'failed' : 'queued', nextAttemptAt: sql`now()` })
    .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.id, id)));
}

/** Locks one message for delivery so two workers never send it twice. */
export async function lockOutboxMail(tx: Tx, tenantId: string, id: string): Promise<OutboxRow | undefined> {
  const [row] = await tx
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.id, id)))
    .for('update');
  return row;
}

export async function updateOutboxMail(
  tx: Tx,
  tenantId: string,
  id: string,
  change: Partial<Pick<OutboxRow, 'status' | 'attempts' | 'lastError' | 'messageId' | 'emlPath' | 'sentAt' | 'nextAttemptAt'>>,
): Promise<void> {
  await tx
    .update(mailOutbox)
    .set(change)
    .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.id, id)));
}

export async function listOutboxRows(tx: Tx, limit: number, offset: number): Promise<OutboxRow[]> {
  return tx.select().from(mailOutbox).orderBy(desc(mailOutbox.createdAt)).limit(limit).offset(offset);
}

export async function countOutboxRows(tx: Tx): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(mailOutbox);
  return row?.n ?? 0;
}

export async function findOutboxRow(tx: Tx, id: string): Promise<OutboxRow | undefined> {
  const [row] = await tx.select().from(mailOutbox).where(eq(mailOutbox.id, id));
  return row;
}

/** Queued messages whose delivery job is long overdue (lost with a crashed worker's queue state). */
export async function staleQueuedMail(tx: Tx, olderThan: Date): Promise<{ tenantId: string; id: string }[]> {
  return tx
    .select({ tenantId: mailOutbox.tenantId, id: mailOutbox.id })
    .from(mailOutbox)
    .where(and(eq(mailOutbox.status, 'queued'), sql`${mailOutbox.nextAttemptAt} < ${olderThan}`))
    .limit(100);
}

/**
 * Retention: deletes up to `limit` of a tenant's messages that are done (sent, kept or failed for good) and
 * finished before `before`; queued messages are never touched. Returns what went, with any kept file.
 */
export async function deleteFinishedMail(
  tx: Tx,
  tenantId: string,
  before: Date,
  limit: number,
): Promise<{ id: string; emlPath: string | null }[]> {
  const batch = tx
    .select({ id: mailOutbox.id })
    .from(mailOutbox)
    .where(
      and(
        eq(mailOutbox.tenantId, tenantId),
        inArray(mailOutbox.status, ['sent', 'kept', 'failed']),
        lt(sql`coalesce(${mailOutbox.sentAt}, ${mailOutbox.createdAt})`, before),
      ),
    )
    .limit(limit);
  return tx
    .delete(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, tenantId), inArray(mailOutbox.id, batch)))
    .returning({ id: mailOutbox.id, emlPath: mailOutbox.emlPath });
}
