import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Conflict, Gone, NotFound } from '../../platform/errors.ts';
import { DenyBody, type GrantRequestStatus } from './governance-schema.ts';
import {
  closeGrantRequest,
  emailsOf,
  type GrantRequestRow,
  listGrantRequestRows,
  lockAccount,
  lockGrantRequest,
} from './governance-store.ts';
import { expireGrantRequests, personBehind } from './grant-requests.ts';
import { isPrivilegedRole } from './roles.ts';
import {
  AccessDenied,
  actorLabel,
  findRole,
  grantNow,
  recordingSodBreach,
  refuseStrongerRole,
  requirePermission,
} from './service.ts';
import { refuseBreachingGrant } from './sod-rules.ts';

/** Deciding privileged grant requests: a second administrator approves (the grant applies then) or denies. */

export interface GrantRequestInfo {
  id: string;
  userId: string;
  email: string;
  role: string;
  status: GrantRequestStatus;
  requestedById: string | null;
  requestedBy: string;
  createdAt: Date;
  expiresAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
}

export function grantRequestInfo(row: GrantRequestRow, email: string, now: Date): GrantRequestInfo {
  // A request past its expiry reads as expired before the next change closes it for good.
  const status = row.status === 'pending' && row.expiresAt <= now ? 'expired' : (row.status as GrantRequestStatus);
  return {
    id: row.id,
    userId: row.userId,
    email,
    role: row.role,
    status,
    requestedById: row.requestedById,
    requestedBy: row.requestedByLabel,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    decidedBy: row.decidedByLabel,
    decidedAt: row.decidedAt,
    reason: row.reason,
  };
}

async function withEmails(tx: Tx, tenantId: string, rows: GrantRequestRow[], now: Date): Promise<GrantRequestInfo[]> {
  const emails = await emailsOf(
    tx,
    tenantId,
    rows.map((r) => r.userId),
  );
  return rows.map((r) => grantRequestInfo(r, emails.get(r.userId) ?? '', now));
}

/** Grant requests, newest first: the ones waiting (default), or all; `userId` narrows to one person. */
export async function listGrantRequests(
  ctx: RequestContext,
  filter: { status?: 'pending' | 'all'; userId?: string } = {},
): Promise<GrantRequestInfo[]> {
  requirePermission(ctx.actor, 'users.read');
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  const list = await ctx.db.withTenant(tenantId, async (tx) => {
    const rows = await listGrantRequestRows(tx, tenantId, {
      ...(filter.status === 'all' ? {} : { status: 'pending' }),
      ...(filter.userId ? { userId: filter.userId } : {}),
    });
    return withEmails(tx, tenantId, rows, now);
  });
  return filter.status === 'all' ? list : list.filter((r) => r.status === 'pending');
}

/**
 * Locks a pending request the actor may decide: not their own request, not a grant to themselves, and a role
 * they could hand out. An expired request is closed as such (and that is kept) before it is refused.
 */
async function decidableRequest(tx: Tx, ctx: RequestContext, id: string) {
  const tenantId = ctx.tenant.id;
  await expireGrantRequests(tx, ctx);
  const request = await lockGrantRequest(tx, tenantId, id);
  if (!request) throw new NotFound('grant request', id);
  if (request.status === 'expired') return { expired: request };
  if (request.status !== 'pending') throw new Conflict(`this request was ${request.status} already`);
  const decider = await personBehind(tx, tenantId, ctx.actor);
  if (decider !== undefined && decider === request.requestedById) {
    throw new AccessDenied(
      'decide their own grant request',
      'you asked for this grant: another administrator must decide it (nobody approves their own request)',
    );
  }
  if (decider !== undefined && decider === request.userId) {
    throw new AccessDenied(
      'decide a grant request for themselves',
      'this grant is for you: another administrator must decide it',
    );
  }
  const role = await findRole(tx, tenantId, request.role);
  if (!role) throw new Conflict(`the role ${request.role} no longer exists; deny the request`);
  refuseStrongerRole(ctx.actor, role, 'grant');
  const person = await lockAccount(tx, tenantId, request.userId);
  if (!person) throw new NotFound('person', request.userId);
  return { request, role, person };
}

function expiredError(): Gone {
  return new Gone('this request expired; ask for the grant again if it is still needed');
}

/** Approves a waiting request: the grant applies now (separation of duties checked again), both events recorded. */
export async function approveGrantRequest(ctx: RequestContext, id: string): Promise<GrantRequestInfo> {
  requirePermission(ctx.actor, 'users.manage');
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  const result = await recordingSodBreach(ctx, 'access.grant_refused', { type: 'grant_request', id }, () =>
    ctx.db.withTenant(tenantId, async (tx) => {
      const found = await decidableRequest(tx, ctx, id);
      if ('expired' in found) return { refusal: expiredError() };
      const { request, role, person } = found;
      if (person.deactivatedAt) throw new Conflict(`${person.email} is deactivated; deny the request`);
      await refuseBreachingGrant(tx, tenantId, person, role);
      const by = actorLabel(ctx.actor);
      const closed = await closeGrantRequest(tx, tenantId, id, {
        status: 'approved',
        reason: null,
        decidedById: by.id,
        decidedByLabel: by.label,
        decidedAt: now,
      });
      if (!closed) throw new Conflict('this request was decided already');
      await ctx.audit.record(tx, auditScope(ctx), {
        action: 'access.grant_approved',
        target: { type: 'grant_request', id },
        details: {
          userId: person.id,
          email: person.email,
          role: role.slug,
          requestedBy: request.requestedByLabel,
          privileged: isPrivilegedRole(role),
        },
      });
      await grantNow(tx, ctx, person, role, { requestId: id, requestedBy: request.requestedByLabel });
      return { request: grantRequestInfo(closed, person.email, now) };
    }),
  );
  if ('refusal' in result) throw result.refusal;
  return result.request;
}

/** Denies a waiting request, with the reason recorded. */
export async function denyGrantRequest(ctx: RequestContext, id: string, input: { reason: string }): Promise<GrantRequestInfo> {
  requirePermission(ctx.actor, 'users.manage');
  const { reason } = DenyBody.parse(input);
  const tenantId = ctx.tenant.id;
  const now = ctx.clock.now();
  const result = await ctx.db.withTenant(tenantId, async (tx) => {
    const found = await decidableRequest(tx, ctx, id);
    if ('expired' in found) return { refusal: expiredError() };
    const { person, role } = found;
    const by = actorLabel(ctx.actor);
    const closed = await closeGrantRequest(tx, tenantId, id, {
      status: 'denied',
      reason,
      decidedById: by.id,
      decidedByLabel: by.label,
      decidedAt: now,
    });
    if (!closed) throw new Conflict('this request was decided already');
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'access.grant_denied',
      target: { type: 'grant_request', id },
      details: { userId: person.id, email: person.email, role: role.slug, reason },
    });
    return { request: grantRequestInfo(closed, person.email, now) };
  });
  if ('refusal' in result) throw result.refusal;
  return result.request;
}
