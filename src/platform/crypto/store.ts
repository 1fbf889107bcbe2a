import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { masterKeyCheck, tenantKeys } from './tables.ts';

export type TenantKeyRow = typeof tenantKeys.$inferSelect;
export type KeyPurpose = TenantKeyRow['purpose'];

export function tenantKeyRows(tx: Tx, tenantId: string): Promise<TenantKeyRow[]> {
  return tx.select().from(tenantKeys).where(eq(tenantKeys.tenantId, tenantId)).orderBy(tenantKeys.purpose, tenantKeys.version);
}

/** Inserts a key version unless one exists (a concurrent creator won): the caller re-reads. */
export async function insertTenantKey(
  tx: Tx,
  row: { tenantId: string; purpose: KeyPurpose; version: number; wrappedKey: string; masterKeyId: string },
): Promise<void> {
  await tx.insert(tenantKeys).values(row).onConflictDoNothing();
}

export async function retireActiveKeys(tx: Tx, tenantId: string, purpose: KeyPurpose, now: Date): Promise<void> {
  await tx
    .update(tenantKeys)
    .set({ state: 'retired', retiredAt: now })
    .where(and(eq(tenantKeys.tenantId, tenantId), eq(tenantKeys.purpose, purpose), eq(tenantKeys.state, 'active')));
}

export async function deleteTenantKeys(tx: Tx, tenantId: string): Promise<number> {
  const rows = await tx.delete(tenantKeys).where(eq(tenantKeys.tenantId, tenantId)).returning({ v: tenantKeys.version });
  return rows.length;
}

/** Deletes the tenant's retired versions of `purpose`; returns their version numbers. */
export async function deleteRetiredKeys(tx: Tx, tenantId: string, purpose: KeyPurpose): Promise<number[]> {
  const rows = await tx
    .delete(tenantKeys)
    .where(and(eq(tenantKeys.tenantId, tenantId), eq(tenantKeys.purpose, purpose), eq(tenantKeys.state, 'retired')))
    .returning({ version: tenantKeys.version });
  return rows.map((r) => r.version).sort((a, b) => a - b);
}

// Advisory lock keys. The one-number form (master key) and the two-number form (per tenant) never collide.
const MASTER_KEY_LOCK = 7_201_313;
const TENANT_ROTATION_LOCK_CLASS = 7_201_314;

/**
 * Taken shared by every key creation and exclusively by a master-key re-wrap, until the transaction ends:
 * a key created meanwhile is either seen (and re-wrapped) by the re-wrap or created after it, under the
 * master key the re-wrap recorded.
 */
export async function lockKeyCreation(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock_shared(${MASTER_KEY_LOCK}::bigint)`);
}

export async function lockMasterKeyChange(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${MASTER_KEY_LOCK}::bigint)`);
}

/** Serializes rotations of one tenant's data key. */
export async function lockTenantRotation(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${TENANT_ROTATION_LOCK_CLASS}::int, hashtext(${tenantId}))`);
}

/** Every tenant's wrapped keys, for re-wrapping under a new master key (system transaction). */
export function allTenantKeys(tx: Tx): Promise<TenantKeyRow[]> {
  return tx.select().from(tenantKeys).orderBy(tenantKeys.tenantId, tenantKeys.purpose, tenantKeys.version);
}

export async function updateWrappedKey(tx: Tx, row: TenantKeyRow, wrappedKey: string, masterKeyId: string): Promise<void> {
  await tx
    .update(tenantKeys)
    .set({ wrappedKey, masterKeyId })
    .where(and(eq(tenantKeys.tenantId, row.tenantId), eq(tenantKeys.purpose, row.purpose), eq(tenantKeys.version, row.version)));
}

export async function readMasterKeyCheck(tx: Tx): Promise<typeof masterKeyCheck.$inferSelect | undefined> {
  const [row] = await tx.select().from(masterKeyCheck).where(eq(masterKeyCheck.id, 1));
  return row;
}

export async function writeMasterKeyCheck(tx: Tx, masterKeyId: string, proof: string): Promise<void> {
  await tx
    .insert(masterKeyCheck)
    .values({ id: 1, masterKeyId, proof })
    .onConflictDoUpdate({ target: masterKeyCheck.id, set: { masterKeyId, proof, updatedAt: sql`now()` } });
}

export async function countTenantKeys(tx: Tx): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(tenantKeys);
  return row?.n ?? 0;
}
