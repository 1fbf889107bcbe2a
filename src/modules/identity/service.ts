import { hash, verify } from '@node-rs/argon2';
import { type AuditScope, auditScope } from '../../platform/audit/audit.ts';
import type { Actor, Clock, RequestContext, Runtime, TenantRef } from '../../platform/context.ts';
import { newSecret, sha256Hex } from '../../platform/crypto/secrets.ts';
import type { Database, Tx } from '../../platform/db/client.ts';
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
  listOwnerEmails,
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

/** The actor of work the server does on its own (printing a setup link at start, for instance). */
export const SERVER_ACTOR: Actor = { kind: 'system', name: 'candor' };

function userActor(user: User): Actor {
  return { kind: 'user', ...user };
}

/**
 * Setup links are identified in the trail by the start of their hash: enough to tie a refusal to the link
 * that was issued, and useless for rebuilding the link itself.
 */
function setupLinkTarget(tokenHash: string) {
  return { type: 'setup_link', id: tokenHash.slice(0, 16) };
}

/**
 * A one-time link that creates the tenant's first owner, or undefined when the tenant already has people.
 * Issuing a link retires any earlier unused one, so only the latest printed link works.
 */
export async function issueSetupLink(
  runtime: Runtime,
  tenant: TenantRef,
  actor: Actor = SERVER_ACTOR,
): Promise<string | undefined> {
  const token = newSecret();
  const now = runtime.clock.now();
  const issued = await runtime.db.withTenant(tenant.id, async (tx) => {
    if ((await countUsers(tx)) > 0) return false;
    await expireOpenSetupTokens(tx, now);
    const tokenHash = sha256Hex(token);
    const expiresAt = new Date(now.getTime() + SETUP_LINK_TTL_MS);
    await insertSetupToken(tx, { tenantId: tenant.id, tokenHash, expiresAt });
    await runtime.audit.record(
      tx,
      { tenantId: tenant.id, actor },
      { action: 'setup_link.issued', target: setupLinkTarget(tokenHash), details: { expiresAt: expiresAt.toISOString() } },
    );
    return true;
  });
  return issued ? `/setup/${token}` : undefined;
}

/**
 * Why a setup link cannot be used, or undefined when it can. An unknown link is a plain 404 and is not
 * recorded (nothing was ever issued under it); an expired or spent one is a refusal worth keeping.
 */
async function setupLinkRefusal(tx: Tx, tokenHash: string, now: Date): Promise<Error | undefined> {
  const row = await lockSetupToken(tx, tokenHash);
  if (!row) return new NotFound('setup link');
  if (row.usedAt) return new Gone('this setup link has already been used');
  if (row.expiresAt <= now) return new Gone('this setup link has expired; restart Candor to print a new one');
  if ((await countUsers(tx)) > 0) return new Gone('this Candor workspace already has an owner; sign in instead');
  return undefined;
}

/**
 * Checks the link and, when it is refused, records why in the same transaction; the caller throws the
 * returned error after the transaction commits, so the record survives the refusal.
 */
async function checkLinkOrRecord(ctx: RequestContext, tx: Tx, tokenHash: string): Promise<Error | undefined> {
  const refusal = await setupLinkRefusal(tx, tokenHash, ctx.clock.now());
  if (refusal instanceof Gone) {
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'setup_link.refused',
      target: setupLinkTarget(tokenHash),
      outcome: 'denied',
      details: { reason: refusal.message },
    });
  }
  return refusal;
}

/** Whether a setup link can still be used (to show the form or a clear "expired" page). */
export async function checkSetupLink(ctx: RequestContext, token: string): Promise<void> {
  const refusal = await ctx.db.withTenant(ctx.tenant.id, (tx) => checkLinkOrRecord(ctx, tx, sha256Hex(token)));
  if (refusal) throw refusal;
}

export interface NewSession {
  /** The cookie value; only its hash is stored. */
  sessionId: string;
  user: User;
}

/** Spends a setup link: creates the owner and signs them in, all or nothing. */
export async function completeOwnerSetup(ctx: RequestContext, token: string, input: OwnerSetupForm): Promise<NewSession> {
  const form = OwnerSetupForm.parse(input);
  const passwordHash = await hashPassword(form.password);
  const now = ctx.clock.now();
  const tenantId = ctx.tenant.id;
  const result = await ctx.db.withTenant(tenantId, async (tx) => {
    const tokenHash = sha256Hex(token);
    const refusal = await checkLinkOrRecord(ctx, tx, tokenHash);
    if (refusal) return { refusal };
    const user = await insertUser(tx, { tenantId, email: form.email, name: form.name, role: 'owner', passwordHash });
    await markSetupTokenUsed(tx, tokenHash, now);
    // The person holding the link becomes this owner: the trail names them rather than "anonymous".
    const scope = { ...auditScope(ctx), actor: userActor(user) };
    await ctx.audit.record(tx, scope, {
      action: 'user.created',
      target: { type: 'user', id: user.id },
      details: { email: user.email, role: user.role, via: 'setup_link' },
    });
    const sessionId = await openSession(tx, ctx, scope, user);
    return { session: { sessionId, user } };
  });
  if ('refusal' in result) throw result.refusal;
  return result.session;
}

/** Inserts a session and records the sign-in, in the caller's transaction. */
async function openSession(tx: Tx, ctx: RequestContext, scope: AuditScope, user: User): Promise<string> {
  const now = ctx.clock.now();
  const sessionId = newSecret();
  await insertSession(tx, {
    tenantId: ctx.tenant.id,
    idHash: sha256Hex(sessionId),
    userId: user.id,
    csrfToken: newSecret(24),
    ip: ctx.ip,
    userAgent: ctx.userAgent.slice(0, 512),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
  });
  await ctx.audit.record(tx, scope, { action: 'session.signed_in', target: { type: 'user', id: user.id } });
  return sessionId;
}

/**
 * Password sign-in; the same error for an unknown email and a wrong password. Failures are recorded with the
 * address tried (never the password): detection counts them per account and per address.
 */
export async function signIn(ctx: RequestContext, credentials: { email: string; password: string }): Promise<NewSession> {
  const tenantId = ctx.tenant.id;
  const found = await ctx.db.withTenant(tenantId, (tx) => findUserByEmail(tx, credentials.email));
  // Hashing happens outside any transaction: it takes tens of milliseconds and needs no database.
  const ok = await verify(found?.passwordHash ?? (await DUMMY_HASH), credentials.password).catch(() => false);
  if (!found?.passwordHash || !ok) {
    await ctx.db.withTenant(tenantId, (tx) =>
      ctx.audit.record(tx, auditScope(ctx), {
        action: 'session.sign_in_failed',
        target: { type: 'user', id: found?.id ?? null },
        outcome: 'failed',
        details: { email: credentials.email.trim().toLowerCase() },
      }),
    );
    throw new InvalidInput('that email and password do not match an account', { password: 'check your email and password' });
  }
  const { passwordHash: _, ...user } = found;
  const sessionId = await ctx.db.withTenant(tenantId, (tx) =>
    openSession(tx, ctx, { ...auditScope(ctx), actor: userActor(user) }, user),
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

/** Ends a session; signing out of a session that no longer exists changes nothing and records nothing. */
export async function signOut(ctx: RequestContext, sessionId: string): Promise<void> {
  const idHash = sha256Hex(sessionId);
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const session = await findSession(tx, idHash);
    if (!session) return;
    await deleteSession(tx, idHash);
    await ctx.audit.record(tx, auditScope(ctx), { action: 'session.signed_out', target: { type: 'user', id: session.userId } });
  });
}

const TOKEN_PREFIX = 'cnd_';
// What lists show of a token (`cnd_` and six characters); the same is all a refusal may record of one.
const DISPLAY_PREFIX_LENGTH = TOKEN_PREFIX.length + 6;
const TOKEN_SHAPE = /^cnd_[A-Za-z0-9_-]{6,}$/;

function tokenDetails(info: { name: string; role: string; expiresAt: Date | null }) {
  return { name: info.name, role: info.role, expiresAt: info.expiresAt?.toISOString() ?? null };
}

/** Creates an API token; the plaintext is returned once and only its hash is kept. */
export async function createApiToken(
  runtime: Runtime,
  scope: AuditScope,
  input: NewApiToken,
): Promise<{ token: string; info: ApiTokenInfo }> {
  const data = NewApiToken.parse(input);
  const token = `${TOKEN_PREFIX}${newSecret()}`;
  const now = runtime.clock.now();
  const info = await runtime.db.withTenant(scope.tenantId, async (tx) => {
    const created = await insertApiToken(tx, {
      tenantId: scope.tenantId,
      name: data.name,
      role: data.role,
      tokenHash: sha256Hex(token),
      prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
      expiresAt: data.expiresInMs ? new Date(now.getTime() + data.expiresInMs) : null,
    });
    await runtime.audit.record(tx, scope, {
      action: 'api_token.created',
      target: { type: 'api_token', id: created.id },
      details: tokenDetails(created),
    });
    return created;
  });
  return { token, info };
}

/**
 * The token behind an `Authorization: Bearer` value; unknown, expired and revoked tokens are refused alike.
 * A refusal is recorded (with the display prefix when the value looks like one of ours, never the value).
 */
export async function authenticateApiToken(ctx: RequestContext, token: string): Promise<ApiTokenInfo> {
  const now = ctx.clock.now();
  const result = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const info = TOKEN_SHAPE.test(token) ? await findApiTokenByHash(tx, sha256Hex(token)) : undefined;
    const reason = !info ? 'unknown' : info.revokedAt ? 'revoked' : info.expiresAt && info.expiresAt <= now ? 'expired' : null;
    if (!info || reason) {
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'api_token.refused',
        target: { type: 'api_token', id: info?.id ?? null },
        outcome: 'denied',
        details: TOKEN_SHAPE.test(token) ? { reason, prefix: token.slice(0, DISPLAY_PREFIX_LENGTH) } : { reason },
      });
      return undefined;
    }
    if (!info.lastUsedAt || now.getTime() - info.lastUsedAt.getTime() > SESSION_TOUCH_EVERY_MS) {
      await markApiTokenUsed(tx, info.id, now);
    }
    return info;
  });
  if (!result) {
    throw token.startsWith(TOKEN_PREFIX)
      ? new Unauthorized('invalid, expired or revoked API token')
      : new Unauthorized('invalid API token');
  }
  return result;
}

export function listApiTokens(db: Database, tenantId: string): Promise<ApiTokenInfo[]> {
  return db.withTenant(tenantId, (tx) => listApiTokenRows(tx));
}

export async function revokeApiToken(runtime: Runtime, scope: AuditScope, id: string): Promise<void> {
  const revoked = await runtime.db.withTenant(scope.tenantId, async (tx) => {
    const row = await revokeApiTokenRow(tx, id, runtime.clock.now());
    if (row) {
      await runtime.audit.record(tx, scope, {
        action: 'api_token.revoked',
        target: { type: 'api_token', id: row.id },
        details: tokenDetails(row),
      });
    }
    return row;
  });
  if (!revoked) throw new NotFound('active API token', id);
}

/** Whether the tenant still needs its first owner (the start log then prints a setup link). */
export async function needsOwner(db: Database, tenantId: string): Promise<boolean> {
  return (await db.withTenant(tenantId, (tx) => countUsers(tx))) === 0;
}

/** The addresses of the tenant's owners, read in the caller's transaction (alert mail goes to them by default). */
export function ownerEmails(tx: Tx, tenantId: string): Promise<string[]> {
  return listOwnerEmails(tx, tenantId);
}

/**
 * A refused permission check. It is a Forbidden (403) like any other; the back-office and API guards
 * (`requireSignedIn`, `requireApiToken` in routes.tsx) see it after the request has failed and record it as
 * `access.denied` in a transaction of its own — after the failed request's transactions have rolled back,
 * so the record is not undone with them.
 */
export class AccessDenied extends Forbidden {
  /** Set once the refusal is in the trail, so a guard mounted twice on a path does not record it twice. */
  recorded = false;

  constructor(readonly what: string) {
    super(`your role may not ${what}`);
  }
}

/**
 * Refuses an actor whose role is not one of `roles` (the system, acting from the server itself, passes).
 * Synchronous on purpose: a check that had to be awaited is one missing `await` away from not checking.
 * The refusal is recorded by the guard that wraps the route (see AccessDenied).
 */
export function requireAnyRole(actor: Actor, roles: readonly RoleSlug[], what: string): void {
  if (!hasAnyRole(actor, roles)) throw new AccessDenied(what);
}

/** Records a refused permission check as `access.denied`, in its own transaction. */
export async function recordAccessDenied(ctx: RequestContext, denied: AccessDenied, request: { method: string; path: string }) {
  if (denied.recorded) return;
  denied.recorded = true;
  await ctx.db.withTenant(ctx.tenant.id, (tx) =>
    ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.denied',
      outcome: 'denied',
      details: { what: denied.what, method: request.method, path: request.path },
    }),
  );
}

/** Whether the actor holds one of `roles` (for showing or hiding controls; the service still checks). */
export function hasAnyRole(actor: Actor, roles: readonly RoleSlug[]): boolean {
  if (actor.kind === 'system') return true;
  const role = actor.kind === 'user' || actor.kind === 'token' ? actor.role : undefined;
  return role !== undefined && (roles as readonly string[]).includes(role);
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
  requireAnyRole(actor, ['owner'], 'manage API tokens');
}
