import type { Context } from 'hono';
import type { Actor, RequestContext, Runtime, TenantRef } from '../context.ts';
import type { AdminNavSection } from '../ui/layout.tsx';

/** A signed-in browser session as the HTTP layer needs it (the identity module owns the rest). */
export interface SessionRef {
  userId: string;
  /** The per-session token every signed-in form must echo (see csrf.ts). */
  csrfToken: string;
  /** SHA-256 of the session id: which stored session this is (to end "every other" session, to rotate it). */
  idHash: string;
  /** How the session was opened (`password`, `passkey`, `sso`, ...). */
  authMethod: string;
  /** When a second factor was proven in this session, if it was. */
  secondFactorAt: Date | null;
}

export interface AppVariables {
  requestId: string;
  runtime: Runtime;
  ip: string;
  tenant: TenantRef;
  actor: Actor;
  session: SessionRef | undefined;
  /** The back office's navigation, assembled from the capabilities the app mounts. */
  adminNav: AdminNavSection[];
}

export type AppEnv = { Variables: AppVariables };
export type AppContext = Context<AppEnv>;

/** The service context for this request: who acts, for which tenant, with what the process offers. */
export function requestContext(c: AppContext): RequestContext {
  return {
    ...c.var.runtime,
    tenant: c.var.tenant,
    actor: c.var.actor,
    requestId: c.var.requestId,
    ip: c.var.ip,
    userAgent: c.req.header('user-agent') ?? '',
  };
}
