import { auditScope } from '../../platform/audit/audit.ts';
import { actorLabel, type RequestContext } from '../../platform/context.ts';
import { newSecret, sha256Hex } from '../../platform/crypto/secrets.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Conflict, Gone, NotFound } from '../../platform/errors.ts';
import { requirePermission, resolveAccess } from '../access/service.ts';
import { assertAcceptablePassword } from './passwords.ts';
import { NewPerson, type User } from './schema.ts';
import {
  hashPassword,
  inPersonTransaction,
  insertPerson,
  type NewSession,
  openSession,
  passwordContext,
  personActor,
} from './service.ts';
import {
  findInvitation,
  findInvitationOf,
  findPasswordHash,
  findUserById,
  replaceInvitation,
  setPasswordHash,
  setUserName,
  takeInvitation,
} from './store.ts';

/** A week: people are away, mail sits unread; a link found after that is dead and can be sent again. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const SPENT =
  'this invitation is no longer valid (it was used, sent again with a newer link, or expired); ask the person who invited you to send it again';

/** What the invitation page shows: whom it is for, to confirm before a password is chosen. */
export interface InvitationInfo {
  email: string;
  name: string;
  expiresAt: Date;
}

/**
 * Mails a single-use link with which `user` sets their first password, in the caller's transaction (so a
 * person created with an invitation never exists without one). Sending again replaces the earlier link.
 */
export async function issueInvitation(tx: Tx, ctx: RequestContext, user: User, baseUrl: string): Promise<Date> {
  const token = newSecret();
  const expiresAt = new Date(ctx.clock.now().getTime() + INVITATION_TTL_MS);
  const inviter = ctx.actor.kind === 'user' ? ctx.actor.name : actorLabel(ctx.actor);
  await replaceInvitation(tx, {
    tenantId: ctx.tenant.id,
    userId: user.id,
    tokenHash: sha256Hex(token),
    invitedBy: actorLabel(ctx.actor),
    expiresAt,
  });
  await ctx.mail.enqueue(tx, ctx.tenant.id, {
    to: user.email,
    subject: `You are invited to ${ctx.tenant.name} on Candor`,
    text: [
      `Hello ${user.name},`,
      '',
      `${inviter} invited you to ${ctx.tenant.name}'s Candor workspace, where the company runs its security and privacy program.`,
      '',
      `Choose your password here within seven days: ${baseUrl}/admin/invite/${token}`,
      '',
      'The link works once. If you did not expect this mail, ignore it: no account can be used without the link.',
    ].join('\n'),
  });
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'user.invited',
    target: { type: 'user', id: user.id },
    details: { email: user.email, expiresAt: expiresAt.toISOString() },
  });
  return expiresAt;
}

/**
 * Sends a person's invitation again (a new link; the old one stops working). Only for people who have never
 * set a password and are not deactivated: everyone else signs in, or resets a forgotten password.
 */
export async function resendInvitation(ctx: RequestContext, userId: string, baseUrl: string): Promise<Date> {
  requirePermission(ctx.actor, 'users.manage');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user) throw new NotFound('person', userId);
    if (user.deactivatedAt) throw new Conflict(`${user.email} is deactivated; reactivate them before inviting them again`);
    if (await findPasswordHash(tx, userId)) {
      throw new Conflict(`${user.email} has already set a password; they can use “Forgot your password?” if they lost it`);
    }
    return issueInvitation(tx, ctx, user, baseUrl);
  });
}

/** When a person's open invitation expires, or undefined when there is none. */
export function openInvitationOf(tx: Tx, userId: string): Promise<{ expiresAt: Date } | undefined> {
  return findInvitationOf(tx, userId);
}

/** The invitation behind a link, for its page; a spent, replaced or expired link is a clear 410. */
export async function checkInvitation(ctx: RequestContext, token: string): Promise<InvitationInfo> {
  const found = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await findInvitation(tx, sha256Hex(token));
    const user = row && (await findUserById(tx, row.userId));
    return row && user && !user.deactivatedAt ? { email: user.email, name: user.name, expiresAt: row.expiresAt } : undefined;
  });
  if (!found || found.expiresAt <= ctx.clock.now()) throw new Gone(SPENT);
  return found;
}

/**
 * Accepts an invitation: the person confirms their name and chooses a password under the policy, and is signed
 * in. A refused password leaves the link usable; the link itself works once.
 */
export async function acceptInvitation(
  ctx: RequestContext,
  token: string,
  input: { name: string; password: string },
): Promise<NewSession> {
  const invited = await checkInvitation(ctx, token);
  const password = assertAcceptablePassword(input.password, passwordContext(ctx, invited.email));
  const passwordHash = await hashPassword(password);
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const taken = await takeInvitation(tx, sha256Hex(token));
    const user = taken && (await findUserById(tx, taken.userId));
    if (!taken || !user || user.deactivatedAt || taken.expiresAt <= ctx.clock.now()) throw new Gone(SPENT);
    await setPasswordHash(tx, user.id, passwordHash);
    const named = input.name === user.name ? user : { ...user, name: input.name };
    if (named !== user) await setUserName(tx, user.id, named.name);
    const scope = { ...auditScope(ctx), actor: personActor(named, await resolveAccess(tx, tenantId, user.id)) };
    await ctx.audit.record(tx, scope, {
      action: 'user.invitation_accepted',
      target: { type: 'user', id: user.id },
      details: { email: user.email, invitedBy: taken.invitedBy },
    });
    const sessionId = await openSession(tx, ctx, scope, named, { method: 'invitation' });
    return { sessionId, user: named };
  });
}

/**
 * Adds a person with a role and mails them an invitation, all in one transaction: the person, the grant, the
 * link and the mail in the outbox exist together or not at all.
 */
export async function invitePerson(ctx: RequestContext, input: NewPerson, baseUrl: string): Promise<User> {
  requirePermission(ctx.actor, 'users.manage');
  const data = NewPerson.parse(input);
  return inPersonTransaction(ctx, data.email, async (tx) => {
    const user = await insertPerson(tx, ctx, data, null);
    await issueInvitation(tx, ctx, user, baseUrl);
    return user;
  });
}
