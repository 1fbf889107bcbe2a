import { hash, verify } from '@node-rs/argon2';
import type { Actor, Clock, Runtime, TenantRef } from '../../platform/context.ts';
import { newSecret, sha256Hex } from '../../platform/crypto/secrets.ts';
import type { Database } from '../../platform/db/client.ts';
import { Forbidden, Gone, InvalidInput, NotFound, Unauthorized } from '../../platform/errors.ts';
import type { RoleSlug } from './roles.ts';
import { type ApiTokenInfo, NewApiToken, OwnerSetupForm, type User } from './schema.ts';
import {
  countUsers,
  deleteSession,
  expireOpenSetupTokens,
  findApiTokenByHash,
  findSession,
  findUserByEmail,
  findUserById,
  insertApiToken,
  insertSession,
  insertSetupToken,
  insertUser,
  listApiTokenRows,
  lockSetupToken,
  markApiTokenUsed,
  markSetupTokenUsed,
  revokeApiTokenRow,
  touchSession,
} from './store.ts';

export const SETUP_LINK_TTL_MS = 60 * 60 * 1000;
export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
// Writing last_seen_at on every request would turn every page view into a write.
const SESSION_TOUCH_EVERY_MS = 60 * 1000;

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
const ARGON2 = { algorithm: 2 as const, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

// A real hash to verify against when the account does not exist, so timing does not reveal accounts.
const DUMMY_HASH = hashPassword(newSecret());

/**
 * A one-time link that creates the tenant's first owner, or undefined when the tenant already has people.
 * Issuing a link retires any earlier unused one, so only the latest printed link works.
 */
export async function issueSetupLink(runtime: Runtime, tenant: TenantRef): Promise<string | undefined> {
  const token = newSecret();
  const now = runtime.clock.now();
  const issued = await runtime.db.withTenant(tenant.id, async (tx) => {
    if ((await countUsers(tx)) > 0) return false;
    await expireOpenSetupTokens(tx, now);
    await insertSetupToken(tx, {
      tenantId: tenant.id,
      tokenHash: sha256Hex(token),
      expiresAt: new Date(now.getTime() + SETUP_LINK_TTL_MS),
    });
    return true;
  });
  return issued ? `/setup/${token}` : undefined;
}

/** Whether a setup link can still be used (to show the form or a clear "expired" page). */
export async function checkSetupLink(db: Database, clock: Clock, tenantId: string, token: string): Promise<void> {
  await db.withTenant(tenantId, async (tx) => {
    const row = await lockSetupToken(tx, sha256Hex(token));
    assertSetupTokenUsable(row, clock.now());
    if ((await countUsers(tx)) > 0) throw new Gone('this Candor workspace already has an owner; sign in instead');
  });
}

function assertSetupTokenUsable(row: { usedAt: Date | null; expiresAt: Date } | undefined, now: Date): void {
  if (!row) throw new NotFound('setup link');
  if (row.usedAt) throw new Gone('this setup link has already been used');
  if (row.expiresAt <= now) throw new Gone('this setup link has expired; restart Candor to print a new one');
}

export interface NewSession {
  /** The cookie value; only its hash is stored. */
  sessionId: string;
  user: User;
}

interface ClientInfo {
  ip: string;
  userAgent: string;
}

/** Spends a setup link: creates the owner and signs them in, all or nothing. */
export async function completeOwnerSetup(
  runtime: Runtime,
  tenantId: string,
  token: string,
  input: OwnerSetupForm,
  client: ClientInfo,
): Promise<NewSession> {
  const form = OwnerSetupForm.parse(input);
  const passwordHash = await hashPassword(form.password);
  const now = runtime.clock.now();
  return runtime.db.withTenant(tenantId, async (tx) => {
    const tokenHash = sha256Hex(token);
    assertSetupTokenUsable(await lockSetupToken(tx, tokenHash), now);
    if ((await countUsers(tx)) > 0) throw new Gone('this Candor workspace already has an owner; sign in instead');
    const user = await insertUser(tx, { tenantId, email: form.email, name: form.name, role: 'owner', passwordHash });
    await markSetupTokenUsed(tx, tokenHash, now);
    const sessionId = await openSession(tx, tenantId, user.id, client, now);
    return { sessionId, user };
  });
}

async function openSession(
  tx: Parameters<typeof insertSession>[0],
  tenantId: string,
  userId: string,
  client: ClientInfo,
  now: Date,
): Promise<string> {
  const sessionId = newSecret();
  await insertSession(tx, {
    tenantId,
    idHash: sha256Hex(sessionId),
    userId,
    csrfToken: newSecret(24),
    ip: client.ip,
    userAgent: client.userAgent.slice(0, 512),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
  });
  return sessionId;
}

/** Password sign-in; the same error for an unknown email and a wrong password. */
export async function signIn(
  runtime: Runtime,
  tenantId: string,
  credentials: { email: string; password: string },
  client: ClientInfo,
): Promise<NewSession> {
  const found = await runtime.db.withTenant(tenantId, (tx) => findUserByEmail(tx, credentials.email));
  const ok = await verify(found?.passwordHash ?? (await DUMMY_HASH), credentials.password).catch(() => false);
  if (!found?.passwordHash || !ok) {
    throw new InvalidInput('that email and password do not match an account', { password: 'check your email and password' });
  }
  const { passwordHash: _, ...user } = found;
  const sessionId = await runtime.db.withTenant(tenantId, (tx) =>
    openSession(tx, tenantId, user.id, client, runtime.clock.now()),
  );
  return { sessionId, user };
}

export interface ActiveSession {
  user: User;
  csrfToken: string;
}

/** The session behind a cookie, or undefined when it is unknown, idle too long or past its lifetime. */
export async function resolveSession(
  db: Database,
  clock: Clock,
  tenantId: string,
  sessionId: string,
): Promise<ActiveSession | undefined> {
  const now = clock.now();
  const idHash = sha256Hex(sessionId);
  return db.withTenant(tenantId, async (tx) => {
    const session = await findSession(tx, idHash);
    if (!session) return undefined;
    const idle = now.getTime() - session.lastSeenAt.getTime() > SESSION_IDLE_MS;
    if (idle || session.expiresAt <= now) {
      await deleteSession(tx, idHash);
      return undefined;
    }
    const user = await findUserById(tx, session.userId);
    if (!user) return undefined;
    if (now.getTime() - session.lastSeenAt.getTime() > SESSION_TOUCH_EVERY_MS) await touchSession(tx, idHash, now);
    return { user, csrfToken: session.csrfToken };
  });
}

export async function signOut(db: Database, tenantId: string, sessionId: string): Promise<void> {
  await db.withTenant(tenantId, (tx) => deleteSession(tx, sha256Hex(sessionId)));
}

const TOKEN_PREFIX = 'cnd_';

/** Creates an API token; the plaintext is returned once and only its hash is kept. */
export async function createApiToken(
  runtime: Runtime,
  tenantId: string,
  input: NewApiToken,
): Promise<{ token: string; info: ApiTokenInfo }> {
  const data = NewApiToken.parse(input);
  const token = `${TOKEN_PREFIX}${newSecret()}`;
  const now = runtime.clock.now();
  const info = await runtime.db.withTenant(tenantId, (tx) =>
    insertApiToken(tx, {
      tenantId,
      name: data.name,
      role: data.role,
      tokenHash: sha256Hex(token),
      prefix: token.slice(0, TOKEN_PREFIX.length + 6),
      expiresAt: data.expiresInMs ? new Date(now.getTime() + data.expiresInMs) : null,
    }),
  );
  return { token, info };
}

/** The token behind an `Authorization: Bearer` value; unknown, expired and revoked tokens are refused alike. */
export async function authenticateApiToken(db: Database, clock: Clock, tenantId: string, token: string): Promise<ApiTokenInfo> {
  if (!token.startsWith(TOKEN_PREFIX)) throw new Unauthorized('invalid API token');
  const now = clock.now();
  return db.withTenant(tenantId, async (tx) => {
    const info = await findApiTokenByHash(tx, sha256Hex(token));
    if (!info || info.revokedAt || (info.expiresAt && info.expiresAt <= now)) {
      throw new Unauthorized('invalid, expired or revoked API token');
    }
    if (!info.lastUsedAt || now.getTime() - info.lastUsedAt.getTime() > SESSION_TOUCH_EVERY_MS) {
      await markApiTokenUsed(tx, info.id, now);
    }
    return info;
  });
}

export function listApiTokens(db: Database, tenantId: string): Promise<ApiTokenInfo[]> {
  return db.withTenant(tenantId, (tx) => listApiTokenRows(tx));
}

export async function revokeApiToken(runtime: Runtime, tenantId: string, id: string): Promise<void> {
  const revoked = await runtime.db.withTenant(tenantId, (tx) => revokeApiTokenRow(tx, id, runtime.clock.now()));
  if (!revoked) throw new NotFound('active API token', id);
}

/** Whether the tenant still needs its first owner (the start log then prints a setup link). */
export async function needsOwner(db: Database, tenantId: string): Promise<boolean> {
  return (await db.withTenant(tenantId, (tx) => countUsers(tx))) === 0;
}

/**
 * Refuses an actor whose role is not one of `roles` (the system, acting from the server itself, passes).
 * The identity capability replaces this with permissions per role and records every denial.
 */
export function requireAnyRole(actor: Actor, roles: readonly RoleSlug[], what: string): void {
  if (actor.kind === 'system') return;
  const role = actor.kind === 'user' || actor.kind === 'token' ? actor.role : undefined;
  if (!role || !(roles as readonly string[]).includes(role)) throw new Forbidden(`your role may not ${what}`);
}

/** Who may read the audit trail and security alerts. */
export const SECURITY_READERS: readonly RoleSlug[] = ['owner', 'security-admin', 'auditor'];
/** Who may change security settings (alert handling, forwarding). */
export const SECURITY_ADMINS: readonly RoleSlug[] = ['owner', 'security-admin'];

/**
 * Until the identity capability brings permissions per role, changes to credentials are the owner's alone
 * (a person or an owner-role token, or the system acting from the server's own command line).
 */
export function requireOwner(actor: Actor): void {
  const role = actor.kind === 'user' || actor.kind === 'token' ? actor.role : undefined;
  if (actor.kind !== 'system' && role !== 'owner') throw new Forbidden('only an owner can manage API tokens');
}
