import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { subscribers, webhookDeliveries, webhookEndpoints } from './tables.ts';

export type SubscriberRow = typeof subscribers.$inferSelect;
export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export async function findSubscriberByIndex(tx: Tx, tenantId: string, emailIndex: string) {
  const [row] = await tx
    .select()
    .from(subscribers)
    .where(and(eq(subscribers.tenantId, tenantId), eq(subscribers.emailIndex, emailIndex)))
    .for('update');
  return row;
}

export async function findSubscriberByConfirmHash(tx: Tx, tenantId: string, hash: string) {
  const [row] = await tx
    .select()
    .from(subscribers)
    .where(and(eq(subscribers.tenantId, tenantId), eq(subscribers.confirmTokenHash, hash)))
    .for('update');
  return row;
}

export async function findSubscriber(tx: Tx, tenantId: string, id: string) {
  const [row] = await tx
    .select()
    .from(subscribers)
    .where(and(eq(subscribers.tenantId, tenantId), eq(subscribers.id, id)))
    .for('update');
  return row;
}

export async function insertSubscriber(tx: Tx, row: typeof subscribers.$inferInsert): Promise<void> {
  await tx.insert(subscribers).values(row);
}

export async function updateSubscriber(tx: Tx, tenantId: string, id: string, change: Partial<SubscriberRow>): Promise<void> {
  await tx
    .update(subscribers)
    .set(change)
    .where(and(eq(subscribers.tenantId, tenantId), eq(subscribers.id, id)));
}

export async function confirmedSubscribersOf(tx: Tx, tenantId: string, topic: string) {
  return tx
    .select()
    .from(subscribers)
    .where(
      and(eq(subscribers.tenantId, tenantId), eq(subscribers.state, 'confirmed'), sql`${topic} = any(${subscribers.topics})`),
    );
}

export async function listSubscribers(tx: Tx, tenantId: string, limit: number) {
  return tx
    .select()
    .from(subscribers)
    .where(eq(subscribers.tenantId, tenantId))
    .orderBy(desc(subscribers.createdAt))
    .limit(limit);
}

/** Unconfirmed and unsubscribed records whose last change is older than `cutoff`. */
export async function deleteStaleSubscribers(tx: Tx, tenantId: string, cutoff: Date, limit: number): Promise<number> {
  const batch = tx
    .select({ id: subscribers.id })
    .from(subscribers)
    .where(
      and(
        eq(subscribers.tenantId, tenantId),
        inArray(subscribers.state, ['pending', 'unsubscribed']),
        lt(subscribers.updatedAt, cutoff),
      ),
    )
    .limit(limit);
  const rows = await tx
    .delete(subscribers)
    .where(and(eq(subscribers.tenantId, tenantId), inArray(subscribers.id, batch)))
    .returning({ id: subscribers.id });
  return rows.length;
}

export async function insertEndpoint(tx: Tx, row: typeof webhookEndpoints.$inferInsert): Promise<void> {
  await tx.insert(webhookEndpoints).values(row);
}

export async function listEndpoints(tx: Tx, tenantId: string) {
  return tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.tenantId, tenantId)).orderBy(webhookEndpoints.createdAt);
}

export async function endpointsFor(tx: Tx, tenantId: string, topic: string) {
  return tx
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.tenantId, tenantId), sql`${topic} = any(${webhookEndpoints.topics})`));
}

export async function findEndpoint(tx: Tx, tenantId: string, id: string) {
  const [row] = await tx
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id)));
  return row;
}

export async function deleteEndpoint(tx: Tx, tenantId: string, id: string): Promise<boolean> {
  const rows = await tx
    .delete(webhookEndpoints)
    .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id)))
    .returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

export async function insertDelivery(tx: Tx, row: typeof webhookDeliveries.$inferInsert): Promise<void> {
  await tx.insert(webhookDeliveries).values(row);
}

export async function findDelivery(tx: Tx, tenantId: string, id: string) {
  const [row] = await tx
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, id)))
    .for('update');
  return row;
}

export async function updateDelivery(tx: Tx, tenantId: string, id: string, change: Partial<DeliveryRow>): Promise<void> {
  await tx
    .update(webhookDeliveries)
    .set(change)
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, id)));
}

export async function recentDeliveries(tx: Tx, tenantId: string, limit: number) {
  return tx
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.tenantId, tenantId))
    .orderBy(desc(webhookDeliveries.createdAt))
    .limit(limit);
}
