import { and, eq, gt, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import type { User } from './schema.ts';
import { apiTokens, invitations, loginThrottle, passwordResets, sessions, setupTokens, users } from './tables.ts';

const userColumns = { id: users.id, email: users.email, name: users.name, deactivatedAt: users.deactivatedAt };

export async function countUsers(tx: Tx): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(users);
  return row?.n ?? 0;
}

export async function insertUser(
  tx: Tx,
  user: { tenantId: string; email: string; name: string; passwordHash: string | null },
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
    authMethod: string;
    secondFactorAt: Date | null;
    accessStamp: string;
    createdAt: Date;
    lastSeenAt: Date;
    expiresAt: Date;
  },
): Promise<void> {
  await tx.insert(sessions).values(row);
}

/** Gives a session a new id (and records the privileges it now stands for); its other fields stay. */
export async function reissueSession(tx: Tx, idHash: string, newIdHash: string, accessStamp: string): Promise<boolean> {
  const rows = await tx
    .update(sessions)
    .set({ idHash: newIdHash, accessStamp })
    .where(eq(sessions.idHash, idHash))
    .returning({ id: sessions.idHash });
  return rows.length > 0;
}

export async function setSessionAccessStamp(tx: Tx, idHash: string, accessStamp: string): Promise<void> {
  await tx.update(sessions).set({ accessStamp }).where(eq(sessions.idHash, idHash));
}

export async function findSession(tx: Tx, idHash: string) {
  const [row] = await tx.select().from(sessions).where(eq(sessions.idHash, idHash));
  return row;
}

export async function touchSession(tx: Tx, idHash: string, at: Date): Promise<void> {
  await tx.update(sessions).set({ lastSeenAt: at }).where(eq(sessions.idHash, idHash));
}

/** Marks the session as having proven a second factor (MFA). */
export async function setSessionSecondFactor(tx: Tx, idHash: string, at: Date): Promise<void> {
  await tx.update(sessions).set({ secondFactorAt: at }).where(eq(sessions.idHash, idHash));
}

/** Forgets the second factor proven in every session of a person (their last factor is gone). */
export async function clearUserSessionsSecondFactor(tx: Tx, userId: string): Promise<void> {
  await tx.update(sessions).set({ secondFactorAt: null }).where(eq(sessions.userId, userId));
}

export async function deleteSession(tx: Tx, idHash: string): Promise<void> {
  await tx.delete(sessions).where(eq(sessions.idHash, idHash));
}

/** Ends every session of a person except `keepIdHash` (none kept when undefined); returns how many ended. */
export async function deleteUserSessions(tx: Tx, userId: string, keepIdHash?: string): Promise<number> {
  const others = keepIdHash === undefined ? undefined : ne(sessions.idHash, keepIdHash);
  const rows = await tx
    .delete(sessions)
    .where(and(eq(sessions.userId, userId), others))
    .returning({ id: sessions.idHash });
  return rows.length;
}

export async function findPasswordHash(tx: Tx, userId: string): Promise<string | null | undefined> {
  const [row] = await tx.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, userId));
  return row?.passwordHash;
}

export async function setUserName(tx: Tx, userId: string, name: string): Promise<void> {
  await tx.update(users).set({ name }).where(eq(users.id, userId));
}

export async function setPasswordHash(tx: Tx, userId: string, passwordHash: string): Promise<void> {
  await tx.update(users).set({ passwordHash }).where(eq(users.id, userId));
}

/**
 * Retention: deletes up to `limit` of the tenant's sessions that ended (absolute timeout before
 * `expiredBefore`, or last seen before `idleBefore`). Filtered by tenant explicitly for the system role.
 */
export async function deleteEndedSessions(
  tx: Tx,
  tenantId: string,
  ended: { expiredBefore: Date; idleBefore: Date },
  limit: number,
): Promise<number> {
  const batch = tx
    .select({ idHash: sessions.idHash })
    .from(sessions)
    .where(
      and(
        eq(sessions.tenantId, tenantId),
        or(lt(sessions.expiresAt, ended.expiredBefore), lt(sessions.lastSeenAt, ended.idleBefore)),
      ),
    )
    .limit(limit);
  const rows = await tx
    .delete(sessions)
    .where(and(eq(sessions.tenantId, tenantId), inArray(sessions.idHash, batch)))
    .returning({ id: sessions.idHash });
  return rows.length;
}

/** Retention: deletes up to `limit` setup links used or expired before `before`. */
export async function deleteSpentSetupTokens(tx: Tx, tenantId: string, before: Date, limit: number): Promise<number> {
  const batch = tx
    .select({ tokenHash: setupTokens.tokenHash })
    .from(setupTokens)
    .where(and(eq(setupTokens.tenantId, tenantId), or(lt(setupTokens.usedAt, before), lt(setupTokens.expiresAt, before))))
    .limit(limit);
  const rows = await tx
    .delete(setupTokens)
    .where(and(eq(setupTokens.tenantId, tenantId), inArray(setupTokens.tokenHash, batch)))
    .returning({ id: setupTokens.tokenHash });
  return rows.length;
}

/** Retention: deletes up to `limit` API tokens revoked or expired before `before` (active ones never). */
export async function deleteEndedApiTokens(tx: Tx, tenantId: string, before: Date, limit: number): Promise<number> {
  const batch = tx
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(eq(apiTokens.tenantId, tenantId), or(lt(apiTokens.revokedAt, before), lt(apiTokens.expiresAt, before))))
    .limit(limit);
  const rows = await tx
    .delete(apiTokens)
    .where(and(eq(apiTokens.tenantId, tenantId), inArray(apiTokens.id, batch)))
    .returning({ id: apiTokens.id });
  return rows.length;
}

/** A token as stored: its scopes are plain strings until the service reads them as permissions. */
export interface ApiTokenRow {
  id: string;
  name: string;
  prefix: string;
  permissions: string[];
  createdById: string | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  allowedIps: string[] | null;
}

const tokenColumns = {
  id: apiTokens.id,
  name: apiTokens.name,
  prefix: apiTokens.prefix,
  permissions: apiTokens.permissions,
  createdById: apiTokens.createdById,
  expiresAt: apiTokens.expiresAt,
  lastUsedAt: apiTokens.lastUsedAt,
  revokedAt: apiTokens.revokedAt,
  createdAt: apiTokens.createdAt,
  allowedIps: apiTokens.allowedIps,
};

export async function insertApiToken(
  tx: Tx,
  row: {
    tenantId: string;
    name: string;
    tokenHash: string;
    prefix: string;
    permissions: string[];
    createdById: string | null;
    expiresAt: Date | null;
    allowedIps: string[] | null;
  },
): Promise<ApiTokenRow> {
  const [created] = await tx.insert(apiTokens).values(row).returning(tokenColumns);
  if (!created) throw new Error('token insert returned nothing');
  return created;
}

export async function findApiTokenByHash(tx: Tx, tokenHash: string): Promise<ApiTokenRow | undefined> {
  const [row] = await tx.select(tokenColumns).from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
  return row;
}

/** Tokens neither revoked nor expired at `now`. */
export async function countActiveApiTokenRows(tx: Tx, now: Date): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(apiTokens)
    .where(and(isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now))));
  return row?.n ?? 0;
}

export async function markApiTokenUsed(tx: Tx, id: string, at: Date): Promise<void> {
  await tx.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id));
}

export async function listApiTokenRows(tx: Tx): Promise<ApiTokenRow[]> {
  return tx.select(tokenColumns).from(apiTokens).orderBy(sql`${apiTokens.createdAt} desc`);
}

/** Revokes a token that is still active; undefined when there is none by that id. */
export async function revokeApiTokenRow(tx: Tx, id: string, at: Date): Promise<ApiTokenRow | undefined> {
  const [row] = await tx
    .update(apiTokens)
    .set({ revokedAt: at })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning(tokenColumns);
  return row;
}

/** The latest time until which any of `keys` is blocked, if one is blocked after `now`. */
export async function findLoginBlock(tx: Tx, keys: string[], now: Date): Promise<Date | undefined> {
  const rows = await tx
    .select({ blockedUntil: loginThrottle.blockedUntil })
    .from(loginThrottle)
    .where(and(inArray(loginThrottle.key, keys), gt(loginThrottle.blockedUntil, now)));
  const times = rows.map((r) => r.blockedUntil?.getTime() ?? 0);
  return times.length > 0 ? new Date(Math.max(...times)) : undefined;
}

/**
 * Counts one failure for `key`, starting again from one when the last failure is older than `since`; the
 * row lock of the upsert serialises processes counting the same key. Returns the new count.
 */
export async function countLoginFailure(tx: Tx, row: { tenantId: string; key: string; at: Date; since: Date }): Promise<number> {
  const [counted] = await tx
    .insert(loginThrottle)
    .values({ tenantId: row.tenantId, key: row.key, failures: 1, lastFailureAt: row.at })
    .onConflictDoUpdate({
      target: [loginThrottle.tenantId, loginThrottle.key],
      set: {
        failures: sql`case when ${loginThrottle.lastFailureAt} < ${row.since} then 1 else ${loginThrottle.failures} + 1 end`,
        lastFailureAt: row.at,
      },
    })
    .returning({ failures: loginThrottle.failures });
  return counted?.failures ?? 1;
}

export async function blockLogin(tx: Tx, key: string, until: Date): Promise<void> {
  await tx.update(loginThrottle).set({ blockedUntil: until }).where(eq(loginThrottle.key, key));
}

export async function clearLoginFailures(tx: Tx, key: string): Promise<void> {
  await tx.delete(loginThrottle).where(eq(loginThrottle.key, key));
}

/** Replaces the person's open reset link, if any, with this one. */
export async function replacePasswordReset(
  tx: Tx,
  row: { tenantId: string; userId: string; tokenHash: string; expiresAt: Date },
): Promise<void> {
  await tx
    .insert(passwordResets)
    .values(row)
    .onConflictDoUpdate({
      target: [passwordResets.tenantId, passwordResets.userId],
      set: { tokenHash: row.tokenHash, expiresAt: row.expiresAt, createdAt: sql`now()` },
    });
}

/** Takes a reset link out of the table (spent or not): it can be used at most once. */
export async function takePasswordReset(tx: Tx, tokenHash: string) {
  const [row] = await tx.delete(passwordResets).where(eq(passwordResets.tokenHash, tokenHash)).returning();
  return row;
}

export async function findPasswordReset(tx: Tx, tokenHash: string) {
  const [row] = await tx.select().from(passwordResets).where(eq(passwordResets.tokenHash, tokenHash));
  return row;
}

export async function listUserSessions(tx: Tx, userId: string) {
  return tx.select().from(sessions).where(eq(sessions.userId, userId)).orderBy(sessions.createdAt);
}

/** Ends one session of the person; a session of someone else is never matched. */
export async function deleteOwnSession(tx: Tx, userId: string, idHash: string): Promise<boolean> {
  const rows = await tx
    .delete(sessions)
    .where(and(eq(sessions.userId, userId), eq(sessions.idHash, idHash)))
    .returning({ id: sessions.idHash });
  return rows.length > 0;
}

export async function replaceInvitation(
  tx: Tx,
  row: { tenantId: string; userId: string; tokenHash: string; invitedBy: string; expiresAt: Date },
): Promise<void> {
  await tx
    .insert(invitations)
    .values(row)
    .onConflictDoUpdate({
      target: [invitations.tenantId, invitations.userId],
      set: { tokenHash: row.tokenHash, invitedBy: row.invitedBy, expiresAt: row.expiresAt, createdAt: sql`now()` },
    });
}

export async function findInvitation(tx: Tx, tokenHash: string) {
  const [row] = await tx.select().from(invitations).where(eq(invitations.tokenHash, tokenHash));
  return row;
}

export async function findInvitationOf(tx: Tx, userId: string) {
  const [row] = await tx.select().from(invitations).where(eq(invitations.userId, userId));
  return row;
}

/** Takes an invitation out of the table: of two requests racing with one link, only one gets the row. */
export async function takeInvitation(tx: Tx, tokenHash: string) {
  const [row] = await tx.delete(invitations).where(eq(invitations.tokenHash, tokenHash)).returning();
  return row;
}

export async function deleteInvitationOf(tx: Tx, userId: string): Promise<void> {
  await tx.delete(invitations).where(eq(invitations.userId, userId));
}

/** Retention: invitation and password-reset links that expired before `cutoff` (used ones are gone already). */
export async function deleteExpiredLinks(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  const resets = await tx
    .delete(passwordResets)
    .where(
      inArray(
        passwordResets.tokenHash,
        tx
          .select({ h: passwordResets.tokenHash })
          .from(passwordResets)
          .where(and(eq(passwordResets.tenantId, tenantId), lt(passwordResets.expiresAt, cutoff)))
          .limit(batchSize),
      ),
    )
    .returning({ h: passwordResets.tokenHash });
  const invites = await tx
    .delete(invitations)
    .where(
      inArray(
        invitations.tokenHash,
        tx
          .select({ h: invitations.tokenHash })
          .from(invitations)
          .where(and(eq(invitations.tenantId, tenantId), lt(invitations.expiresAt, cutoff)))
          .limit(batchSize),
      ),
    )
    .returning({ h: invitations.tokenHash });
  return resets.length + invites.length;
}

/** Retention: sign-in throttle counters whose last failure is older than `cutoff` (and not blocking anyone). */
export async function deleteStaleThrottleRows(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  const rows = await tx
    .delete(loginThrottle)
    .where(
      inArray(
        loginThrottle.key,
        tx
          .select({ k: loginThrottle.key })
          .from(loginThrottle)
          .where(
            and(
              eq(loginThrottle.tenantId, tenantId),
              lt(loginThrottle.lastFailureAt, cutoff),
              or(isNull(loginThrottle.blockedUntil), lt(loginThrottle.blockedUntil, cutoff)),
            ),
          )
          .limit(batchSize),
      ),
    )
    .returning({ k: loginThrottle.key });
  return rows.length;
}
