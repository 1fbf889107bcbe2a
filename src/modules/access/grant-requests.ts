import { auditScope } from '../../platform/audit/audit.ts';
import type { Actor, RequestContext } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import {
  closeGrantRequest,
  emailsOf,
  findPendingRequest,
  type GrantRequestRow,
  insertGrantRequest,
  listActiveGrants,
  lockExpiredRequests,
  tokenCreatorOf,
} from './governance-store.ts';
import type { RoleDefinition } from './roles.ts';
import { holdingOf, roleDefinitions } from './sod-rules.ts';

/**
 * Privileged grants wait for a second administrator. This file opens and expires requests; deciding them is
 * in approvals.ts. No permission checks here: applyRoleGrant has made them before it routes a grant here.
 */

export const GRANT_REQUEST_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The person answerable for what the actor does: a signed-in person, or the person who made the API token.
 * Undefined for the system and for tokens made on the command line (the operator, the break-glass path).
 */
export async function personBehind(tx: Tx, tenantId: string, actor: Actor): Promise<string | undefined> {
  if (actor.kind === 'user') return actor.id;
  if (actor.kind === 'token') return (await tokenCreatorOf(tx, tenantId, actor.id)) ?? undefined;
  return undefined;
}

/** Active people who may hand out `role` (users.manage and every permission of it), except those named. */
export async function eligibleApprovers(
  tx: Tx,
  tenantId: string,
  role: RoleDefinition,
  except: readonly string[],
): Promise<{ id: string; email: string }[]> {
  const grants = await listActiveGrants(tx, tenantId);
  const definitions = await roleDefinitions(
    tx,
    tenantId,
    grants.map((g) => g.role),
  );
  const people = new Map<string, { email: string; roles: string[] }>();
  for (const g of grants) {
    const entry = people.get(g.userId) ?? { email: g.email, roles: [] };
    entry.roles.push(g.role);
    people.set(g.userId, entry);
  }
  return [...people]
    .filter(([id]) => !except.includes(id))
    .filter(([, p]) => {
      const holding = holdingOf(p.roles, definitions);
      return holding.permissions.has('users.manage') && role.permissions.every((perm) => holding.permissions.has(perm));
    })
    .map(([id, p]) => ({ id, email: p.email }));
}

function labelOf(actor: Actor): string {
  switch (actor.kind) {
    case 'user':
      return actor.email;
    case 'token':
      return `token ${actor.name}`;
    case 'system':
      return actor.name;
    default:
      return 'anonymous';
  }
}

/**
 * Records a request for a privileged grant instead of granting, mails the people who may decide it, and
 * returns it. Asking again for the same person and role returns the request already waiting.
 */
export async function openGrantRequest(
  tx: Tx,
  ctx: RequestContext,
  requesterId: string,
  person: { id: string; email: string },
  role: RoleDefinition,
): Promise<GrantRequestRow> {
  const tenantId = ctx.tenant.id;
  await expireGrantRequests(tx, ctx);
  const waiting = await findPendingRequest(tx, tenantId, person.id, role.slug);
  if (waiting) return waiting;
  const now = ctx.clock.now();
  const approvers = await eligibleApprovers(tx, tenantId, role, [requesterId, person.id]);
  const row = await insertGrantRequest(tx, {
    tenantId,
    userId: person.id,
    role: role.slug,
    requestedById: requesterId,
    requestedByLabel: labelOf(ctx.actor),
    approverIds: approvers.map((a) => a.id),
    createdAt: now,
    expiresAt: new Date(now.getTime() + GRANT_REQUEST_TTL_MS),
  });
  if (!row) throw new Error('a pending request appeared while this one was being made');
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'access.grant_requested',
    target: { type: 'grant_request', id: row.id },
    details: {
      userId: person.id,
      email: person.email,
      role: role.slug,
      roleName: role.name,
      expiresAt: row.expiresAt.toISOString(),
      approvers: approvers.map((a) => a.email),
    },
  });
  if (approvers.length > 0) {
    await ctx.mail.enqueue(tx, tenantId, {
      to: approvers.map((a) => a.email),
      subject: `Approve or deny: ${role.name} for ${person.email}`,
      text: [
        `${labelOf(ctx.actor)} asked to grant the role “${role.name}” to ${person.email} in ${ctx.tenant.name}.`,
        '',
        'A privileged role needs a second administrator. Approve or deny it (with a reason) here:',
        `${ctx.config.publicUrl}/admin/grant-requests`,
        '',
        `The request expires on ${row.expiresAt.toISOString()}. You receive this because you may hand out this role.`,
      ].join('\n'),
    });
  }
  return row;
}

/** Closes requests past their expiry, each recorded as `access.grant_request_expired`. */
export async function expireGrantRequests(tx: Tx, ctx: RequestContext): Promise<number> {
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  const stale = await lockExpiredRequests(tx, tenantId, now);
  const emails = await emailsOf(
    tx,
    tenantId,
    stale.map((r) => r.userId),
  );
  for (const request of stale) {
    await closeGrantRequest(tx, tenantId, request.id, {
      status: 'expired',
      reason: null,
      decidedById: null,
      decidedByLabel: 'expiry',
      decidedAt: now,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.grant_request_expired',
      target: { type: 'grant_request', id: request.id },
      details: { userId: request.userId, email: emails.get(request.userId) ?? '', role: request.role },
    });
  }
  return stale.length;
}
