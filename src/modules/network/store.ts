import { and, eq } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { ipAllowlists } from './tables.ts';

export type AllowlistRow = typeof ipAllowlists.$inferSelect;

export async function readAllowlistRows(tx: Tx, tenantId: string): Promise<AllowlistRow[]> {
  return tx.select().from(ipAllowlists).where(eq(ipAllowlists.tenantId, tenantId));
}

/** One list, locked until the transaction ends when `lock` is set (concurrent edits queue, before/after stay true). */
export async function readAllowlistRow(tx: Tx, tenantId: string, list: string, lock = false): Promise<AllowlistRow | undefined> {
  const query = tx
    .select()
    .from(ipAllowlists)
    .where(and(eq(ipAllowlists.tenantId, tenantId), eq(ipAllowlists.list, list)));
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function writeAllowlistRow(tx: Tx, row: AllowlistRow): Promise<void> {
  await tx
    .insert(ipAllowlists)
    .values(row)
    .onConflictDoUpdate({
      target: [ipAllowlists.tenantId, ipAllowlists.list],
      set: { enabled: row.enabled, entries: row.entries, updatedAt: row.updatedAt, updatedBy: row.updatedBy },
    });
}
