import { and, eq, lt } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { ssoIdentities, ssoLoginStates, ssoSettings } from './tables.ts';

export type SsoSettingsRow = typeof ssoSettings.$inferSelect;
export type SsoSettingsValues = Omit<SsoSettingsRow, 'tenantId' | 'updatedAt'>;

export async function findSettings(tx: Tx): Promise<SsoSettingsRow | undefined> {
  const [row] = await tx.select().from(ssoSettings);
  return row;
}

/** The settings row locked for a change, so two saves cannot interleave their rule checks. */
export async function lockSettings(tx: Tx): Promise<SsoSettingsRow | undefined> {
  const [row] = await tx.select().from(ssoSettings).for('update');
  return row;
}

export async function saveSettings(tx: Tx, tenantId: string, values: SsoSettingsValues, at: Date): Promise<void> {
  const row = { ...values, updatedAt: at };
  await tx
    .insert(ssoSettings)
    .values({ tenantId, ...row })
    .onConflictDoUpdate({ target: ssoSettings.tenantId, set: row });
}

export async function markSettingsVerified(tx: Tx, at: Date): Promise<void> {
  await tx.update(ssoSettings).set({ verifiedAt: at });
}

export async function insertLoginState(tx: Tx, row: typeof ssoLoginStates.$inferInsert): Promise<void> {
  await tx.insert(ssoLoginStates).values(row);
}

/** Deletes and returns a login state: the delete is the single use (of two racing callbacks, one gets it). */
export async function takeLoginState(tx: Tx, stateHash: string) {
  const [row] = await tx.delete(ssoLoginStates).where(eq(ssoLoginStates.stateHash, stateHash)).returning();
  return row;
}

export async function deleteExpiredLoginStates(tx: Tx, now: Date): Promise<void> {
  await tx.delete(ssoLoginStates).where(lt(ssoLoginStates.expiresAt, now));
}

export async function findIdentity(tx: Tx, issuer: string, subject: string) {
  const [row] = await tx
    .select()
    .from(ssoIdentities)
    .where(and(eq(ssoIdentities.issuer, issuer), eq(ssoIdentities.subject, subject)));
  return row;
}

export async function findIdentityOfUser(tx: Tx, issuer: string, userId: string) {
  const [row] = await tx
    .select()
    .from(ssoIdentities)
    .where(and(eq(ssoIdentities.issuer, issuer), eq(ssoIdentities.userId, userId)));
  return row;
}

export async function insertIdentity(tx: Tx, row: typeof ssoIdentities.$inferInsert): Promise<void> {
  await tx.insert(ssoIdentities).values(row);
}

export async function touchIdentity(tx: Tx, issuer: string, subject: string, at: Date): Promise<void> {
  await tx
    .update(ssoIdentities)
    .set({ lastSignInAt: at })
    .where(and(eq(ssoIdentities.issuer, issuer), eq(ssoIdentities.subject, subject)));
}
