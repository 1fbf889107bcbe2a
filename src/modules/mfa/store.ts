import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { mfaChallenges, mfaPasskeys, mfaPolicies, mfaRecoveryCodes, mfaTotp } from './tables.ts';

export type TotpRow = typeof mfaTotp.$inferSelect;
export type PasskeyRow = typeof mfaPasskeys.$inferSelect;

export async function findTotp(tx: Tx, userId: string): Promise<TotpRow | undefined> {
  const [row] = await tx.select().from(mfaTotp).where(eq(mfaTotp.userId, userId));
  return row;
}

/** Locks the factor's row: two requests with one code are checked one after the other, never side by side. */
export async function lockTotp(tx: Tx, userId: string): Promise<TotpRow | undefined> {
  const [row] = await tx.select().from(mfaTotp).where(eq(mfaTotp.userId, userId)).for('update');
  return row;
}

export async function insertTotp(
  tx: Tx,
  row: { tenantId: string; userId: string; secret: string; lastUsedStep: number },
): Promise<boolean> {
  const inserted = await tx.insert(mfaTotp).values(row).onConflictDoNothing().returning({ userId: mfaTotp.userId });
  return inserted.length === 1;
}

export async function setTotpLastStep(tx: Tx, userId: string, step: number): Promise<void> {
  await tx.update(mfaTotp).set({ lastUsedStep: step }).where(eq(mfaTotp.userId, userId));
}

export async function deleteTotp(tx: Tx, userId: string): Promise<boolean> {
  const deleted = await tx.delete(mfaTotp).where(eq(mfaTotp.userId, userId)).returning({ userId: mfaTotp.userId });
  return deleted.length > 0;
}

export async function replaceRecoveryCodes(tx: Tx, tenantId: string, userId: string, hashes: string[]): Promise<void> {
  await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
  await tx.insert(mfaRecoveryCodes).values(hashes.map((codeHash) => ({ tenantId, userId, codeHash })));
}

/** Spends a recovery code: true when it existed and was unused (one statement, so it can be spent only once). */
export async function spendRecoveryCode(tx: Tx, userId: string, codeHash: string, at: Date): Promise<boolean> {
  const spent = await tx
    .update(mfaRecoveryCodes)
    .set({ usedAt: at })
    .where(and(eq(mfaRecoveryCodes.userId, userId), eq(mfaRecoveryCodes.codeHash, codeHash), isNull(mfaRecoveryCodes.usedAt)))
    .returning({ codeHash: mfaRecoveryCodes.codeHash });
  return spent.length === 1;
}

export async function countUnusedRecoveryCodes(tx: Tx, userId: string): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(mfaRecoveryCodes)
    .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt)));
  return row?.n ?? 0;
}

export async function deleteRecoveryCodes(tx: Tx, userId: string): Promise<number> {
  const deleted = await tx
    .delete(mfaRecoveryCodes)
    .where(eq(mfaRecoveryCodes.userId, userId))
    .returning({ codeHash: mfaRecoveryCodes.codeHash });
  return deleted.length;
}

export async function insertPasskey(
  tx: Tx,
  row: {
    tenantId: string;
    userId: string;
    name: string;
    credentialId: string;
    publicKey: string;
    signCount: number;
    transports: string[];
  },
): Promise<PasskeyRow> {
  const [created] = await tx.insert(mfaPasskeys).values(row).returning();
  if (!created) throw new Error('passkey insert returned nothing');
  return created;
}

export function listPasskeyRows(tx: Tx, userId: string): Promise<PasskeyRow[]> {
  return tx.select().from(mfaPasskeys).where(eq(mfaPasskeys.userId, userId)).orderBy(asc(mfaPasskeys.createdAt));
}

/** Locks the credential's row so that two uses of one signature counter are checked in turn. */
export async function lockPasskeyByCredential(tx: Tx, credentialId: string): Promise<PasskeyRow | undefined> {
  const [row] = await tx.select().from(mfaPasskeys).where(eq(mfaPasskeys.credentialId, credentialId)).for('update');
  return row;
}

export async function recordPasskeyUse(tx: Tx, id: string, signCount: number, at: Date): Promise<void> {
  await tx.update(mfaPasskeys).set({ signCount, lastUsedAt: at }).where(eq(mfaPasskeys.id, id));
}

export async function deletePasskeyRow(tx: Tx, userId: string, id: string): Promise<PasskeyRow | undefined> {
  const [row] = await tx
    .delete(mfaPasskeys)
    .where(and(eq(mfaPasskeys.userId, userId), eq(mfaPasskeys.id, id)))
    .returning();
  return row;
}

export async function deletePasskeys(tx: Tx, userId: string): Promise<number> {
  const deleted = await tx.delete(mfaPasskeys).where(eq(mfaPasskeys.userId, userId)).returning({ id: mfaPasskeys.id });
  return deleted.length;
}

export async function insertChallenge(
  tx: Tx,
  row: { tenantId: string; challenge: string; purpose: string; userId: string | null; expiresAt: Date },
): Promise<void> {
  await tx.insert(mfaChallenges).values(row);
}

/** Takes a challenge out of the table: whoever deletes it first is the only one who may use it. */
export async function takeChallenge(tx: Tx, challenge: string) {
  const [row] = await tx.delete(mfaChallenges).where(eq(mfaChallenges.challenge, challenge)).returning();
  return row;
}

export async function deleteExpiredChallenges(tx: Tx, now: Date): Promise<void> {
  await tx.delete(mfaChallenges).where(sql`${mfaChallenges.expiresAt} < ${now}`);
}

export async function findPolicy(tx: Tx): Promise<{ roles: string[]; updatedAt: Date } | undefined> {
  const [row] = await tx.select({ roles: mfaPolicies.roles, updatedAt: mfaPolicies.updatedAt }).from(mfaPolicies);
  return row;
}

export async function savePolicyRoles(tx: Tx, tenantId: string, roles: string[], at: Date): Promise<void> {
  await tx
    .insert(mfaPolicies)
    .values({ tenantId, roles, updatedAt: at })
    .onConflictDoUpdate({ target: mfaPolicies.tenantId, set: { roles, updatedAt: at } });
}
