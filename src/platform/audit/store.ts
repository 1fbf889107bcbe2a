import { and, asc, desc, eq, gt, gte, ilike, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { GENESIS_HASH } from './canonical.ts';
import { auditCheckpoints, auditEvents, auditHeads, auditSigningKeys } from './tables.ts';

export type AuditEventRow = typeof auditEvents.$inferSelect;
export type CheckpointRow = typeof auditCheckpoints.$inferSelect;
export type SigningKeyRow = typeof auditSigningKeys.$inferSelect;

/**
 * Locks the tenant's chain head for the rest of the transaction and returns it, creating it at the genesis
 * on first use. One statement once the head exists (every audited change pays for it): a row lock, which
 * writes no new version of the row, unlike an upsert.
 */
export async function lockHead(tx: Tx, tenantId: string): Promise<{ seq: number; hash: string }> {
  const [locked] = await tx
    .select({ seq: auditHeads.seq, hash: auditHeads.hash })
    .from(auditHeads)
    .where(eq(auditHeads.tenantId, tenantId))
    .for('update');
  if (locked) return locked;
  // The tenant's first event; a concurrent first writer makes this wait for it, then lock its row.
  const [head] = await tx
    .insert(auditHeads)
    .values({ tenantId, seq: 0, hash: GENESIS_HASH })
    .onConflictDoUpdate({ target: auditHeads.tenantId, set: { seq: sql`${auditHeads.seq}` } })
    .returning({ seq: auditHeads.seq, hash: auditHeads.hash });
  if (!head) throw new Error('audit head not returned');
  return head;
}

export async function readHead(tx: Tx, tenantId: string): Promise<{ seq: number; hash: string } | undefined> {
  const [head] = await tx.select().from(auditHeads).where(eq(auditHeads.tenantId, tenantId));
  return head ? { seq: head.seq, hash: head.hash } : undefined;
}

export async function advanceHead(tx: Tx, tenantId: string, seq: number, hash: string): Promise<void> {
  await tx.update(auditHeads).set({ seq, hash }).where(eq(auditHeads.tenantId, tenantId));
}

export async function insertEvent(tx: Tx, row: typeof auditEvents.$inferInsert): Promise<void> {
  await tx.insert(auditEvents).values(row);
}

type EventInsert = typeof auditEvents.$inferInsert;

const EVENT_COLUMNS = sql.raw(
  'tenant_id, seq, occurred_at, actor_type, actor_id, actor_label, action, target_type, target_id, outcome, ip, user_agent, request_id, details, prev_hash, hash',
);

/**
 * The rows as `values (…)` for one event (the quickest to plan), or for a batch one array per column
 * through unnest: sixteen parameters however many rows, and none of the per-value query building that
 * dominated a batch's cost.
 */
function eventRows(rows: EventInsert[]): SQL {
  const [only] = rows;
  if (only && rows.length === 1) {
    const r = only;
    return sql`values (${r.tenantId}, ${r.seq}, ${r.occurredAt.toISOString()}, ${r.actorType}, ${r.actorId ?? null},
      ${r.actorLabel ?? null}, ${r.action}, ${r.targetType ?? null}, ${r.targetId ?? null}, ${r.outcome}, ${r.ip ?? null},
      ${r.userAgent ?? null}, ${r.requestId ?? null}, ${JSON.stringify(r.details ?? {})}::jsonb, ${r.prevHash}, ${r.hash})`;
  }
  const column = <T>(pick: (row: EventInsert) => T) => sql.param(rows.map(pick));
  return sql`select * from unnest(
    ${column((r) => r.tenantId)}::uuid[], ${column((r) => r.seq)}::bigint[],
    ${column((r) => r.occurredAt.toISOString())}::timestamptz[], ${column((r) => r.actorType)}::text[],
    ${column((r) => r.actorId ?? null)}::text[], ${column((r) => r.actorLabel ?? null)}::text[],
    ${column((r) => r.action)}::text[], ${column((r) => r.targetType ?? null)}::text[],
    ${column((r) => r.targetId ?? null)}::text[], ${column((r) => r.outcome)}::text[], ${column((r) => r.ip ?? null)}::text[],
    ${column((r) => r.userAgent ?? null)}::text[], ${column((r) => r.requestId ?? null)}::text[],
    ${column((r) => JSON.stringify(r.details ?? {}))}::jsonb[], ${column((r) => r.prevHash)}::text[],
    ${column((r) => r.hash)}::text[]
  )`;
}

/**
 * Appends events (consecutive, already chained) and moves the head to the last of them in one statement,
 * the insert being a data-modifying CTE of the head's update. The caller holds the head lock.
 */
export async function appendEvents(tx: Tx, tenantId: string, rows: EventInsert[]): Promise<void> {
  const last = rows.at(-1);
  if (!last) return;
  await tx.execute(sql`with appended as (insert into ${auditEvents} (${EVENT_COLUMNS}) ${eventRows(rows)})
    update ${auditHeads} set seq = ${last.seq}, hash = ${last.hash} where tenant_id = ${tenantId}`);
}

/** Events in sequence order, `limit` at a time after `afterSeq` (streaming export and verification). */
export async function eventsAfter(
  tx: Tx,
  tenantId: string,
  afterSeq: number,
  limit: number,
  until?: Date,
): Promise<AuditEventRow[]> {
  return tx
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.tenantId, tenantId),
        gt(auditEvents.seq, afterSeq),
        until ? lte(auditEvents.occurredAt, until) : undefined,
      ),
    )
    .orderBy(asc(auditEvents.seq))
    .limit(limit);
}

/** The sequence number just before the first event at or after `from` (for time-ranged exports). */
export async function seqBefore(tx: Tx, tenantId: string, from: Date): Promise<number> {
  const [row] = await tx
    .select({ seq: auditEvents.seq })
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenantId), gte(auditEvents.occurredAt, from)))
    .orderBy(asc(auditEvents.seq))
    .limit(1);
  return row ? row.seq - 1 : Number.MAX_SAFE_INTEGER;
}

export async function firstEventSeq(tx: Tx, tenantId: string): Promise<number | undefined> {
  const [row] = await tx
    .select({ seq: auditEvents.seq })
    .from(auditEvents)
    .where(eq(auditEvents.tenantId, tenantId))
    .orderBy(asc(auditEvents.seq))
    .limit(1);
  return row?.seq;
}

export async function insertCheckpoint(tx: Tx, row: CheckpointRow): Promise<void> {
  await tx.insert(auditCheckpoints).values(row).onConflictDoNothing();
}

export async function latestCheckpoint(tx: Tx, tenantId: string): Promise<CheckpointRow | undefined> {
  const [row] = await tx
    .select()
    .from(auditCheckpoints)
    .where(eq(auditCheckpoints.tenantId, tenantId))
    .orderBy(desc(auditCheckpoints.seq))
    .limit(1);
  return row;
}

export async function checkpointsBetween(tx: Tx, tenantId: string, fromSeq: number, toSeq: number): Promise<CheckpointRow[]> {
  return tx
    .select()
    .from(auditCheckpoints)
    .where(and(eq(auditCheckpoints.tenantId, tenantId), gte(auditCheckpoints.seq, fromSeq), lte(auditCheckpoints.seq, toSeq)))
    .orderBy(asc(auditCheckpoints.seq));
}

export async function recentCheckpoints(tx: Tx, tenantId: string, limit: number): Promise<CheckpointRow[]> {
  return tx
    .select()
    .from(auditCheckpoints)
    .where(eq(auditCheckpoints.tenantId, tenantId))
    .orderBy(desc(auditCheckpoints.seq))
    .limit(limit);
}

export async function signingKeys(tx: Tx, tenantId: string): Promise<SigningKeyRow[]> {
  return tx
    .select()
    .from(auditSigningKeys)
    .where(eq(auditSigningKeys.tenantId, tenantId))
    .orderBy(asc(auditSigningKeys.createdAt));
}

export async function insertSigningKey(tx: Tx, row: { tenantId: string; keyId: string; publicKey: string; privateKey: string }) {
  await tx.insert(auditSigningKeys).values(row).onConflictDoNothing();
}

/** Tenants whose chain has moved past their latest checkpoint (for the periodic checkpoint job). */
export async function headsWithoutCheckpoint(tx: Tx): Promise<{ tenantId: string; seq: number; hash: string }[]> {
  return tx
    .select({ tenantId: auditHeads.tenantId, seq: auditHeads.seq, hash: auditHeads.hash })
    .from(auditHeads)
    .where(
      sql`${auditHeads.seq} > coalesce((select max(c.seq) from ${auditCheckpoints} c where c.tenant_id = ${auditHeads.tenantId}), 0)`,
    );
}

export interface EventFilter {
  actor?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  outcome?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

function filterConditions(filter: EventFilter): (SQL | undefined)[] {
  const like = (value: string) => `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return [
    filter.actor ? or(ilike(auditEvents.actorLabel, like(filter.actor)), eq(auditEvents.actorId, filter.actor)) : undefined,
    filter.action ? ilike(auditEvents.action, `${filter.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : undefined,
    filter.target ? or(eq(auditEvents.targetId, filter.target), ilike(auditEvents.targetType, like(filter.target))) : undefined,
    filter.outcome ? eq(auditEvents.outcome, filter.outcome) : undefined,
    filter.from ? gte(auditEvents.occurredAt, filter.from) : undefined,
    filter.to ? lt(auditEvents.occurredAt, filter.to) : undefined,
  ];
}

/** A page of events, newest first, for the back office and the API. */
export async function searchEvents(tx: Tx, filter: EventFilter, limit: number, offset: number): Promise<AuditEventRow[]> {
  return tx
    .select()
    .from(auditEvents)
    .where(and(...filterConditions(filter)))
    .orderBy(desc(auditEvents.seq))
    .limit(limit)
    .offset(offset);
}

export async function countEvents(tx: Tx, filter: EventFilter): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(auditEvents)
    .where(and(...filterConditions(filter)));
  return row?.n ?? 0;
}

/** Counts a tenant's recent events matching an action (and optionally a key in details or the actor). */
export async function countRecent(
  tx: Tx,
  tenantId: string,
  match: { action: string; outcome?: string; since: Date; actorId?: string; ip?: string },
): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.tenantId, tenantId),
        eq(auditEvents.action, match.action),
        match.outcome ? eq(auditEvents.outcome, match.outcome) : undefined,
        gte(auditEvents.occurredAt, match.since),
        match.actorId ? eq(auditEvents.actorId, match.actorId) : undefined,
        match.ip ? eq(auditEvents.ip, match.ip) : undefined,
      ),
    );
  return row?.n ?? 0;
}

/** Deletes events up to and including `seq` (retention purge; needs the purge setting, see policies). */
export async function purgeEventsThrough(tx: Tx, tenantId: string, seq: number): Promise<number> {
  await tx.execute(sql`select set_config('candor.audit_purge', 'on', true)`);
  const rows = await tx
    .delete(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenantId), lte(auditEvents.seq, seq)))
    .returning({ seq: auditEvents.seq });
  await tx.delete(auditCheckpoints).where(and(eq(auditCheckpoints.tenantId, tenantId), lt(auditCheckpoints.seq, seq)));
  await tx.execute(sql`select set_config('candor.audit_purge', 'off', true)`);
  return rows.length;
}

/**
 * The newest (or oldest) checkpoint with a sequence number from `from` to `to`, both included: where a
 * retention purge may end a batch so that the rest of the trail starts right after a signed checkpoint.
 */
export async function checkpointBetween(
  tx: Tx,
  tenantId: string,
  range: { from: number; to: number },
  which: 'newest' | 'oldest',
): Promise<CheckpointRow | undefined> {
  const [row] = await tx
    .select()
    .from(auditCheckpoints)
    .where(
      and(eq(auditCheckpoints.tenantId, tenantId), gte(auditCheckpoints.seq, range.from), lte(auditCheckpoints.seq, range.to)),
    )
    .orderBy(which === 'newest' ? desc(auditCheckpoints.seq) : asc(auditCheckpoints.seq))
    .limit(1);
  return row;
}

/** The newest checkpoint at or before sequence number `seq` (the anchor a retention purge keeps). */
export async function checkpointAtOrBefore(tx: Tx, tenantId: string, seq: number): Promise<CheckpointRow | undefined> {
  const [row] = await tx
    .select()
    .from(auditCheckpoints)
    .where(and(eq(auditCheckpoints.tenantId, tenantId), lte(auditCheckpoints.seq, seq)))
    .orderBy(desc(auditCheckpoints.seq))
    .limit(1);
  return row;
}

export async function checkpointAt(tx: Tx, tenantId: string, seq: number): Promise<CheckpointRow | undefined> {
  const [row] = await tx
    .select()
    .from(auditCheckpoints)
    .where(and(eq(auditCheckpoints.tenantId, tenantId), eq(auditCheckpoints.seq, seq)));
  return row;
}

export async function findEvent(tx: Tx, tenantId: string, seq: number): Promise<AuditEventRow | undefined> {
  const [row] = await tx
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenantId), eq(auditEvents.seq, seq)));
  return row;
}

/**
 * Matching events below sequence number `beforeSeq`, newest first. Paging by sequence number rather than by
 * offset: events recorded while a long export runs would otherwise shift every later page by one.
 */
export async function searchEventsBefore(
  tx: Tx,
  tenantId: string,
  filter: EventFilter,
  beforeSeq: number,
  limit: number,
): Promise<AuditEventRow[]> {
  return tx
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenantId), lt(auditEvents.seq, beforeSeq), ...filterConditions(filter)))
    .orderBy(desc(auditEvents.seq))
    .limit(limit);
}

/** Checkpoints after sequence number `afterSeq`, oldest first (paging through the published checkpoints). */
export async function checkpointsAfter(tx: Tx, tenantId: string, afterSeq: number, limit: number): Promise<CheckpointRow[]> {
  return tx
    .select()
    .from(auditCheckpoints)
    .where(and(eq(auditCheckpoints.tenantId, tenantId), gt(auditCheckpoints.seq, afterSeq)))
    .orderBy(asc(auditCheckpoints.seq))
    .limit(limit);
}

/** Every tenant's chain head: the tenants that have a trail at all (daily verification and retention). */
export async function allHeads(tx: Tx): Promise<{ tenantId: string; seq: number; hash: string }[]> {
  return tx
    .select({ tenantId: auditHeads.tenantId, seq: auditHeads.seq, hash: auditHeads.hash })
    .from(auditHeads)
    .orderBy(asc(auditHeads.tenantId));
}
