import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { auditHeads } from '../../platform/audit/tables.ts';
import type { Tx } from '../../platform/db/client.ts';
import { siemDestinations } from './tables.ts';

export type DestinationRow = typeof siemDestinations.$inferSelect;
export type NewDestinationRow = typeof siemDestinations.$inferInsert;

const byId = (tenantId: string, id: string) => and(eq(siemDestinations.tenantId, tenantId), eq(siemDestinations.id, id));

export async function insertDestination(tx: Tx, row: NewDestinationRow): Promise<DestinationRow> {
  const [inserted] = await tx.insert(siemDestinations).values(row).returning();
  if (!inserted) throw new Error('destination not returned');
  return inserted;
}

export async function listDestinationRows(tx: Tx, tenantId: string): Promise<DestinationRow[]> {
  return tx
    .select()
    .from(siemDestinations)
    .where(eq(siemDestinations.tenantId, tenantId))
    .orderBy(asc(siemDestinations.createdAt), asc(siemDestinations.id));
}

export async function findDestination(tx: Tx, tenantId: string, id: string): Promise<DestinationRow | undefined> {
  const [row] = await tx.select().from(siemDestinations).where(byId(tenantId, id));
  return row;
}

/** Ids of the tenant's enabled destinations (what the audit hook triggers). */
export async function enabledDestinationIds(tx: Tx, tenantId: string): Promise<string[]> {
  const rows = await tx
    .select({ id: siemDestinations.id })
    .from(siemDestinations)
    .where(and(eq(siemDestinations.tenantId, tenantId), eq(siemDestinations.enabled, true)));
  return rows.map((r) => r.id);
}

export async function setDestinationEnabledRow(tx: Tx, tenantId: string, id: string, enabled: boolean): Promise<boolean> {
  const rows = await tx
    .update(siemDestinations)
    .set({ enabled })
    .where(byId(tenantId, id))
    .returning({ id: siemDestinations.id });
  return rows.length > 0;
}

export async function deleteDestinationRow(tx: Tx, tenantId: string, id: string): Promise<DestinationRow | undefined> {
  const [row] = await tx.delete(siemDestinations).where(byId(tenantId, id)).returning();
  return row;
}

/**
 * Takes the destination for one forwarding run until `seconds` from now (database time, so the clocks of
 * several workers do not matter). Returns the row when taken; `busy` when another run holds an unexpired
 * lease; undefined when the destination is gone or disabled.
 */
export async function claimDestination(
  tx: Tx,
  tenantId: string,
  id: string,
  owner: string,
  seconds: number,
): Promise<DestinationRow | 'busy' | undefined> {
  const [row] = await tx
    .update(siemDestinations)
    .set({ leaseOwner: owner, leaseUntil: sql`now() + make_interval(secs => ${seconds})` })
    .where(
      and(
        byId(tenantId, id),
        eq(siemDestinations.enabled, true),
        or(isNull(siemDestinations.leaseUntil), lt(siemDestinations.leaseUntil, sql`now()`)),
      ),
    )
    .returning();
  if (row) return row;
  const existing = await findDestination(tx, tenantId, id);
  return existing?.enabled ? 'busy' : undefined;
}

/**
 * Moves the cursor past a delivered batch and extends the lease, only if this run still holds the lease
 * and nobody moved the cursor meanwhile. False means the run lost its lease and must stop.
 */
export async function advanceCursor(
  tx: Tx,
  tenantId: string,
  id: string,
  move: { owner: string; from: number; to: number; at: Date; leaseSeconds: number },
): Promise<boolean> {
  const rows = await tx
    .update(siemDestinations)
    .set({
      cursor: move.to,
      lastSuccessAt: move.at,
      failures: 0,
      lastError: null,
      leaseUntil: sql`now() + make_interval(secs => ${move.leaseSeconds})`,
    })
    .where(and(byId(tenantId, id), eq(siemDestinations.leaseOwner, move.owner), eq(siemDestinations.cursor, move.from)))
    .returning({ id: siemDestinations.id });
  return rows.length > 0;
}

/** Records a failed delivery and gives the lease back; the cursor stays where it was. */
export async function recordDeliveryFailure(
  tx: Tx,
  tenantId: string,
  id: string,
  failure: { owner: string; error: string; at: Date },
): Promise<void> {
  await tx
    .update(siemDestinations)
    .set({
      lastError: failure.error,
      lastErrorAt: failure.at,
      failures: sql`${siemDestinations.failures} + 1`,
      leaseOwner: null,
      leaseUntil: null,
    })
    .where(and(byId(tenantId, id), eq(siemDestinations.leaseOwner, failure.owner)));
}

export async function releaseDestination(tx: Tx, tenantId: string, id: string, owner: string): Promise<void> {
  await tx
    .update(siemDestinations)
    .set({ leaseOwner: null, leaseUntil: null })
    .where(and(byId(tenantId, id), eq(siemDestinations.leaseOwner, owner)));
}

/** Enabled destinations of every tenant whose chain has moved past their cursor (the periodic sweep). */
export async function destinationsBehind(tx: Tx): Promise<{ tenantId: string; id: string }[]> {
  return tx
    .select({ tenantId: siemDestinations.tenantId, id: siemDestinations.id })
    .from(siemDestinations)
    .where(
      and(
        eq(siemDestinations.enabled, true),
        sql`${siemDestinations.cursor} < coalesce((select ${auditHeads.seq} from ${auditHeads} where ${auditHeads.tenantId} = ${siemDestinations.tenantId}), 0)`,
      ),
    );
}
