import { and, asc, desc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { apiTokens, invitations, passwordResets, sessions, users } from '../identity/tables.ts';
import { grantRequests, roleGrants, sodDefaultRuleStates, sodRules } from './tables.ts';

// SQL for separation of duties, grant approval and offboarding. Every query names its tenant although row-level
// security filters too: duty sources run as the system.

export type SodRuleRow = typeof sodRules.$inferSelect;
export type GrantRequestRow = typeof grantRequests.$inferSelect;

// ─── Separation-of-duties rules ───

export function listSodRuleRows(tx: Tx, tenantId: string): Promise<SodRuleRow[]> {
  return tx.select().from(sodRules).where(eq(sodRules.tenantId, tenantId)).orderBy(sql`lower(${sodRules.name})`);
}

export async function findSodRuleRow(tx: Tx, tenantId: string, id: string): Promise<SodRuleRow | undefined> {
  const [row] = await tx
    .select()
    .from(sodRules)
    .where(and(eq(sodRules.tenantId, tenantId), eq(sodRules.id, id)))
    .for('update');
  return row;
}

export async function findSodRuleByName(tx: Tx, tenantId: string, name: string): Promise<SodRuleRow | undefined> {
  const [row] = await tx
    .select()
    .from(sodRules)
    .where(and(eq(sodRules.tenantId, tenantId), sql`lower(${sodRules.name}) = lower(${name})`));
  return row;
}

type SodRuleValues = Omit<SodRuleRow, 'id' | 'createdAt'>;

export async function insertSodRule(tx: Tx, row: SodRuleValues & { createdAt: Date }): Promise<SodRuleRow> {
  const [inserted] = await tx.insert(sodRules).values(row).returning();
  if (!inserted) throw new Error('rule insert returned nothing');
  return inserted;
}

export async function updateSodRuleRow(tx: Tx, tenantId: string, id: string, change: Omit<SodRuleValues, 'tenantId'>) {
  const [row] = await tx
    .update(sodRules)
    .set(change)
    .where(and(eq(sodRules.tenantId, tenantId), eq(sodRules.id, id)))
    .returning();
  return row;
}

export async function deleteSodRuleRow(tx: Tx, tenantId: string, id: string): Promise<SodRuleRow | undefined> {
  const [row] = await tx
    .delete(sodRules)
    .where(and(eq(sodRules.tenantId, tenantId), eq(sodRules.id, id)))
    .returning();
  return row;
}

export async function defaultRuleStates(tx: Tx, tenantId: string): Promise<Map<string, boolean>> {
  const rows = await tx.select().from(sodDefaultRuleStates).where(eq(sodDefaultRuleStates.tenantId, tenantId));
  return new Map(rows.map((r) => [r.ruleKey, r.enabled]));
}

export async function saveDefaultRuleState(tx: Tx, tenantId: string, ruleKey: string, enabled: boolean, at: Date) {
  await tx
    .insert(sodDefaultRuleStates)
    .values({ tenantId, ruleKey, enabled, updatedAt: at })
    .onConflictDoUpdate({
      target: [sodDefaultRuleStates.tenantId, sodDefaultRuleStates.ruleKey],
      set: { enabled, updatedAt: at },
    });
}

/** Every grant of the tenant's active people, with their addresses: what the violations report reads. */
export function listActiveGrants(tx: Tx, tenantId: string): Promise<{ userId: string; email: string; role: string }[]> {
  return tx
    .select({ userId: roleGrants.userId, email: users.email, role: roleGrants.role })
    .from(roleGrants)
    .innerJoin(users, and(eq(users.tenantId, roleGrants.tenantId), eq(users.id, roleGrants.userId)))
    .where(and(eq(roleGrants.tenantId, tenantId), isNull(users.deactivatedAt)))
    .orderBy(sql`lower(${users.email})`, asc(roleGrants.role));
}

// ─── Grant requests ───

export async function insertGrantRequest(
  tx: Tx,
  row: {
    tenantId: string;
    userId: string;
    role: string;
    requestedById: string | null;
    requestedByLabel: string;
    approverIds: string[];
    createdAt: Date;
    expiresAt: Date;
  },
): Promise<GrantRequestRow | undefined> {
  const [inserted] = await tx.insert(grantRequests).values(row).onConflictDoNothing().returning();
  return inserted;
}

export async function findPendingRequest(tx: Tx, tenantId: string, userId: string, role: string) {
  const [row] = await tx
    .select()
    .from(grantRequests)
    .where(
      and(
        eq(grantRequests.tenantId, tenantId),
        eq(grantRequests.userId, userId),
        eq(grantRequests.role, role),
        eq(grantRequests.status, 'pending'),
      ),
    )
    .for('update');
  return row;
}

export async function lockGrantRequest(tx: Tx, tenantId: string, id: string): Promise<GrantRequestRow | undefined> {
  const [row] = await tx
    .select()
    .from(grantRequests)
    .where(and(eq(grantRequests.tenantId, tenantId), eq(grantRequests.id, id)))
    .for('update');
  return row;
}

export function listGrantRequestRows(
  tx: Tx,
  tenantId: string,
  filter: { status?: string; userId?: string } = {},
): Promise<GrantRequestRow[]> {
  return tx
    .select()
    .from(grantRequests)
    .where(
      and(
        eq(grantRequests.tenantId, tenantId),
        filter.status ? eq(grantRequests.status, filter.status) : undefined,
        filter.userId ? eq(grantRequests.userId, filter.userId) : undefined,
      ),
    )
    .orderBy(desc(grantRequests.createdAt))
    .limit(500);
}

export async function closeGrantRequest(
  tx: Tx,
  tenantId: string,
  id: string,
  decision: { status: string; reason: string | null; decidedById: string | null; decidedByLabel: string; decidedAt: Date },
): Promise<GrantRequestRow | undefined> {
  const [row] = await tx
    .update(grantRequests)
    .set(decision)
    .where(and(eq(grantRequests.tenantId, tenantId), eq(grantRequests.id, id), eq(grantRequests.status, 'pending')))
    .returning();
  return row;
}

/** Pending requests for or by a person, locked: offboarding cancels them. */
export function lockPendingRequestsInvolving(tx: Tx, tenantId: string, userId: string): Promise<GrantRequestRow[]> {
  return tx
    .select()
    .from(grantRequests)
    .where(
      and(
        eq(grantRequests.tenantId, tenantId),
        eq(grantRequests.status, 'pending'),
        or(eq(grantRequests.userId, userId), eq(grantRequests.requestedById, userId)),
      ),
    )
    .for('update');
}

/** Pending, unexpired requests this person was asked to decide. */
export function requestsAwaiting(tx: Tx, tenantId: string, userId: string, now: Date): Promise<GrantRequestRow[]> {
  return tx
    .select()
    .from(grantRequests)
    .where(
      and(
        eq(grantRequests.tenantId, tenantId),
        eq(grantRequests.status, 'pending'),
        sql`${grantRequests.expiresAt} > ${now}`,
        sql`${userId}::uuid = any(${grantRequests.approverIds})`,
      ),
    )
    .orderBy(asc(grantRequests.createdAt));
}

/** Pending requests past their expiry, so they can be closed as expired. */
export function lockExpiredRequests(tx: Tx, tenantId: string, now: Date): Promise<GrantRequestRow[]> {
  return tx
    .select()
    .from(grantRequests)
    .where(and(eq(grantRequests.tenantId, tenantId), eq(grantRequests.status, 'pending'), lte(grantRequests.expiresAt, now)))
    .for('update');
}

export async function emailsOf(tx: Tx, tenantId: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await tx
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), inArray(users.id, ids)));
  return new Map(rows.map((r) => [r.id, r.email]));
}

/** The person who made an API token (null for a token made on the command line). */
export async function tokenCreatorOf(tx: Tx, tenantId: string, tokenId: string): Promise<string | null> {
  const [row] = await tx
    .select({ createdById: apiTokens.createdById })
    .from(apiTokens)
    .where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, tokenId)));
  return row?.createdById ?? null;
}

// ─── Offboarding ───

export async function lockAccount(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<{ id: string; email: string; deactivatedAt: Date | null } | undefined> {
  const [row] = await tx
    .select({ id: users.id, email: users.email, deactivatedAt: users.deactivatedAt })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)))
    .for('update');
  return row;
}

export async function setDeactivatedAt(tx: Tx, tenantId: string, id: string, at: Date | null): Promise<void> {
  await tx
    .update(users)
    .set({ deactivatedAt: at })
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)));
}

export async function deleteSessionsOf(tx: Tx, tenantId: string, userId: string): Promise<number> {
  const rows = await tx
    .delete(sessions)
    .where(and(eq(sessions.tenantId, tenantId), eq(sessions.userId, userId)))
    .returning({ id: sessions.idHash });
  return rows.length;
}

/** Withdraws the person's open invitation and password-reset links: a mailed link must not outlive the account. */
export async function deleteAccountLinksOf(tx: Tx, tenantId: string, userId: string): Promise<number> {
  const invites = await tx
    .delete(invitations)
    .where(and(eq(invitations.tenantId, tenantId), eq(invitations.userId, userId)))
    .returning({ id: invitations.userId });
  const resets = await tx
    .delete(passwordResets)
    .where(and(eq(passwordResets.tenantId, tenantId), eq(passwordResets.userId, userId)))
    .returning({ id: passwordResets.userId });
  return invites.length + resets.length;
}

/** Revokes every still-active token the person created; returns what was revoked. */
export function revokeTokensCreatedBy(tx: Tx, tenantId: string, userId: string, at: Date) {
  return tx
    .update(apiTokens)
    .set({ revokedAt: at })
    .where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.createdById, userId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id, name: apiTokens.name, prefix: apiTokens.prefix });
}

export function tokensCreatedBy(tx: Tx, tenantId: string, userId: string) {
  return tx
    .select({ id: apiTokens.id, name: apiTokens.name, prefix: apiTokens.prefix, revokedAt: apiTokens.revokedAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.createdById, userId)))
    .orderBy(desc(apiTokens.createdAt));
}

export async function deleteAllGrantsOf(tx: Tx, tenantId: string, userId: string): Promise<string[]> {
  const rows = await tx
    .delete(roleGrants)
    .where(and(eq(roleGrants.tenantId, tenantId), eq(roleGrants.userId, userId)))
    .returning({ role: roleGrants.role });
  return rows.map((r) => r.role).sort();
}
