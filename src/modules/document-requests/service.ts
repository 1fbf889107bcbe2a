import { randomUUID } from 'node:crypto';
import { auditScope } from '../../platform/audit/audit.ts';
import { actorLabel, type RequestContext } from '../../platform/context.ts';
import { newSecret, sha256Hex } from '../../platform/crypto/secrets.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Conflict, Forbidden, InvalidInput, NotFound } from '../../platform/errors.ts';
import type { Locale } from '../../platform/i18n/locales.ts';
import { emailsWithPermission, requirePermission } from '../access/service.ts';
import { customerOfEmail } from '../customers/service.ts';
import { CONTENT_TYPES, type FileKind } from '../documents/files.ts';
import { stampPdf } from '../documents/pdf-tools.ts';
import type { DocumentRow, VersionRow } from '../documents/store.ts';
import { readDocument, readDocuments, readVersion } from '../documents/store.ts';
import { canonicalPath } from '../trust-center/locale.ts';
import { recordAccess } from './access-events.ts';
import { DEFAULT_BLOCKED_DOMAINS, domainMatches, domainOf, parseDomainList } from './domains.ts';
import { approvedMail, approverMail, deniedMail, pendingMail, refusedMail, signedNdaMail, verificationMail } from './mails.tsx';
import { DEFAULT_NDA_TEXT, signedNdaPdf } from './nda-pdf.ts';
import type { RequestInput } from './schema.ts';
import { emailIndexOf, openRequest, openSignature, sealRequest, sealSignature } from './sealing.ts';
import {
  approvedRequestsOf,
  deleteClosedRequests,
  findGrantByToken,
  findRequest,
  findRequestByToken,
  type GrantRow,
  grantsOfRequests,
  insertGrant,
  insertNda,
  insertRequest,
  insertSignature,
  latestNda,
  latestSignatureOf,
  listGrants,
  listNdaVersions,
  listRequests,
  type NdaVersionRow,
  type RequestRow,
  readAccessSettings,
  requestsByIds,
  revokeGrantRow,
  type SignatureRow,
  signatureOfRequest,
  updateRequest,
  writeAccessSettings,
} from './store.ts';

/** How long a verification or NDA link works. */
export const LINK_HOURS = 48;
/** A grant's default length; a document may set its own (the shortest of a request's documents wins). */
export const DEFAULT_GRANT_DAYS = 30;
/** A requester approved this recently, with an NDA signed this recently, is approved again without a new NDA. */
export const RETURNING_MONTHS = 12;
const DAY = 86_400_000;

const REQUESTABLE = new Set(['nda', 'approval']);

function requestTarget(id: string) {
  return { type: 'document_request', id };
}

function monthsBefore(date: Date, months: number): Date {
  const d = new Date(date);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d;
}

function link(origin: string, locale: Locale, path: string): string {
  return `${origin}${canonicalPath(locale, path)}`;
}

// --- the public list --------------------------------------------------------------------------------------

/** Documents the Trust Center lists: public, NDA and approval ones that have a file. */
export async function publishedDocuments(ctx: RequestContext): Promise<DocumentRow[]> {
  const rows = await ctx.db.withTenant(ctx.tenant.id, (tx) => readDocuments(tx, ctx.tenant.id));
  return rows.filter((d) => d.currentVersion !== null && d.accessLevel !== 'internal');
}

export interface SentFile {
  filename: string;
  contentType: string;
  content: Uint8Array;
}

/** A public document's current file, as uploaded (no recipient to stamp for); recorded as a download. */
export async function publicDownload(ctx: RequestContext, documentId: string): Promise<SentFile> {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const document = await readDocument(tx, ctx.tenant.id, documentId);
    if (document?.accessLevel !== 'public' || document.currentVersion === null) throw new NotFound('document', documentId);
    const version = await readVersion(tx, ctx.tenant.id, documentId, document.currentVersion);
    if (!version) throw new NotFound('document', documentId);
    const { blob, content } = await ctx.blobs.get(tx, ctx.tenant.id, version.blobId);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document.downloaded',
      target: { type: 'document', id: documentId },
      details: { version: version.version, by: 'public' },
    });
    return {
      filename: blob.filename ?? `document.${version.kind}`,
      contentType: CONTENT_TYPES[version.kind as FileKind],
      content,
    };
  });
}

// --- requests ---------------------------------------------------------------------------------------------

/**
 * A visitor asks for documents: the request waits, unverified, and only a verification mail goes out. Documents
 * that are not requestable (unknown, public, internal, without a file) are refused with a clear error.
 */
export async function submitRequest(ctx: RequestContext, input: RequestInput, origin: string, locale: Locale): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const wanted = [...new Set(input.documents)];
    for (const id of wanted) {
      const doc = await readDocument(tx, ctx.tenant.id, id);
      if (!doc || !REQUESTABLE.has(doc.accessLevel) || doc.currentVersion === null)
        throw new InvalidInput('a document cannot be requested', { documents: 'choose documents from the list' });
    }
    const token = newSecret();
    const id = randomUUID();
    const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
    const personal = { ...input, ip: ctx.ip, userAgent: ctx.userAgent.slice(0, 500) };
    const row = await insertRequest(tx, {
      tenantId: ctx.tenant.id,
      id,
      ...sealRequest(cipher, id, personal),
      emailDomain: domainOf(input.email),
      documentIds: wanted,
      state: 'unverified',
      locale,
      origin,
      tokenHash: sha256Hex(token),
      tokenExpiresAt: new Date(now.getTime() + LINK_HOURS * 3_600_000),
      createdAt: now,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document_request.submitted',
      target: requestTarget(row.id),
      details: { documents: wanted, domain: row.emailDomain, locale },
    });
    await recordAccess(
      ctx,
      tx,
      openRequest(cipher, row),
      'requested',
      wanted.map((id) => ({ id, version: null })),
    );
    await ctx.mail.enqueue(
      tx,
      ctx.tenant.id,
      verificationMail({
        company: ctx.tenant.name,
        to: input.email,
        locale,
        link: link(origin, locale, `/documents/verify/${token}`),
      }),
    );
  });
}

/** The request a visitor link names, when it is still good for `state`; undefined otherwise. */
async function requestOfLink(ctx: RequestContext, tx: Tx, token: string, state: RequestRow['state']) {
  const row = await findRequestByToken(tx, ctx.tenant.id, sha256Hex(token));
  if (!row || row.state !== state || !row.tokenExpiresAt || row.tokenExpiresAt <= ctx.clock.now()) return undefined;
  return openRequest(await ctx.keys.forTenant(tx, ctx.tenant.id), row);
}

/** A request by id, locked, its personal data opened. */
async function readRequest(ctx: RequestContext, tx: Tx, id: string): Promise<RequestRow | undefined> {
  const row = await findRequest(tx, ctx.tenant.id, id);
  return row && openRequest(await ctx.keys.forTenant(tx, ctx.tenant.id), row);
}

/** Whether a link is good (for the page with the button) and the language its request was made in. */
export async function linkState(
  ctx: RequestContext,
  token: string,
  state: 'unverified' | 'nda',
): Promise<{ valid: false; locale?: Locale } | { valid: true; locale: Locale; request: RequestRow }> {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await requestOfLink(ctx, tx, token, state);
    if (!row) return { valid: false };
    return { valid: true, locale: row.locale, request: row };
  });
}

export type VerifyOutcome =
  | { kind: 'invalid' }
  | { kind: 'refused'; locale: Locale }
  | { kind: 'approved'; locale: Locale }
  | { kind: 'nda'; locale: Locale; token: string };

async function accessSettingsOf(tx: Tx, tenantId: string) {
  const row = await readAccessSettings(tx, tenantId);
  return {
    blockedDomains: row?.blockedDomains ?? [...DEFAULT_BLOCKED_DOMAINS],
    allowedDomains: row?.allowedDomains ?? [],
  };
}

/**
 * Spends a verification link. Then the rules, in order: a blocked (personal) mail domain is refused; a
 * requester approved within the last 12 months whose NDA is still valid is approved again at once; anyone else
 * gets a fresh single-use link to the NDA page.
 */
export async function verifyRequest(ctx: RequestContext, token: string): Promise<VerifyOutcome> {
  const now = ctx.clock.now();
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await requestOfLink(ctx, tx, token, 'unverified');
    if (!row) return { kind: 'invalid' };
    await ctx.audit.record(tx, auditScope(ctx), { action: 'document_request.verified', target: requestTarget(row.id) });
    const settings = await accessSettingsOf(tx, ctx.tenant.id);
    const base = { verifiedAt: now, tokenHash: null, tokenExpiresAt: null };
    if (domainMatches(row.emailDomain, settings.blockedDomains)) {
      await decide(ctx, tx, row, { ...base, state: 'refused', rule: 'blocked_domain' });
      await ctx.mail.enqueue(tx, ctx.tenant.id, refusedMail({ company: ctx.tenant.name, to: row.email, locale: row.locale }));
      return { kind: 'refused', locale: row.locale };
    }
    const since = monthsBefore(now, RETURNING_MONTHS);
    const index = emailIndexOf(await ctx.keys.forTenant(tx, ctx.tenant.id), row.email);
    const approvedBefore = await approvedRequestsOf(tx, ctx.tenant.id, index, since);
    const signature = await latestSignatureOf(tx, ctx.tenant.id, index, since);
    if (approvedBefore.length > 0 && signature) {
      await updateRequest(tx, ctx.tenant.id, row.id, base);
      await approve(ctx, tx, { ...row, ...base }, 'returning');
      return { kind: 'approved', locale: row.locale };
    }
    const next = newSecret();
    await updateRequest(tx, ctx.tenant.id, row.id, {
      ...base,
      state: 'nda',
      tokenHash: sha256Hex(next),
      tokenExpiresAt: new Date(now.getTime() + LINK_HOURS * 3_600_000),
    });
    return { kind: 'nda', locale: row.locale, token: next };
  });
}

/** The NDA in force: the newest version, or the shipped text as version 1 while the tenant has none. */
async function ndaInForce(ctx: RequestContext, tx: Tx): Promise<{ row: NdaVersionRow; stored: boolean }> {
  const found = await latestNda(tx, ctx.tenant.id);
  if (found) return { row: found, stored: true };
  const row: NdaVersionRow = {
    tenantId: ctx.tenant.id,
    version: 1,
    text: DEFAULT_NDA_TEXT,
    sha256: sha256Hex(DEFAULT_NDA_TEXT),
    createdAt: ctx.clock.now(),
    createdBy: 'system',
  };
  return { row, stored: false };
}

/** The NDA in force, stored first when it is still the shipped text (a signature or a new version names it). */
async function currentNda(ctx: RequestContext, tx: Tx): Promise<NdaVersionRow> {
  const { row, stored } = await ndaInForce(ctx, tx);
  if (!stored) await insertNda(tx, row);
  return row;
}

/** The text a visitor is asked to sign. */
export async function ndaToSign(ctx: RequestContext): Promise<NdaVersionRow> {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => (await ndaInForce(ctx, tx)).row);
}

export type SignOutcome = { kind: 'invalid' } | { kind: 'approved' | 'pending'; locale: Locale };

/**
 * The click-through signature: records who signed which text (its SHA-256), from where and when, mails the
 * signed NDA as a PDF, then decides: allowed domains, known customers and requests for NDA-level documents only, are approved;
 * anything else waits for an approver, who is told by mail.
 */
export async function signNda(ctx: RequestContext, token: string, typedName: string, ndaVersion: number): Promise<SignOutcome> {
  const now = ctx.clock.now();
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await requestOfLink(ctx, tx, token, 'nda');
    if (!row) return { kind: 'invalid' };
    const nda = await currentNda(ctx, tx);
    // The page showed one version; a newer one published meanwhile must be read before it is signed.
    if (nda.version !== ndaVersion)
      throw new Conflict('the agreement changed while you read it: read the new version and sign again');
    const signatureId = randomUUID();
    const signer = { email: row.email, typedName, ip: ctx.ip, userAgent: ctx.userAgent.slice(0, 500) };
    const signature = await insertSignature(tx, {
      tenantId: ctx.tenant.id,
      id: signatureId,
      requestId: row.id,
      ...sealSignature(await ctx.keys.forTenant(tx, ctx.tenant.id), signatureId, signer),
      ndaVersion: nda.version,
      ndaSha256: nda.sha256,
      signedAt: now,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document_request.nda_signed',
      target: requestTarget(row.id),
      details: { ndaVersion: nda.version, ndaSha256: nda.sha256, signature: signature.id },
    });
    const pdf = await signedNdaPdf({
      company: ctx.tenant.name,
      text: nda.text,
      version: nda.version,
      sha256: nda.sha256,
      typedName,
      email: row.email,
      ip: signer.ip,
      userAgent: signer.userAgent,
      signedAt: now,
    });
    await ctx.mail.enqueue(
      tx,
      ctx.tenant.id,
      signedNdaMail({ company: ctx.tenant.name, to: row.email, locale: row.locale, pdf }),
    );
    const spent = { ...row, tokenHash: null, tokenExpiresAt: null };
    await updateRequest(tx, ctx.tenant.id, row.id, { tokenHash: null, tokenExpiresAt: null });
    const settings = await accessSettingsOf(tx, ctx.tenant.id);
    if (domainMatches(row.emailDomain, settings.allowedDomains)) {
      await approve(ctx, tx, spent, 'allowed_domain');
      return { kind: 'approved', locale: row.locale };
    }
    if (await customerOfEmail(tx, ctx.tenant.id, row.email)) {
      await approve(ctx, tx, spent, 'customer');
      return { kind: 'approved', locale: row.locale };
    }
    const documents = await documentsOf(tx, ctx.tenant.id, row.documentIds);
    if (documents.every((d) => d.accessLevel === 'nda')) {
      await approve(ctx, tx, spent, 'nda_signed');
      return { kind: 'approved', locale: row.locale };
    }
    await updateRequest(tx, ctx.tenant.id, row.id, { state: 'pending', rule: 'approver' });
    await ctx.audit.record(tx, auditScope(ctx), { action: 'document_request.pending', target: requestTarget(row.id) });
    await ctx.mail.enqueue(tx, ctx.tenant.id, pendingMail({ company: ctx.tenant.name, to: row.email, locale: row.locale }));
    const approvers = (await emailsWithPermission(tx, ctx.tenant.id, 'documents.approve')).filter((e) => e !== row.email);
    if (approvers.length > 0) {
      await ctx.mail.enqueue(
        tx,
        ctx.tenant.id,
        approverMail({
          to: approvers,
          company: ctx.tenant.name,
          requester: row.name,
          requesterCompany: row.company,
          link: `${row.origin}/admin/documents/requests/${row.id}`,
        }),
      );
    }
    return { kind: 'pending', locale: row.locale };
  });
}

async function documentsOf(tx: Tx, tenantId: string, ids: string[]): Promise<DocumentRow[]> {
  const found: DocumentRow[] = [];
  for (const id of ids) {
    const doc = await readDocument(tx, tenantId, id);
    if (doc) found.push(doc);
  }
  return found;
}

/** Records a decision on a request and its audit event. */
async function decide(
  ctx: RequestContext,
  tx: Tx,
  row: RequestRow,
  change: Partial<RequestRow> & { state: RequestRow['state'] },
) {
  await updateRequest(tx, ctx.tenant.id, row.id, {
    ...change,
    decidedAt: ctx.clock.now(),
    decidedBy: change.decidedBy ?? 'rules',
  });
  await ctx.audit.record(tx, auditScope(ctx), {
    action: `document_request.${change.state}`,
    target: requestTarget(row.id),
    details: { rule: change.rule ?? null },
  });
  // An approval is counted with its grant (which knows the versions); a denial or a refusal here.
  if (change.state === 'denied' || change.state === 'refused')
    await recordAccess(
      ctx,
      tx,
      row,
      'denied',
      row.documentIds.map((id) => ({ id, version: null })),
    );
}

/** Approves a request: a grant to its documents (the shortest of their durations) and the link by mail. */
async function approve(ctx: RequestContext, tx: Tx, row: RequestRow, rule: string, by?: string): Promise<GrantRow> {
  const now = ctx.clock.now();
  await decide(ctx, tx, row, { state: 'approved', rule, ...(by ? { decidedBy: by } : {}) });
  const documents = await documentsOf(tx, ctx.tenant.id, row.documentIds);
  const days = Math.min(...documents.map((d) => d.grantDays ?? DEFAULT_GRANT_DAYS), DEFAULT_GRANT_DAYS * 12);
  const versions: Record<string, number> = {};
  for (const d of documents) if (d.currentVersion !== null) versions[d.id] = d.currentVersion;
  const token = newSecret();
  const grant = await insertGrant(tx, {
    tenantId: ctx.tenant.id,
    requestId: row.id,
    tokenHash: sha256Hex(token),
    versions,
    expiresAt: new Date(now.getTime() + days * DAY),
    createdAt: now,
  });
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'document_grant.created',
    target: { type: 'document_grant', id: grant.id },
    details: { request: row.id, documents: Object.keys(versions), expiresAt: grant.expiresAt.toISOString() },
  });
  await recordAccess(
    ctx,
    tx,
    row,
    'approved',
    Object.entries(versions).map(([id, version]) => ({ id, version })),
    grant.id,
  );
  await ctx.mail.enqueue(
    tx,
    ctx.tenant.id,
    approvedMail({
      company: ctx.tenant.name,
      to: row.email,
      locale: row.locale,
      link: link(row.origin, row.locale, `/documents/access/${token}`),
      until: grant.expiresAt.toISOString().slice(0, 10),
    }),
  );
  return grant;
}

// --- approvers --------------------------------------------------------------------------------------------

/** Refuses a decision by the requester themself (the same address as the signed-in person). */
function refuseOwnRequest(ctx: RequestContext, row: RequestRow): void {
  if (ctx.actor.kind === 'user' && ctx.actor.email.toLowerCase() === row.email.toLowerCase())
    throw new Forbidden('you cannot decide your own request');
}

async function pendingRequest(ctx: RequestContext, tx: Tx, id: string): Promise<RequestRow> {
  const row = await readRequest(ctx, tx, id);
  if (!row) throw new NotFound('request', id);
  if (row.state !== 'pending') throw new Conflict(`the request is ${row.state}, not waiting for a decision`);
  refuseOwnRequest(ctx, row);
  return row;
}

/** An approver approves a pending request: the requester gets a grant and its link. Needs `documents.approve`. */
export async function approveRequest(ctx: RequestContext, id: string): Promise<GrantRow> {
  requirePermission(ctx.actor, 'documents.approve');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await pendingRequest(ctx, tx, id);
    return approve(ctx, tx, row, 'approver', actorLabel(ctx.actor));
  });
}

/** An approver denies a pending request with a reason the requester reads. Needs `documents.approve`. */
export async function denyRequest(ctx: RequestContext, id: string, reason: string): Promise<void> {
  requirePermission(ctx.actor, 'documents.approve');
  const text = reason.trim();
  if (!text || text.length > 1000)
    throw new InvalidInput('give a reason', { reason: 'give a reason (at most 1,000 characters): the requester reads it' });
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await pendingRequest(ctx, tx, id);
    await decide(ctx, tx, row, { state: 'denied', rule: 'approver', decidedBy: actorLabel(ctx.actor), decisionReason: text });
    await ctx.mail.enqueue(
      tx,
      ctx.tenant.id,
      deniedMail({ company: ctx.tenant.name, to: row.email, locale: row.locale, reason: text }),
    );
  });
}

/** Ends a grant at once. Needs `documents.approve`. */
export async function revokeGrant(ctx: RequestContext, id: string): Promise<void> {
  requirePermission(ctx.actor, 'documents.approve');
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await revokeGrantRow(tx, ctx.tenant.id, id, ctx.clock.now(), actorLabel(ctx.actor));
    if (!row) throw new NotFound('open grant', id);
    await ctx.audit.record(tx, auditScope(ctx), { action: 'document_grant.revoked', target: { type: 'document_grant', id } });
  });
}

export interface RequestDetail {
  request: RequestRow;
  signature: SignatureRow | undefined;
  grants: GrantRow[];
  documents: DocumentRow[];
}

export async function listRequestDetails(ctx: RequestContext): Promise<RequestDetail[]> {
  requirePermission(ctx.actor, 'documents.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
    const rows = (await listRequests(tx, ctx.tenant.id, 500)).map((row) => openRequest(cipher, row));
    const grants = await grantsOfRequests(
      tx,
      ctx.tenant.id,
      rows.map((r) => r.id),
    );
    const all = await readDocuments(tx, ctx.tenant.id);
    return rows.map((request) => ({
      request,
      signature: undefined,
      grants: grants.filter((g) => g.requestId === request.id),
      documents: all.filter((d) => request.documentIds.includes(d.id)),
    }));
  });
}

export async function getRequestDetail(ctx: RequestContext, id: string): Promise<RequestDetail> {
  requirePermission(ctx.actor, 'documents.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const request = await readRequest(ctx, tx, id);
    if (!request) throw new NotFound('request', id);
    const signature = await signatureOfRequest(tx, ctx.tenant.id, id);
    return {
      request,
      signature: signature && openSignature(await ctx.keys.forTenant(tx, ctx.tenant.id), signature),
      grants: await grantsOfRequests(tx, ctx.tenant.id, [id]),
      documents: await documentsOf(tx, ctx.tenant.id, request.documentIds),
    };
  });
}

export async function listAllGrants(ctx: RequestContext): Promise<GrantRow[]> {
  requirePermission(ctx.actor, 'documents.read');
  return ctx.db.withTenant(ctx.tenant.id, (tx) => listGrants(tx, ctx.tenant.id, 500));
}

/** A grant as the grants page lists it: with whom it was given to. */
export interface GrantListing extends GrantRow {
  requester?: { name: string; email: string; company: string };
}

/** The newest grants with their requesters' names, opened from their sealed columns. */
export async function listGrantsWithRequesters(ctx: RequestContext): Promise<GrantListing[]> {
  requirePermission(ctx.actor, 'documents.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const grants = await listGrants(tx, ctx.tenant.id, 500);
    const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
    const stored = await requestsByIds(tx, ctx.tenant.id, [...new Set(grants.map((g) => g.requestId))]);
    const requests = new Map(stored.map((row) => [row.id, openRequest(cipher, row)]));
    return grants.map((grant) => {
      const request = requests.get(grant.requestId);
      return request ? { ...grant, requester: { name: request.name, email: request.email, company: request.company } } : grant;
    });
  });
}

// --- NDA text and domain settings -------------------------------------------------------------------------

export async function ndaVersions(ctx: RequestContext): Promise<NdaVersionRow[]> {
  requirePermission(ctx.actor, 'documents.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const stored = await listNdaVersions(tx, ctx.tenant.id);
    return stored.length > 0 ? stored : [(await ndaInForce(ctx, tx)).row];
  });
}

/** Publishes a new NDA version (earlier signatures keep naming theirs). Needs `documents.manage`. */
export async function publishNda(ctx: RequestContext, text: string): Promise<NdaVersionRow> {
  requirePermission(ctx.actor, 'documents.manage');
  const body = text.replace(/\r\n/g, '\n').trim();
  if (body.length < 20 || body.length > 50_000)
    throw new InvalidInput('the agreement is too short or too long', { text: 'write 20 to 50,000 characters' });
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const { row: current, stored } = await ndaInForce(ctx, tx);
    if (stored && current.text === body) return current;
    const row: NdaVersionRow = {
      tenantId: ctx.tenant.id,
      // The shipped text was never stored: nobody signed it, so the tenant's own text is version 1.
      version: stored ? current.version + 1 : 1,
      text: body,
      sha256: sha256Hex(body),
      createdAt: ctx.clock.now(),
      createdBy: actorLabel(ctx.actor),
    };
    await insertNda(tx, row);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document_nda.published',
      target: { type: 'nda', id: String(row.version) },
      details: { version: row.version, sha256: row.sha256 },
    });
    return row;
  });
}

export async function accessSettings(ctx: RequestContext): Promise<{ blockedDomains: string[]; allowedDomains: string[] }> {
  requirePermission(ctx.actor, 'documents.read');
  return ctx.db.withTenant(ctx.tenant.id, (tx) => accessSettingsOf(tx, ctx.tenant.id));
}

/** Replaces the blocked and allowed domain lists; a malformed entry refuses the whole change. Needs `documents.manage`. */
export async function saveAccessSettings(
  ctx: RequestContext,
  input: { blockedDomains: string[]; allowedDomains: string[] },
): Promise<{ blockedDomains: string[]; allowedDomains: string[] }> {
  requirePermission(ctx.actor, 'documents.manage');
  const blocked = parseDomainList(input.blockedDomains.join('\n'));
  const allowed = parseDomainList(input.allowedDomains.join('\n'));
  const errors: Record<string, string> = {};
  if (blocked.invalid.length) errors.blockedDomains = `not domains: ${blocked.invalid.slice(0, 5).join(', ')}`;
  if (allowed.invalid.length) errors.allowedDomains = `not domains: ${allowed.invalid.slice(0, 5).join(', ')}`;
  if (Object.keys(errors).length) throw new InvalidInput('a list needs correcting', errors);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    await writeAccessSettings(tx, {
      tenantId: ctx.tenant.id,
      blockedDomains: blocked.domains,
      allowedDomains: allowed.domains,
      updatedAt: ctx.clock.now(),
      updatedBy: actorLabel(ctx.actor),
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document_access.domains_changed',
      target: { type: 'document_access_settings', id: ctx.tenant.id },
      details: { blocked: blocked.domains.length, allowed: allowed.domains.length },
    });
    return { blockedDomains: blocked.domains, allowedDomains: allowed.domains };
  });
}

// --- retention ------------------------------------------------------------------------------------------

/** Retention (`document-requests`): requests that never led to a signed NDA, closed before `cutoff`, with their grants. */
export function purgeClosedUnsignedRequests(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  return deleteClosedRequests(tx, tenantId, cutoff, batchSize, false);
}

/** Retention (`signed-ndas`): requests with a signed NDA, closed before `cutoff`, with their signatures and grants. */
export function purgeClosedSignedRequests(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  return deleteClosedRequests(tx, tenantId, cutoff, batchSize, true);
}

// --- grants: the requester's side -------------------------------------------------------------------------

export interface GrantView {
  grant: GrantRow;
  request: RequestRow;
  documents: DocumentRow[];
}

async function openGrant(ctx: RequestContext, tx: Tx, token: string): Promise<GrantView | undefined> {
  const grant = await findGrantByToken(tx, ctx.tenant.id, sha256Hex(token));
  if (!grant || grant.revokedAt || grant.expiresAt <= ctx.clock.now()) return undefined;
  const request = await readRequest(ctx, tx, grant.requestId);
  if (!request) return undefined;
  const documents = (await documentsOf(tx, ctx.tenant.id, Object.keys(grant.versions))).filter(
    (d) => d.accessLevel !== 'internal',
  );
  return { grant, request, documents };
}

/** The version a grant serves: the current one, or the one granted when the document keeps grants on theirs. */
function servedVersion(document: DocumentRow, granted: number | null): number | null {
  return document.grantsSeeNewVersion ? (document.currentVersion ?? granted) : granted;
}

/** The grant page; every view is recorded. Undefined for an unknown, expired or revoked link. */
export async function viewGrant(ctx: RequestContext, token: string): Promise<GrantView | undefined> {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const view = await openGrant(ctx, tx, token);
    if (!view) return undefined;
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document_grant.viewed',
      target: { type: 'document_grant', id: view.grant.id },
    });
    // One row per document the page offers, so views count per document like the rest; a view-only document
    // counts when its viewer fetches the pages (grantViewPdf), not twice.
    const shown = view.documents
      .filter((d) => !d.viewOnly)
      .map((d) => ({ id: d.id, version: servedVersion(d, view.grant.versions[d.id] ?? null) }));
    await recordAccess(ctx, tx, view.request, 'viewed', shown, view.grant.id);
    return view;
  });
}

/** Refused download of a view-only document: its pages are shown in the browser only. */
export class ViewOnlyDocument extends Forbidden {
  constructor() {
    super('this document can be viewed in the browser but not downloaded');
  }
}

interface GrantedVersion {
  view: GrantView;
  document: DocumentRow;
  version: VersionRow;
}

/**
 * The version of a granted document the requester gets: the current one, or the one granted when the document keeps
 * open grants on theirs. Undefined when the link or the document is not good for it.
 */
async function grantedVersion(
  ctx: RequestContext,
  tx: Tx,
  token: string,
  documentId: string,
): Promise<GrantedVersion | undefined> {
  const view = await openGrant(ctx, tx, token);
  const document = view?.documents.find((d) => d.id === documentId);
  const granted = view?.grant.versions[documentId];
  if (!view || !document || granted === undefined) return undefined;
  const version = await readVersion(tx, ctx.tenant.id, documentId, servedVersion(document, granted) ?? granted);
  return version ? { view, document, version } : undefined;
}

/** The recipient a copy is stamped for: printed on every page and written into the metadata. */
function recipientOf(view: GrantView, at: Date) {
  return { name: view.request.name, email: view.request.email, company: view.request.company, grantId: view.grant.id, at };
}

/**
 * A granted document, stamped for the requester on every page (name, email, company, grant id, time); the
 * current version, or the one granted when the document keeps open grants on theirs. Recorded as a download.
 * A view-only document is refused (ViewOnlyDocument): its pages are shown by the viewer instead.
 */
export async function grantDownload(ctx: RequestContext, token: string, documentId: string): Promise<SentFile | undefined> {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const found = await grantedVersion(ctx, tx, token, documentId);
    if (!found) return undefined;
    const { view, document, version } = found;
    if (document.viewOnly) throw new ViewOnlyDocument();
    if (version.kind !== 'pdf' && !document.nonPdfDownloadAllowed) return undefined;
    const { blob, content } = await ctx.blobs.get(tx, ctx.tenant.id, version.blobId);
    const now = ctx.clock.now();
    const bytes = version.kind === 'pdf' ? await stampPdf(content, recipientOf(view, now)) : content;
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document.downloaded',
      target: { type: 'document', id: documentId },
      details: { version: version.version, by: 'grant', grant: view.grant.id, stamped: version.kind === 'pdf' },
    });
    await recordAccess(ctx, tx, view.request, 'downloaded', [{ id: documentId, version: version.version }], view.grant.id);
    return {
      filename: blob.filename ?? `document.${version.kind}`,
      contentType: CONTENT_TYPES[version.kind as FileKind],
      content: bytes,
    };
  });
}

/**
 * The viewer page of a granted PDF: the grant and the document, for the page's frame. Nothing is recorded here; the
 * viewer's fetch of the pages is (`grantViewPdf`). Undefined when the link or the document is not good for viewing.
 */
export async function grantViewer(ctx: RequestContext, token: string, documentId: string) {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const found = await grantedVersion(ctx, tx, token, documentId);
    if (found?.version.kind !== 'pdf') return undefined;
    return { view: found.view, document: found.document };
  });
}

/**
 * A granted PDF for the in-browser viewer, stamped exactly like a download (name, email, company, grant id, UTC
 * time). Recorded as `document.viewed`, once per fetch. Undefined when the link or the document is not good for it.
 */
export async function grantViewPdf(ctx: RequestContext, token: string, documentId: string): Promise<SentFile | undefined> {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const found = await grantedVersion(ctx, tx, token, documentId);
    if (found?.version.kind !== 'pdf') return undefined;
    const { view, version } = found;
    const { blob, content } = await ctx.blobs.get(tx, ctx.tenant.id, version.blobId);
    const bytes = await stampPdf(content, recipientOf(view, ctx.clock.now()));
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document.viewed',
      target: { type: 'document', id: documentId },
      details: { version: version.version, by: 'grant', grant: view.grant.id, stamped: true, viewOnly: found.document.viewOnly },
    });
    await recordAccess(ctx, tx, view.request, 'viewed', [{ id: documentId, version: version.version }], view.grant.id);
    return { filename: blob.filename ?? 'document.pdf', contentType: CONTENT_TYPES.pdf, content: bytes };
  });
}
