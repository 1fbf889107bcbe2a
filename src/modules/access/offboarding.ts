import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import { Conflict, NotFound } from '../../platform/errors.ts';
import { type Duty, dutiesOf } from './duties.ts';
import {
  closeGrantRequest,
  deleteAccountLinksOf,
  deleteAllGrantsOf,
  deleteSessionsOf,
  lockAccount,
  lockPendingRequestsInvolving,
  revokeTokensCreatedBy,
  setDeactivatedAt,
} from './governance-store.ts';
import { personBehind } from './grant-requests.ts';
import { isPrivilegedRole } from './roles.ts';
import { AccessDenied, actorLabel, findRole, refuseStrongerRole, requirePermission } from './service.ts';
import { findPersonRow, lockRoleHolders } from './store.ts';

/**
 * Offboarding: a deactivated person can no longer sign in, and everything that let them act ends in the same
 * transaction (sessions, the API tokens they made, their roles, their pending grant requests). What they
 * answered for is listed from the duty sources so that someone takes it over.
 */

export interface Deactivation {
  userId: string;
  email: string;
  deactivatedAt: Date;
  sessionsEnded: number;
  tokensRevoked: string[];
  rolesRemoved: string[];
  requestsCancelled: number;
  duties: Duty[];
}

export async function deactivatePerson(ctx: RequestContext, userId: string): Promise<Deactivation> {
  requirePermission(ctx.actor, 'users.manage');
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  const ended = await ctx.db.withTenant(tenantId, async (tx) => {
    if ((await personBehind(tx, tenantId, ctx.actor)) === userId) {
      throw new AccessDenied('deactivate themselves', 'you cannot deactivate yourself; ask another administrator');
    }
    const person = await lockAccount(tx, tenantId, userId);
    if (!person) throw new NotFound('person', userId);
    if (person.deactivatedAt) throw new Conflict(`${person.email} is deactivated already`);
    const owners = await lockRoleHolders(tx, tenantId, 'owner');
    if (owners.length === 1 && owners[0] === userId) {
      throw new Conflict('the last owner cannot be deactivated; make someone else owner first');
    }
    const roles = [];
    for (const slug of await deleteAllGrantsOf(tx, tenantId, userId)) {
      const role = await findRole(tx, tenantId, slug);
      // Offboarding takes away every role, so the actor must be able to take away each one.
      if (role) refuseStrongerRole(ctx.actor, role, 'revoke');
      roles.push({ slug, name: role?.name ?? slug, privileged: role ? isPrivilegedRole(role) : false });
    }
    await setDeactivatedAt(tx, tenantId, userId, now);
    const sessionsEnded = await deleteSessionsOf(tx, tenantId, userId);
    const linksWithdrawn = await deleteAccountLinksOf(tx, tenantId, userId);
    const tokens = await revokeTokensCreatedBy(tx, tenantId, userId, now);
    const requests = await lockPendingRequestsInvolving(tx, tenantId, userId);
    const by = actorLabel(ctx.actor);
    const scope = auditScope(ctx);
    for (const request of requests) {
      await closeGrantRequest(tx, tenantId, request.id, {
        status: 'cancelled',
        reason: `${person.email} was deactivated`,
        decidedById: by.id,
        decidedByLabel: by.label,
        decidedAt: now,
      });
    }
    await ctx.audit.recordMany(tx, scope, [
      ...roles.map((r) => ({
        action: 'access.role_revoked',
        target: { type: 'user', id: userId },
        details: { role: r.slug, roleName: r.name, email: person.email, privileged: r.privileged, via: 'deactivation' },
      })),
      ...tokens.map((t) => ({
        action: 'api_token.revoked',
        target: { type: 'api_token', id: t.id },
        details: { name: t.name, via: 'deactivation' },
      })),
      ...requests.map((r) => ({
        action: 'access.grant_request_cancelled',
        target: { type: 'grant_request', id: r.id },
        details: { userId: r.userId, role: r.role, reason: `${person.email} was deactivated` },
      })),
      {
        action: 'user.deactivated',
        target: { type: 'user', id: userId },
        details: {
          email: person.email,
          sessionsEnded,
          linksWithdrawn,
          tokensRevoked: tokens.map((t) => t.id),
          rolesRemoved: roles.map((r) => r.slug),
          requestsCancelled: requests.map((r) => r.id),
        },
      },
    ]);
    return {
      userId,
      email: person.email,
      deactivatedAt: now,
      sessionsEnded,
      tokensRevoked: tokens.map((t) => t.name),
      rolesRemoved: roles.map((r) => r.slug),
      requestsCancelled: requests.length,
    };
  });
  return { ...ended, duties: await dutiesOf(ctx.db, tenantId, userId, now) };
}

/** Lets a deactivated person sign in again. No role comes back: access is granted afresh, one decision at a time. */
export async function reactivatePerson(ctx: RequestContext, userId: string): Promise<void> {
  requirePermission(ctx.actor, 'users.manage');
  const tenantId = ctx.tenant.id;
  await ctx.db.withTenant(tenantId, async (tx) => {
    const person = await lockAccount(tx, tenantId, userId);
    if (!person) throw new NotFound('person', userId);
    if (!person.deactivatedAt) throw new Conflict(`${person.email} is not deactivated`);
    await setDeactivatedAt(tx, tenantId, userId, null);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'user.reactivated',
      target: { type: 'user', id: userId },
      details: { email: person.email, deactivatedAt: person.deactivatedAt.toISOString() },
    });
  });
}

/** A person's duties that need a new owner (shown on a deactivated person's page). */
export async function personDuties(ctx: RequestContext, userId: string): Promise<Duty[]> {
  requirePermission(ctx.actor, 'users.read');
  // Duty sources run without row-level security: make sure the person is one of this tenant's first.
  const person = await ctx.db.withTenant(ctx.tenant.id, (tx) => findPersonRow(tx, ctx.tenant.id, userId));
  if (!person) throw new NotFound('person', userId);
  return dutiesOf(ctx.db, ctx.tenant.id, userId, ctx.clock.now());
}
