import { and, asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { customers } from './tables.ts';

export type CustomerRow = typeof customers.$inferSelect;

export function readCustomers(tx: Tx, tenantId: string): Promise<CustomerRow[]> {
  return tx
    .select()
    .from(customers)
    .where(eq(customers.tenantId, tenantId))
    .orderBy(sql`lower(${customers.name}) collate "C"`, asc(customers.id));
}

export async function readCustomer(tx: Tx, tenantId: string, id: string): Promise<CustomerRow | undefined> {
  const [row] = await tx
    .select()
    .from(customers)
    .where(and(eq(customers.tenantId, tenantId), eq(customers.id, id)));
  return row;
}

export async function insertCustomer(tx: Tx, row: typeof customers.$inferInsert): Promise<CustomerRow> {
  const [inserted] = await tx.insert(customers).values(row).returning();
  if (!inserted) throw new Error('customer insert returned nothing');
  return inserted;
}

export async function updateCustomer(tx: Tx, tenantId: string, id: string, change: Partial<CustomerRow>) {
  const [row] = await tx
    .update(customers)
    .set(change)
    .where(and(eq(customers.tenantId, tenantId), eq(customers.id, id)))
    .returning();
  return row;
}

export async function deleteCustomer(tx: Tx, tenantId: string, id: string): Promise<boolean> {
  const rows = await tx
    .delete(customers)
    .where(and(eq(customers.tenantId, tenantId), eq(customers.id, id)))
    .returning({ id: customers.id });
  return rows.length > 0;
}
