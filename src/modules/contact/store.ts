import { and, desc, eq, inArray, isNotNull, lt } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { contactMessages } from './tables.ts';

export type ContactMessageRow = typeof contactMessages.$inferSelect;

export async function insertMessage(tx: Tx, row: typeof contactMessages.$inferInsert): Promise<void> {
  await tx.insert(contactMessages).values(row);
}

export async function listMessages(tx: Tx, tenantId: string, limit: number): Promise<ContactMessageRow[]> {
  return tx
    .select()
    .from(contactMessages)
    .where(eq(contactMessages.tenantId, tenantId))
    .orderBy(desc(contactMessages.createdAt))
    .limit(limit);
}

export async function findMessage(tx: Tx, tenantId: string, id: string): Promise<ContactMessageRow | undefined> {
  const [row] = await tx
    .select()
    .from(contactMessages)
    .where(and(eq(contactMessages.tenantId, tenantId), eq(contactMessages.id, id)));
  return row;
}

export async function markHandled(tx: Tx, tenantId: string, id: string, at: Date, by: string): Promise<void> {
  await tx
    .update(contactMessages)
    .set({ handledAt: at, handledBy: by })
    .where(and(eq(contactMessages.tenantId, tenantId), eq(contactMessages.id, id)));
}

export async function deleteHandledBefore(tx: Tx, tenantId: string, cutoff: Date, limit: number): Promise<number> {
  const batch = tx
    .select({ id: contactMessages.id })
    .from(contactMessages)
    .where(
      and(eq(contactMessages.tenantId, tenantId), isNotNull(contactMessages.handledAt), lt(contactMessages.handledAt, cutoff)),
    )
    .limit(limit);
  const rows = await tx
    .delete(contactMessages)
    .where(and(eq(contactMessages.tenantId, tenantId), inArray(contactMessages.id, batch)))
    .returning({ id: contactMessages.id });
  return rows.length;
}
