import type { RequestContext } from '../../platform/context.ts';
import { countOutboxRows } from '../../platform/mail/store.ts';
import { countActiveApiTokens } from '../identity/service.ts';
import { getTenant } from '../tenants/service.ts';

export interface WorkspaceSummary {
  tenantName: string;
  hosts: string[];
  engine: 'pglite' | 'postgres';
  mailMode: 'smtp' | 'files';
  messages: number;
  activeTokens: number;
}

/** What the back office's front page shows: how this workspace runs and what it holds. */
export async function workspaceSummary(ctx: RequestContext): Promise<WorkspaceSummary> {
  const [tenant, activeTokens, messages] = await Promise.all([
    getTenant(ctx.db, ctx.tenant.id),
    countActiveApiTokens(ctx),
    ctx.db.withTenant(ctx.tenant.id, (tx) => countOutboxRows(tx)),
  ]);
  return {
    tenantName: ctx.tenant.name,
    hosts: tenant?.hosts ?? [],
    engine: ctx.db.engine,
    mailMode: ctx.config.smtpUrl ? 'smtp' : 'files',
    messages,
    activeTokens,
  };
}
