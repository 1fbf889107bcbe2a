import type { RequestContext } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { insertAccessEvents, type RequestRow } from './store.ts';
import type { AccessEventKind } from './tables.ts';

/** Only what a person did at a client is kept with its address and user agent (the leak lookup shows them). */
const CLIENT_KINDS = new Set<AccessEventKind>(['viewed', 'downloaded']);

/**
 * Records one analytics row per document for something that happened to a request, in the caller's
 * transaction: the counts stay exactly what the request flow did.
 */
export async function recordAccess(
  ctx: RequestContext,
  tx: Tx,
  request: RequestRow,
  kind: AccessEventKind,
  documents: { id: string; version: number | null }[],
  grantId: string | null = null,
): Promise<void> {
  const client = CLIENT_KINDS.has(kind);
  const at = ctx.clock.now();
  await insertAccessEvents(
    tx,
    documents.map((d) => ({
      tenantId: ctx.tenant.id,
      kind,
      documentId: d.id,
      version: d.version,
      grantId,
      requestId: request.id,
      company: request.company,
      emailDomain: request.emailDomain,
      ip: client ? ctx.ip : null,
      userAgent: client ? ctx.userAgent.slice(0, 500) : null,
      at,
    })),
  );
}
