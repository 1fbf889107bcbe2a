import { hash, verify } from '@node-rs/argon2';
import { type AuditScope, auditScope } from '../../platform/audit/audit.ts';
import type { Actor, Clock, RequestContext, Runtime, TenantRef } from '../../platform/context.ts';
import { newSecret, sha256Hex } from '../../platform/crypto/secrets.ts';
import type { Database, Tx } from '../../platform/db/client.ts';
import { PG, pgErrorCode } from '../../platform/db/errors.ts';
import { Conflict, Forbidden, Gone, InvalidInput, NotFound, Unauthorized } from '../../platform/errors.ts';
import { inAnyCidr, parseCidr, parseIpAddress } from '../../platform/http/client-ip.ts';
import {
  AccessDenied,
  applyRoleGrant,
  findRole,
  knownPermissions,
  permissionsLacking,
  type ResolvedAccess,
  requirePermission,
  resolveAccess,
  roleSlugs,
} from '../access/service.ts';
import { assertAcceptablePassword, normalizePassword, type PasswordContext } from './passwords.ts';
import {
  type ApiTokenInfo,
  ChangePasswordForm,
  NewApiToken,
  NewPerson,
  OwnerSetupForm,
  type SessionMethod,
  type User,
} from './schema.ts';
import {
  type ApiTokenRow,
  clearUserSessionsSecondFactor,
  countActiveApiTokenRows,
  countUsers,
  deleteEndedApiTokens,
  deleteEndedSessions,
  deleteExpiredLinks,
  deleteSession,
  deleteSpentSetupTokens,
  deleteStaleThrottleRows,
  deleteUserSessions,
  expireOpenSetupTokens,
  findApiTokenByHash,
  findPasswordHash,
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
  reissueSession,
  revokeApiTokenRow,
  setPasswordHash,
  setSessionAccessStamp,
  setSessionSecondFactor,
  touchSession,
} from './store.ts';
import { checkSignInAllowed, recordSignInFailure, recordSignInSuccess } from './throttle.ts';

// The second-factor throttle, for the MFA capability (it may import this service, not the throttle).
export {
  checkSecondFactorAllowed,
  recordSecondFactorFailure,
  recordSecondFactorSuccess,
  SignInThrottled,
} from './throttle.ts';

export const SETUP_LINK_TTL_MS = 60 * 60 * 1000;
export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
// Writing last_seen_at on every request would turn every page view into a write.
const SESSION_TOUCH_EVERY_MS = 60 * 1000;

// argon2id at 64 MiB and four passes: 60–95 ms per hash on the two-core servers we measure on (the sign-in
// bench prints it; three passes fell under 50 ms on a faster one), well above OWASP's minimum (19 MiB, two
// passes) so a stolen table costs a guesser more per candidate. Older hashes are redone at the next sign-in.
export const ARGON2 = { algorithm: 2 as const, memoryCost: 65_536, timeCost: 4, parallelism: 1 };

const CURRENT_ARGON2_PARAMS = `$m=${ARGON2.memoryCost},t=${ARGON2.timeCost},p=${ARGON2.parallelism}$`;

/** Whether a stored hash was made with today's parameters; older ones are replaced at the next sign-in. */
export function hashIsCurrent(passwordHash: string): boolean {
  return passwordHash.startsWith('$argon2id$') && passwordHash.includes(CURRENT_ARGON2_PARAMS);
}

/** The words a new password must not lean on: the tenant's names and the person's email. */
export function passwordContext(ctx: { tenant: TenantRef }, email: string): PasswordContext {
  return { tenantName: ctx.tenant.name, tenantSlug: ctx.tenant.slug, email };
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

// A real hash to verify against when the account does not exist, so timing does not reveal accounts.
const DUMMY_HASH = hashPassword(newSecret());

/** The actor of work the server does on its own (printing a setup link at start, for instance). */
export const SERVER_ACTOR: Actor = { kind: 'system', name: 'candor' };

/** A person as the actor of a request, with the roles and permissions resolved for it. */
export function personActor(user: User, access: ResolvedAccess): Actor {
  return { kind: 'user', id: user.id, email: user.email, name: user.name, roles: access.roles, permissions: access.permissions };
}

/** The setup link acts as the system when it makes its holder the owner: nobody holds a role before that. */
const SETUP_LINK_ACTOR: Actor = { kind: 'system', name: 'setup_link' };

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
  const password = assertAcceptablePassword(form.password, passwordContext(ctx, form.email));
  const passwordHash = await hashPassword(password);
  const now = ctx.clock.now();
  const tenantId = ctx.tenant.id;
  const result = await ctx.db.withTenant(tenantId, async (tx) => {
    const tokenHash = sha256Hex(token);
    const refusal = await checkLinkOrRecord(ctx, tx, tokenHash);
    if (refusal) return { refusal };
    const user = await insertUser(tx, { tenantId, email: form.email, name: form.name, passwordHash });
    // The person holding the link becomes this owner: the trail names them rather than "anonymous".
    const asPerson = { ...auditScope(ctx), actor: personActor(user, { roles: [], permissions: new Set() }) };
    await ctx.audit.record(tx, asPerson, {
      action: 'user.created',
      target: { type: 'user', id: user.id },
      details: { email: user.email, role: 'owner', via: 'setup_link' },
    });
    await applyRoleGrant(tx, { ...ctx, actor: SETUP_LINK_ACTOR }, user.id, 'owner');
    await markSetupTokenUsed(tx, tokenHash, now);
    const scope = { ...auditScope(ctx), actor: personActor(user, await resolveAccess(tx, tenantId, user.id)) };
    const sessionId = await openSession(tx, ctx, scope, user, { method: 'setup-link' });
    return { session: { sessionId, user } };
  });
  if ('refusal' in result) throw result.refusal;
  return result.session;
}

/** How a session is being opened, and whether a second factor was already proven on the way in. */
export interface SessionHow {
  method: SessionMethod;
  /** True when the method itself proved a second factor (a passkey with user verification, for instance). */
  secondFactor?: boolean;
}

/**
 * Inserts a session and records the sign-in, in the caller's transaction; returns the new session id (the
 * cookie value). Every way in (password, setup link, passkey, SSO, reset) opens its session here.
 */
export async function openSession(tx: Tx, ctx: RequestContext, scope: AuditScope, user: User, how: SessionHow): Promise<string> {
  const now = ctx.clock.now();
  const sessionId = newSecret();
  await insertSession(tx, {
    tenantId: ctx.tenant.id,
    idHash: sha256Hex(sessionId),
    userId: user.id,
    csrfToken: newSecret(24),
    ip: ctx.ip,
    userAgent: ctx.userAgent.slice(0, 512),
    authMethod: how.method,
    secondFactorAt: how.secondFactor ? now : null,
    accessStamp: accessStamp(await resolveAccess(tx, ctx.tenant.id, user.id), how.secondFactor ? now : null),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
  });
  await ctx.audit.record(tx, scope, {
    action: 'session.signed_in',
    target: { type: 'user', id: user.id },
    details: { method: how.method, ...(how.secondFactor ? { secondFactor: true } : {}) },
  });
  return sessionId;
}

/**
 * Password sign-in; the same error for an unknown email and a wrong password. Failures are recorded with the
 * address tried (never the password): detection counts them per account and per address.
 */
export async function signIn(
  ctx: RequestContext,
  credentials: { email: string; password: string },
  gate?: PasswordGate,
): Promise<NewSession> {
  const tenantId = ctx.tenant.id;
  const found = await ctx.db.withTenant(tenantId, async (tx) => {
    // Checked before the password: a blocked guesser learns nothing, not even whether the guess was right.
    await checkSignInAllowed(tx, ctx, credentials.email);
    return findUserByEmail(tx, credentials.email);
  });
  // Hashing happens outside any transaction: it takes tens of milliseconds and needs no database.
  const password = normalizePassword(credentials.password);
  const ok = await verify(found?.passwordHash ?? (await DUMMY_HASH), password).catch(() => false);
  // A deactivated person gets the same answer as a wrong password: the form does not confirm the account.
  if (!found?.passwordHash || !ok || found.deactivatedAt) {
    await ctx.db.withTenant(tenantId, async (tx) => {
      await recordSignInFailure(tx, ctx, credentials.email);
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'session.sign_in_failed',
        target: { type: 'user', id: found?.id ?? null },
        outcome: 'failed',
        details: {
          email: credentials.email.trim().toLowerCase(),
          ...(ok && found?.deactivatedAt ? { reason: 'deactivated' } : {}),
        },
      });
    });
    throw new InvalidInput('that email and password do not match an account', { password: 'check your email and password' });
  }
  const { passwordHash: _, ...user } = found;
  const opened = await ctx.db.withTenant(tenantId, async (tx) => {
    // Asked only once the password is right: a guesser learns nothing new about who may use passwords.
    const refusal = gate ? await gate(tx, ctx, user) : undefined;
    if (refusal) {
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'session.sign_in_failed',
        target: { type: 'user', id: user.id },
        outcome: 'denied',
        details: { email: user.email, reason: 'password_not_allowed' },
      });
      return { refusal };
    }
    await recordSignInSuccess(tx, credentials.email);
    const sessionId = await openSession(
      tx,
      ctx,
      { ...auditScope(ctx), actor: personActor(user, await resolveAccess(tx, tenantId, user.id)) },
      user,
      { method: 'password' },
    );
    return { sessionId };
  });
  if ('refusal' in opened) throw new PasswordNotAllowed(opened.refusal);
  if (!hashIsCurrent(found.passwordHash)) await upgradePasswordHash(ctx, tenantId, user.id, password);
  return { sessionId: opened.sessionId, user };
}

/** Re-hashes a right password under today's parameters: the only moment the server holds it in clear. */
async function upgradePasswordHash(ctx: RequestContext, tenantId: string, userId: string, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  await ctx.db.withTenant(tenantId, (tx) => setPasswordHash(tx, userId, passwordHash));
}

/**
 * Whether a person may use a password at all, asked by password sign-in and reset once the person is known:
 * undefined allows it, a message refuses it (an SSO-only workspace lets only its owners use passwords).
 */
export type PasswordGate = (tx: Tx, ctx: RequestContext, user: User) => Promise<string | undefined>;

/** A right password from a person who may not sign in with one; the message says how to sign in instead. */
export class PasswordNotAllowed extends Forbidden {}

/** A person by id or by email (any case), for other capabilities signing people in (SSO). */
export function findPersonById(tx: Tx, id: string): Promise<User | undefined> {
  return findUserById(tx, id);
}

export async function findPersonByEmail(tx: Tx, email: string): Promise<User | undefined> {
  const found = await findUserByEmail(tx, email);
  if (!found) return undefined;
  const { passwordHash: _, ...user } = found;
  return user;
}

/**
 * Creates a person without a password and grants them one role, in the caller's transaction: just-in-time
 * provisioning (SSO) creates people this way, acting as `ctx.actor` (a system actor naming the way in).
 */
export async function provisionPerson(
  tx: Tx,
  ctx: RequestContext,
  input: { email: string; name: string; role: string },
  via: string,
): Promise<User> {
  requirePermission(ctx.actor, 'users.manage');
  if (await findUserByEmail(tx, input.email)) throw duplicateEmail(input.email);
  const user = await insertUser(tx, { tenantId: ctx.tenant.id, email: input.email, name: input.name, passwordHash: null });
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'user.created',
    target: { type: 'user', id: user.id },
    details: { email: user.email, role: input.role, canSignIn: false, via },
  });
  await applyRoleGrant(tx, ctx, user.id, input.role);
  return user;
}

/**
 * What a session's privileges come to, as a short digest: the roles, the permissions they add up to, and whether
 * a second factor was proven. A session id is issued for one stamp; when the stamp changes (a role granted or
 * revoked, a custom role edited, a second factor proven) the session gets a new id at its next request, so an
 * id seen before the change (in a log, a shared screen, a fixation attempt) is worth nothing after it.
 */
export function accessStamp(access: ResolvedAccess, secondFactorAt: Date | null): string {
  const digest = JSON.stringify([[...access.roles].sort(), [...access.permissions].sort(), secondFactorAt !== null]);
  return sha256Hex(digest).slice(0, 32);
}

export interface ActiveSession {
  user: User;
  /** The person's roles and effective permissions, resolved with the session. */
  access: ResolvedAccess;
  csrfToken: string;
  idHash: string;
  authMethod: string;
  secondFactorAt: Date | null;
  /** Set when the privileges changed since the id was issued: the new id, for the cookie. */
  reissuedSessionId?: string;
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
    if (!user || user.deactivatedAt) return undefined;
    if (now.getTime() - session.lastSeenAt.getTime() > SESSION_TOUCH_EVERY_MS) await touchSession(tx, idHash, now);
    const access = await resolveAccess(tx, tenantId, user.id);
    const stamp = accessStamp(access, session.secondFactorAt);
    const active = {
      user,
      access,
      csrfToken: session.csrfToken,
      idHash,
      authMethod: session.authMethod,
      secondFactorAt: session.secondFactorAt,
    };
    if (session.accessStamp === stamp) return active;
    // A session from before stamps existed is stamped as it is; any other mismatch is a privilege change.
    if (session.accessStamp === null) {
      await setSessionAccessStamp(tx, idHash, stamp);
      return active;
    }
    const reissuedSessionId = newSecret();
    const newIdHash = sha256Hex(reissuedSessionId);
    // Of two requests racing with the old id, one reissues it; the other finds no session and signs in again.
    if (!(await reissueSession(tx, idHash, newIdHash, stamp))) return undefined;
    return { ...active, idHash: newIdHash, reissuedSessionId };
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

/**
 * A signed-in person changes their password: the current one must match, the new one must pass the policy.
 * Every other session of theirs ends (a thief's copy of a session is thrown out); `currentSessionId` stays.
 */
export async function changePassword(ctx: RequestContext, currentSessionId: string, input: ChangePasswordForm): Promise<void> {
  const actor = ctx.actor;
  if (actor.kind !== 'user') throw new Unauthorized('sign in to change your password');
  const form = ChangePasswordForm.parse(input);
  const tenantId = ctx.tenant.id;
  const stored = await ctx.db.withTenant(tenantId, async (tx) => ({
    hash: await findPasswordHash(tx, actor.id),
    user: await findUserById(tx, actor.id),
  }));
  if (!stored.user) throw new Unauthorized('your account no longer exists');
  const matches = stored.hash ? await verify(stored.hash, normalizePassword(form.currentPassword)).catch(() => false) : false;
  if (!matches) {
    throw new InvalidInput('your current password is not correct', { currentPassword: 'this is not your current password' });
  }
  const password = assertAcceptablePassword(form.newPassword, passwordContext(ctx, stored.user.email), 'newPassword');
  const passwordHash = await hashPassword(password);
  await ctx.db.withTenant(tenantId, async (tx) => {
    await setPasswordHash(tx, actor.id, passwordHash);
    const ended = await deleteUserSessions(tx, actor.id, sha256Hex(currentSessionId));
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'auth.password_changed',
      target: { type: 'user', id: actor.id },
      details: { otherSessionsEnded: ended },
    });
  });
}

const TOKEN_PREFIX = 'cnd_';
// What lists show of a token (`cnd_` and six characters); the same is all a refusal may record of one.
const DISPLAY_PREFIX_LENGTH = TOKEN_PREFIX.length + 6;
const TOKEN_SHAPE = /^cnd_[A-Za-z0-9_-]{6,}$/;

function tokenInfo(row: ApiTokenRow): ApiTokenInfo {
  return { ...row, permissions: knownPermissions(row.permissions) };
}

function tokenDetails(info: {
  name: string;
  permissions: readonly string[];
  expiresAt: Date | null;
  allowedIps?: string[] | null;
}) {
  return {
    name: info.name,
    permissions: [...info.permissions],
    expiresAt: info.expiresAt?.toISOString() ?? null,
    ...(info.allowedIps ? { allowedIps: [...info.allowedIps] } : {}),
  };
}

/**
 * A token's address ranges in canonical form, or null for "anywhere". Every bad entry is named
 * (`allowedIps.<n>`), and nothing is created.
 */
function tokenAddressRanges(entries: readonly string[] | undefined): string[] | null {
  const ranges: string[] = [];
  const errors: Record<string, string> = {};
  for (const [i, entry] of (entries ?? []).entries()) {
    if (entry.trim() === '') continue;
    const parsed = parseCidr(entry);
    if (parsed.ok) ranges.push(parsed.block.text);
    else errors[`allowedIps.${i}`] = parsed.error;
  }
  const [first] = Object.values(errors);
  if (first) throw new InvalidInput(first, { allowedIps: first, ...errors });
  return ranges.length > 0 ? [...new Set(ranges)] : null;
}

/** Whether a token may be used from an address: always when it names no ranges. */
function tokenUsableFrom(allowedIps: readonly string[] | null, ip: string): boolean {
  if (!allowedIps || allowedIps.length === 0) return true;
  const address = parseIpAddress(ip);
  const blocks = allowedIps.flatMap((r) => {
    const parsed = parseCidr(r);
    return parsed.ok ? [parsed.block] : [];
  });
  return address !== undefined && inAnyCidr(blocks, address);
}

/**
 * Creates an API token scoped to permissions; the plaintext is returned once and only its hash is kept.
 * A token never carries a permission its creator lacks (a role given as a shortcut counts as its permissions).
 */
export async function createApiToken(
  runtime: Runtime,
  scope: AuditScope,
  input: NewApiToken,
): Promise<{ token: string; info: ApiTokenInfo }> {
  requirePermission(scope.actor, 'tokens.manage');
  const data = NewApiToken.parse(input);
  const allowedIps = tokenAddressRanges(data.allowedIps);
  const token = `${TOKEN_PREFIX}${newSecret()}`;
  const now = runtime.clock.now();
  const info = await runtime.db.withTenant(scope.tenantId, async (tx) => {
    const permissions = knownPermissions([...data.permissions, ...(await shortcutPermissions(tx, scope.tenantId, data.role))]);
    // A role shortcut may stand for no permission at all (employee): such a token can only say who it is.
    if (permissions.length === 0 && !data.role) {
      throw new InvalidInput('give the token at least one permission', { permissions: 'choose at least one permission' });
    }
    const lacking = permissionsLacking(scope.actor, permissions);
    if (lacking.length > 0) {
      throw new AccessDenied(
        `create an API token with permissions they do not hold (${lacking.join(', ')})`,
        `a token cannot have permissions you do not hold yourself: ${lacking.join(', ')}`,
      );
    }
    const created = await insertApiToken(tx, {
      tenantId: scope.tenantId,
      name: data.name,
      permissions,
      createdById: scope.actor.kind === 'user' ? scope.actor.id : null,
      tokenHash: sha256Hex(token),
      prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
      expiresAt: data.expiresInMs ? new Date(now.getTime() + data.expiresInMs) : null,
      allowedIps,
    });
    await runtime.audit.record(tx, scope, {
      action: 'api_token.created',
      target: { type: 'api_token', id: created.id },
      details: { ...tokenDetails(created), ...(data.role ? { role: data.role } : {}) },
    });
    return tokenInfo(created);
  });
  return { token, info };
}

/** The permissions of the role named as a token's shortcut; an unknown role is a clear input error. */
async function shortcutPermissions(tx: Tx, tenantId: string, role: string | undefined): Promise<string[]> {
  if (!role) return [];
  const found = await findRole(tx, tenantId, role);
  if (!found) {
    const valid = (await roleSlugs(tx, tenantId)).join(', ');
    throw new InvalidInput(`unknown role "${role}"; valid roles: ${valid}`, { role: `unknown role; valid roles: ${valid}` });
  }
  return [...found.permissions];
}

/**
 * The token behind an `Authorization: Bearer` value; unknown, expired and revoked tokens are refused alike.
 * A valid token used from outside its address ranges is refused with 403 (it is known, just not from there).
 * A refusal is recorded (with the display prefix when the value looks like one of ours, never the value).
 */
export async function authenticateApiToken(ctx: RequestContext, token: string): Promise<ApiTokenInfo> {
  const now = ctx.clock.now();
  const result = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const info = TOKEN_SHAPE.test(token) ? await findApiTokenByHash(tx, sha256Hex(token)) : undefined;
    const reason = !info
      ? 'unknown'
      : info.revokedAt
        ? 'revoked'
        : info.expiresAt && info.expiresAt <= now
          ? 'expired'
          : !tokenUsableFrom(info.allowedIps, ctx.ip)
            ? 'outside_ip_range'
            : null;
    if (!info || reason) {
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'api_token.refused',
        target: { type: 'api_token', id: info?.id ?? null },
        outcome: 'denied',
        details: TOKEN_SHAPE.test(token) ? { reason, prefix: token.slice(0, DISPLAY_PREFIX_LENGTH) } : { reason },
      });
      return reason === 'outside_ip_range' ? ('outside_ip_range' as const) : undefined;
    }
    if (!info.lastUsedAt || now.getTime() - info.lastUsedAt.getTime() > SESSION_TOUCH_EVERY_MS) {
      await markApiTokenUsed(tx, info.id, now);
    }
    return tokenInfo(info);
  });
  if (result === 'outside_ip_range') throw new Forbidden('this API token may not be used from your address');
  if (!result) {
    throw token.startsWith(TOKEN_PREFIX)
      ? new Unauthorized('invalid, expired or revoked API token')
      : new Unauthorized('invalid API token');
  }
  return result;
}

export async function listApiTokens(ctx: RequestContext): Promise<ApiTokenInfo[]> {
  requirePermission(ctx.actor, 'tokens.read');
  return (await ctx.db.withTenant(ctx.tenant.id, (tx) => listApiTokenRows(tx))).map(tokenInfo);
}

/** How many tokens work right now (the dashboard's figure: a count reveals nothing about any token). */
export function countActiveApiTokens(ctx: RequestContext): Promise<number> {
  return ctx.db.withTenant(ctx.tenant.id, (tx) => countActiveApiTokenRows(tx, ctx.clock.now()));
}

export async function revokeApiToken(runtime: Runtime, scope: AuditScope, id: string): Promise<void> {
  requirePermission(scope.actor, 'tokens.manage');
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

/**
 * Retention (the retention capability's `sessions` category): one batch of sessions that ended more than
 * the period ago, by absolute timeout or by going idle. Signing out deletes a session at once; an ended
 * session that is presented again is deleted then, so these rows can never sign anyone in.
 */
export function purgeEndedSessions(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  const idleBefore = new Date(cutoff.getTime() - SESSION_IDLE_MS);
  return deleteEndedSessions(tx, tenantId, { expiredBefore: cutoff, idleBefore }, batchSize);
}

/** Retention (`setup-links`): one batch of setup links used or expired before `cutoff`. */
export function purgeSpentSetupLinks(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  return deleteSpentSetupTokens(tx, tenantId, cutoff, batchSize);
}

/** Retention (`api-tokens`): one batch of API tokens revoked or expired before `cutoff`; active tokens stay. */
export function purgeEndedApiTokens(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  return deleteEndedApiTokens(tx, tenantId, cutoff, batchSize);
}

/** Retention (`account-links`): one batch of invitation and password-reset links that expired before `cutoff`. */
export function purgeExpiredAccountLinks(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  return deleteExpiredLinks(tx, tenantId, cutoff, batchSize);
}

/** Retention (`sign-in-throttle`): one batch of failed-sign-in counters last touched before `cutoff`. */
export function purgeStaleSignInCounters(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  return deleteStaleThrottleRows(tx, tenantId, cutoff, batchSize);
}

/** Whether the tenant still needs its first owner (the start log then prints a setup link). */
export async function needsOwner(db: Database, tenantId: string): Promise<boolean> {
  return (await db.withTenant(tenantId, (tx) => countUsers(tx))) === 0;
}

/**
 * Creates a person with one role, in one transaction: the grant goes through the access capability's single
 * choke point (applyRoleGrant), so its rules apply here too. Without a password the person cannot sign in until
 * they accept an invitation (invitePerson in invitations.ts); the command line sets one directly.
 */
export async function createPerson(ctx: RequestContext, input: NewPerson & { password?: string }): Promise<User> {
  requirePermission(ctx.actor, 'users.manage');
  const data = NewPerson.parse(input);
  const password =
    input.password === undefined ? undefined : assertAcceptablePassword(input.password, passwordContext(ctx, data.email));
  const passwordHash = password === undefined ? null : await hashPassword(password);
  return inPersonTransaction(ctx, data.email, (tx) => insertPerson(tx, ctx, data, passwordHash));
}

/**
 * Runs the creation of a person in one tenant transaction. Two creations of one address at once: the unique
 * index decides, and the loser gets the same clear answer as a plain duplicate.
 */
export async function inPersonTransaction<T>(ctx: RequestContext, email: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await ctx.db.withTenant(ctx.tenant.id, work);
  } catch (error) {
    if (pgErrorCode(error) === PG.uniqueViolation) throw duplicateEmail(email);
    throw error;
  }
}

/** Inserts the person and grants their first role, in the caller's transaction; records both. */
export async function insertPerson(tx: Tx, ctx: RequestContext, data: NewPerson, passwordHash: string | null): Promise<User> {
  const tenantId = ctx.tenant.id;
  if (await findUserByEmail(tx, data.email)) throw duplicateEmail(data.email);
  if (!(await findRole(tx, tenantId, data.role))) {
    const valid = (await roleSlugs(tx, tenantId)).join(', ');
    throw new InvalidInput(`unknown role "${data.role}"; valid roles: ${valid}`, {
      role: `unknown role; valid roles: ${valid}`,
    });
  }
  const user = await insertUser(tx, { tenantId, email: data.email, name: data.name, passwordHash });
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'user.created',
    target: { type: 'user', id: user.id },
    details: { email: user.email, role: data.role, canSignIn: passwordHash !== null },
  });
  await applyRoleGrant(tx, ctx, user.id, data.role);
  return user;
}

function duplicateEmail(email: string): Conflict {
  return new Conflict(`a person with the email ${email} already exists`);
}

// Hooks for the MFA capability: the person behind a session, their password, and the session's second factor.

/** The person with this id (deactivated people included: callers decide), in the caller's transaction. */
export function findPerson(tx: Tx, id: string): Promise<User | undefined> {
  return findUserById(tx, id);
}

/** Whether `password` is the person's current password (false when they have none). */
export async function passwordMatches(ctx: RequestContext, userId: string, password: string): Promise<boolean> {
  const stored = await ctx.db.withTenant(ctx.tenant.id, (tx) => findPasswordHash(tx, userId));
  if (!stored) return false;
  return verify(stored, normalizePassword(password)).catch(() => false);
}

/** Records in the session (by its id hash) that its person has just proven a second factor. */
export function markSessionSecondFactor(tx: Tx, idHash: string, at: Date): Promise<void> {
  return setSessionSecondFactor(tx, idHash, at);
}

/**
 * Forgets the second factor proven in every session of a person whose factors are all gone: the MFA gate then
 * decides again at their next request (enrolment, when the policy covers them).
 */
export function forgetSecondFactorOfPerson(tx: Tx, userId: string): Promise<void> {
  return clearUserSessionsSecondFactor(tx, userId);
}

/** The actor of a person acting in their own name, with their roles resolved in `tx`. */
export async function actorOfPerson(tx: Tx, tenantId: string, user: User): Promise<Actor> {
  return personActor(user, await resolveAccess(tx, tenantId, user.id));
}
