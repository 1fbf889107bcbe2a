import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import { sha256Hex } from '../../platform/crypto/secrets.ts';
import { NotFound, Unauthorized } from '../../platform/errors.ts';
import { deleteOwnSession, deleteUserSessions, listUserSessions } from './store.ts';

export interface OwnSession {
  /** The SHA-256 of the cookie value: names the session without being usable as one. */
  id: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  current: boolean;
}

function personId(ctx: RequestContext): string {
  if (ctx.actor.kind !== 'user') throw new Unauthorized('sign in to see your sessions');
  return ctx.actor.id;
}

/** The signed-in person's own sessions, the one making the request marked. */
export async function listOwnSessions(ctx: RequestContext, currentSessionId: string): Promise<OwnSession[]> {
  const userId = personId(ctx);
  const current = sha256Hex(currentSessionId);
  const rows = await ctx.db.withTenant(ctx.tenant.id, (tx) => listUserSessions(tx, userId));
  return rows.map((r) => ({
    id: r.idHash,
    userAgent: r.userAgent,
    ip: r.ip,
    createdAt: r.createdAt,
    lastSeenAt: r.lastSeenAt,
    current: r.idHash === current,
  }));
}

/** Ends one of the person's own sessions, or every other one when `id` is "others". */
export async function endOwnSession(ctx: RequestContext, currentSessionId: string, id: string): Promise<number> {
  const userId = personId(ctx);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const ended =
      id === 'others'
        ? await deleteUserSessions(tx, userId, sha256Hex(currentSessionId))
        : Number(await deleteOwnSession(tx, userId, id));
    if (id !== 'others' && ended === 0) throw new NotFound('that session has already ended');
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'auth.session_ended',
      target: { type: 'user', id: userId },
      details: { which: id === 'others' ? 'all others' : 'one', count: ended },
    });
    return ended;
  });
}
