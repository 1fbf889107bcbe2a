import { and, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import type { ApiTokenInfo, User } from './schema.ts';
import { apiTokens, sessions, setupTokens, users } from './tables.ts';

const userColumns = { id: users.id, email: users.email, name: users.name, role: users.role };

export async function countUsers(tx: Tx): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(users);
  return row?.n ?? 0;
}

export async function insertUser(
  tx: Tx,
  user: { tenantId: string; email: string; name: string; role: string; passwordHash: string },
): Promise<User> {
  const [row] = await tx.insert(users).values(user).returning(userColumns);
  if (!row) throw new Error('user insert returned nothing');
  return row;
}

export async function findUserByEmail(tx: Tx, email: string): Promise<(User & { passwordHash: string | null }) | undefined> {
  const [row] = await tx
    .select({ ...userColumns, passwordHash: users.passwordHash })
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`);
  return row;
}

/** Filtered by tenant explicitly: callers may run as the system, which row-level security does not filter. */
export async function listOwnerEmails(tx: Tx, tenantId: string): Promise<string[]> {
  const rows = await tx
    .select({ email: users.email })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.role, 'owner')))
    .orderBy(users.email);
  return rows.map((r) => r.email);
}

export async function findUserById(tx: Tx, id: string): Promise<User | undefined> {
  const [row] = await tx.select(userColumns).from(users).where(eq(users.id, id));
  return row;
}

export async function insertSetupToken(tx: Tx, row: { tenantId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
  await tx.insert(setupTokens).values(row);
}

/** Locks the token row so two submissions of one link cannot both succeed. */
export async function lockSetupToken(tx: Tx, tokenHash: string) {
  const [row] = await tx.select().from(setupTokens).where(eq(setupTokens.tokenHash, tokenHash)).for('update');
  return row;
}

export async function markSetupTokenUsed(tx: Tx, tokenHash: string, at: Date): Promise<void> {
  await tx.update(setupTokens).set({ usedAt: at }).where(eq(setupTokens.tokenHash, tokenHash));
}

/** Unused links still valid at `now` (a restart reuses none: each start issues a fresh one). */
export async function expireOpenSetupTokens(tx: Tx, now: Date): Promise<void> {
  await tx
    .update(setupTokens)
    .set({ expiresAt: now })
    .where(and(isNull(setupTokens.usedAt), gt(setupTokens.expiresAt, now)));
}

export async function insertSession(
  tx: Tx,
  row: {
    tenantId: string;
    idHash: string;
    userId: string;
    csrfToken: string;
    ip: string;
    userAgent: string;
    createdAt: Date;
    lastSeenAt: Date;
    expiresAt: Date;
  },
): Promise<void> {
  await tx.insert(sessions).values(row);
}

export async function findSession(tx: Tx, idHash: string) {
  const [row] = await tx.select().from(sessions).where(eq(sessions.idHash, idHash));
  return row;
}

export async function touchSession(tx: Tx, idHash: string, at: Date): Promise<void> {
  await tx.update(sessions).set({ lastSeenAt: at }).where(eq(sessions.idHash, idHash));
}

export async function deleteSession(tx: Tx, idHash: string): Promise<void> {
  await tx.delete(sessions).where(eq(sessions.idHash, idHash));
}

export async function deleteExpiredSessions(tx: Tx, idleBefore: Date, now: Date): Promise<number> {
  const rows = await tx
    .delete(sessions)
    .where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, idleBefore)))
    .returning({ id: sessions.idHash });
  return rows.length;
}

const tokenColumns = {
  id: apiTokens.id,
  name: apiTokens.name,
  prefix: apiTokens.prefix,
  role: apiTokens.role,
  expiresAt: apiTokens.expiresAt,
  lastUsedAt: apiTokens.lastUsedAt,
  revokedAt: apiTokens.revokedAt,
  createdAt: apiTokens.createdAt,
};

export async function insertApiToken(
  tx: Tx,
  row: { tenantId: string; name: string; tokenHash: string; prefix: string; role: string; expiresAt: Date | null },
): Promise<ApiTokenInfo> {
  const [created] = await tx.insert(apiTokens).values(row).returning(tokenColumns);
  if (!created) throw new Error('token insert returned nothing');
  return created;
}

export async function findApiTokenByHash(tx: Tx, tokenHash: string): Promise<ApiTokenInfo | undefined> {
  const [row] = await tx.select(tokenColumns).from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
  return row;
}

export async function markApiTokenUsed(tx: Tx, id: string, at: Date): Promise<void> {
  await tx.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id));
}

export async function listApiTokenRows(tx: Tx): Promise<ApiTokenInfo[]> {
  return tx.select(tokenColumns).from(apiTokens).orderBy(sql`${apiTokens.createdAt} desc`);
}

/** Revokes a token that is still active; undefined when there is none by that id. */
export async function revokeApiTokenRow(tx: Tx, id: string, at: Date): Promise<ApiTokenInfo | undefined> {
  const [row] = await tx
    .update(apiTokens)
    .set({ revokedAt: at })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning(tokenColumns);
  return row;
}
