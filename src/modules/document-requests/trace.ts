import { createHash } from 'node:crypto';
import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext } from '../../platform/context.ts';
import { InvalidInput, NotFound } from '../../platform/errors.ts';
import { requirePermission } from '../access/service.ts';
import { readGrantId } from '../documents/pdf-tools.ts';
import { readDocument, readVersion } from '../documents/store.ts';
import { openRequest, openSignature } from './sealing.ts';
import {
  type AccessEventRow,
  accessEventsOfGrant,
  findGrant,
  findRequest,
  type GrantRow,
  type RequestRow,
  type SignatureRow,
  signatureOfRequest,
} from './store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TracedDocument {
  id: string;
  /** Null when the document no longer exists. */
  title: string | null;
  version: number;
  /** SHA-256 of the granted version's file as uploaded (before stamping). */
  sha256: string | null;
}

/** A view of the grant page (every document it offered) or a download of one document. */
export interface TracedAccess {
  kind: 'viewed' | 'downloaded';
  at: Date;
  documents: { id: string; title: string | null; version: number | null }[];
  ip: string | null;
  userAgent: string | null;
}

export interface GrantTrace {
  grant: GrantRow;
  request: RequestRow;
  signature: SignatureRow | undefined;
  documents: TracedDocument[];
  accesses: TracedAccess[];
}

/** Where the grant id came from, as the audit event says. */
export type TraceSource = { kind: 'id' } | { kind: 'pdf'; sha256: string };

/** The grant id as typed: a UUID, lower-cased; anything else is refused before any lookup. */
export function parseGrantId(text: string): string {
  const id = text.trim();
  if (!UUID.test(id))
    throw new InvalidInput('that is not a grant id', { grantId: 'enter a grant id as printed on the copy (8-4-4-4-12 hex)' });
  return id.toLowerCase();
}

/** Views are one row per document offered, written together: one access per moment, with every document. */
function groupAccesses(rows: AccessEventRow[], titles: Map<string, string | null>): TracedAccess[] {
  const out: TracedAccess[] = [];
  for (const row of rows) {
    const document = { id: row.documentId, title: titles.get(row.documentId) ?? null, version: row.version };
    const last = out.at(-1);
    if (row.kind === 'viewed' && last?.kind === 'viewed' && last.at.getTime() === row.at.getTime() && last.ip === row.ip) {
      last.documents.push(document);
      continue;
    }
    out.push({
      kind: row.kind === 'viewed' ? 'viewed' : 'downloaded',
      at: row.at,
      documents: [document],
      ip: row.ip,
      userAgent: row.userAgent,
    });
  }
  return out;
}

/**
 * Who received a grant and everything done with it: the requester, the decision, the NDA signature, the
 * documents and versions granted, and every view and download. A confidential read: each lookup is recorded as
 * `document_grant.traced`. Needs `documents.read` (the request list shows the same people). An unknown id is a 404 and
 * records nothing (nothing was read).
 */
export async function traceGrant(
  ctx: RequestContext,
  grantId: string,
  source: TraceSource = { kind: 'id' },
): Promise<GrantTrace> {
  requirePermission(ctx.actor, 'documents.read');
  const id = parseGrantId(grantId);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const grant = await findGrant(tx, ctx.tenant.id, id);
    const stored = grant ? await findRequest(tx, ctx.tenant.id, grant.requestId) : undefined;
    if (!grant || !stored) throw new NotFound('grant', id);
    const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
    const request = openRequest(cipher, stored);
    const signature = await signatureOfRequest(tx, ctx.tenant.id, request.id);
    const titles = new Map<string, string | null>();
    const documents: TracedDocument[] = [];
    for (const [documentId, version] of Object.entries(grant.versions)) {
      const document = await readDocument(tx, ctx.tenant.id, documentId);
      const file = await readVersion(tx, ctx.tenant.id, documentId, version);
      titles.set(documentId, document?.title ?? null);
      documents.push({ id: documentId, title: document?.title ?? null, version, sha256: file?.sha256 ?? null });
    }
    const rows = await accessEventsOfGrant(tx, ctx.tenant.id, id);
    for (const row of rows)
      if (!titles.has(row.documentId))
        titles.set(row.documentId, (await readDocument(tx, ctx.tenant.id, row.documentId))?.title ?? null);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document_grant.traced',
      target: { type: 'document_grant', id },
      details: { request: request.id, source: source.kind, ...(source.kind === 'pdf' ? { fileSha256: source.sha256 } : {}) },
    });
    return {
      grant,
      request,
      signature: signature && openSignature(cipher, signature),
      documents,
      accesses: groupAccesses(rows, titles),
    };
  });
}

/**
 * The trace of a leaked copy: the grant id is read from the PDF's metadata, where stamping wrote it. A file
 * that is not a readable PDF, or carries no grant id, is refused with a clear message.
 */
export async function traceLeakedPdf(ctx: RequestContext, pdf: Uint8Array): Promise<GrantTrace> {
  requirePermission(ctx.actor, 'documents.read');
  let grantId: string | undefined;
  try {
    grantId = await readGrantId(pdf);
  } catch {
    throw new InvalidInput('the file is not a readable PDF', {
      file: 'choose the PDF copy itself (it could not be read as a PDF)',
    });
  }
  if (!grantId)
    throw new InvalidInput('no grant id in this PDF', {
      file: 'this PDF carries no grant id in its metadata (it may have been stripped): type the id printed in the page footer instead',
    });
  return traceGrant(ctx, grantId, { kind: 'pdf', sha256: createHash('sha256').update(pdf).digest('hex') });
}
