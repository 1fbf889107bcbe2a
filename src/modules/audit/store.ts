import { eq } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { auditVerifications } from './tables.ts';

export type VerificationRow = typeof auditVerifications.$inferSelect;

/** Keeps the latest verification of a tenant's trail, replacing the one before. */
export async function saveVerification(tx: Tx, row: VerificationRow): Promise<void> {
  const { tenantId: _tenantId, ...rest } = row;
  await tx.insert(auditVerifications).values(row).onConflictDoUpdate({ target: auditVerifications.tenantId, set: rest });
}

export async function findVerification(tx: Tx, tenantId: string): Promise<VerificationRow | undefined> {
  const [row] = await tx.select().from(auditVerifications).where(eq(auditVerifications.tenantId, tenantId));
  return row;
}
