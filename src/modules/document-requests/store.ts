import { and, asc, desc, eq, gte, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import {
  type AccessEventKind,
  documentAccessEvents,
  documentAccessSettings,
  documentGrants,
  documentRequests,
  ndaSignatures,
  ndaVersions,
} from './tables.ts';

export type RequestRow = typeof documentRequests.$inferSelect;
export type GrantRow = typeof documentGrants.$inferSelect;
export type NdaVersionRow = typeof ndaVersions.$inferSelect;
export type SignatureRow = typeof ndaSignatures.$inferSelect;
export type AccessSettingsRow = typeof documentAccessSettings.$inferSelect;
export type AccessEventRow = typeof documentAccessEvents.$inferSelect;

export async function insertRequest(tx: Tx, row: typeof documentRequests.$inferInsert): Promise<RequestRow> {
  const [inserted] = await tx.insert(documentRequests).values(row).returning();
  if (!inserted) throw new Error('request insert returned nothing');
  return inserted;
}

/** Requests by id, unlocked: for listings. */
export async function requestsByIds(tx: Tx, tenantId: string, ids: string[]): Promise<RequestRow[]> {
  if (ids.length === 0) return [];
  return tx
    .select()
    .from(documentRequests)
    .where(and(eq(documentRequests.tenantId, tenantId), inArray(documentRequests.id, ids)));
}

export async function findRequest(tx: Tx, tenantId: string, id: string): Promise<RequestRow | undefined> {
  const [row] = await tx
    .select()
    .from(documentRequests)
    .where(and(eq(documentRequests.tenantId, tenantId), eq(documentRequests.id, id)))
    .for('update');
  return row;
}

export async function findRequestByToken(tx: Tx, tenantId: string, hash: string): Promise<RequestRow | undefined> {
  const [row] = await tx
    .select()
    .from(documentRequests)
    .where(and(eq(documentRequests.tenantId, tenantId), eq(documentRequests.tokenHash, hash)))
    .for('update');
  return row;
}

export async function updateRequest(tx: Tx, tenantId: string, id: string, change: Partial<RequestRow>): Promise<void> {
  await tx
    .update(documentRequests)
    .set(change)
    .where(and(eq(documentRequests.tenantId, tenantId), eq(documentRequests.id, id)));
}

export function listRequests(tx: Tx, tenantId: string, limit: number): Promise<RequestRow[]> {
  return tx
    .select()
    .from(documentRequests)
    .where(eq(documentRequests.tenantId, tenantId))
    .orderBy(desc(documentRequests.createdAt))
    .limit(limit);
}

/** Requests of one address (by its blind index) approved since `since` (the returning-requester rule). */
export function approvedRequestsOf(tx: Tx, tenantId: string, emailIndex: string, since: Date): Promise<RequestRow[]> {
  return tx
    .select()
    .from(documentRequests)
    .where(
      and(
        eq(documentRequests.tenantId, tenantId),
        eq(documentRequests.emailIndex, emailIndex),
        eq(documentRequests.state, 'approved'),
        gte(documentRequests.decidedAt, since),
      ),
    );
}

export async function latestNda(tx: Tx, tenantId: string): Promise<NdaVersionRow | undefined> {
  const [row] = await tx
    .select()
    .from(ndaVersions)
    .where(eq(ndaVersions.tenantId, tenantId))
    .orderBy(desc(ndaVersions.version))
    .limit(1);
  return row;
}

export async function insertNda(tx: Tx, row: NdaVersionRow): Promise<void> {
  await tx.insert(ndaVersions).values(row);
}

export function listNdaVersions(tx: Tx, tenantId: string): Promise<NdaVersionRow[]> {
  return tx.select().from(ndaVersions).where(eq(ndaVersions.tenantId, tenantId)).orderBy(desc(ndaVersions.version));
}

export async function insertSignature(tx: Tx, row: typeof ndaSignatures.$inferInsert): Promise<SignatureRow> {
  const [inserted] = await tx.insert(ndaSignatures).values(row).returning();
  if (!inserted) throw new Error('signature insert returned nothing');
  return inserted;
}

/** The newest signature of one address (by its blind index) since `since`. */
export async function latestSignatureOf(tx: Tx, tenantId: string, emailIndex: string, since: Date) {
  const [row] = await tx
    .select()
    .from(ndaSignatures)
    .where(
      and(eq(ndaSignatures.tenantId, tenantId), eq(ndaSignatures.emailIndex, emailIndex), gte(ndaSignatures.signedAt, since)),
    )
    .orderBy(desc(ndaSignatures.signedAt))
    .limit(1);
  return row;
}

export async function signatureOfRequest(tx: Tx, tenantId: string, requestId: string) {
  const [row] = await tx
    .select()
    .from(ndaSignatures)
    .where(and(eq(ndaSignatures.tenantId, tenantId), eq(ndaSignatures.requestId, requestId)))
    .orderBy(desc(ndaSignatures.signedAt))
    .limit(1);
  return row;
}

export async function insertGrant(tx: Tx, row: typeof documentGrants.$inferInsert): Promise<GrantRow> {
  const [inserted] = await tx.insert(documentGrants).values(row).returning();
  if (!inserted) throw new Error('grant insert returned nothing');
  return inserted;
}

export async function findGrantByToken(tx: Tx, tenantId: string, hash: string): Promise<GrantRow | undefined> {
  const [row] = await tx
    .select()
    .from(documentGrants)
    .where(and(eq(documentGrants.tenantId, tenantId), eq(documentGrants.tokenHash, hash)));
  return row;
}

export function listGrants(tx: Tx, tenantId: string, limit: number): Promise<GrantRow[]> {
  return tx
    .select()
    .from(documentGrants)
    .where(eq(documentGrants.tenantId, tenantId))
    .orderBy(desc(documentGrants.createdAt))
    .limit(limit);
}

export function grantsOfRequests(tx: Tx, tenantId: string, requestIds: string[]): Promise<GrantRow[]> {
  if (requestIds.length === 0) return Promise.resolve([]);
  return tx
    .select()
    .from(documentGrants)
    .where(and(eq(documentGrants.tenantId, tenantId), inArray(documentGrants.requestId, requestIds)));
}

export async function revokeGrantRow(tx: Tx, tenantId: string, id: string, at: Date, by: string) {
  const [row] = await tx
    .update(documentGrants)
    .set({ revokedAt: at, revokedBy: by })
    .where(and(eq(documentGrants.tenantId, tenantId), eq(documentGrants.id, id), isNull(documentGrants.revokedAt)))
    .returning();
  return row;
}

export async function readAccessSettings(tx: Tx, tenantId: string): Promise<AccessSettingsRow | undefined> {
  const [row] = await tx.select().from(documentAccessSettings).where(eq(documentAccessSettings.tenantId, tenantId));
  return row;
}

export async function writeAccessSettings(tx: Tx, row: AccessSettingsRow): Promise<void> {
  await tx
    .insert(documentAccessSettings)
    .values(row)
    .onConflictDoUpdate({
      target: documentAccessSettings.tenantId,
      set: {
        blockedDomains: row.blockedDomains,
        allowedDomains: row.allowedDomains,
        updatedAt: row.updatedAt,
        updatedBy: row.updatedBy,
      },
    });
}

export async function findGrant(tx: Tx, tenantId: string, id: string): Promise<GrantRow | undefined> {
  const [row] = await tx
    .select()
    .from(documentGrants)
    .where(and(eq(documentGrants.tenantId, tenantId), eq(documentGrants.id, id)));
  return row;
}

// --- access events (analytics and the leak lookup) ---------------------------------------------------------

export async function insertAccessEvents(tx: Tx, rows: (typeof documentAccessEvents.$inferInsert)[]): Promise<void> {
  if (rows.length > 0) await tx.insert(documentAccessEvents).values(rows);
}

/** The views and downloads of one grant, oldest first. */
export function accessEventsOfGrant(tx: Tx, tenantId: string, grantId: string): Promise<AccessEventRow[]> {
  const e = documentAccessEvents;
  return tx
    .select()
    .from(e)
    .where(and(eq(e.tenantId, tenantId), eq(e.grantId, grantId), inArray(e.kind, ['viewed', 'downloaded'])))
    .orderBy(asc(e.at), asc(e.documentId));
}

function inPeriod(tenantId: string, from: Date, to: Date) {
  const e = documentAccessEvents;
  return and(eq(e.tenantId, tenantId), gte(e.at, from), lt(e.at, to));
}

export interface KindCount {
  kind: AccessEventKind;
  count: number;
}

/** Occurrences per document and kind in [from, to). */
export function countsByDocument(tx: Tx, tenantId: string, from: Date, to: Date) {
  const e = documentAccessEvents;
  return tx
    .select({ documentId: e.documentId, kind: e.kind, count: sql<number>`count(*)::int` })
    .from(e)
    .where(inPeriod(tenantId, from, to))
    .groupBy(e.documentId, e.kind);
}

/** Occurrences per mail domain, company (as typed) and kind in [from, to). */
export function countsByDomain(tx: Tx, tenantId: string, from: Date, to: Date) {
  const e = documentAccessEvents;
  return tx
    .select({ emailDomain: e.emailDomain, company: e.company, kind: e.kind, count: sql<number>`count(*)::int` })
    .from(e)
    .where(inPeriod(tenantId, from, to))
    .groupBy(e.emailDomain, e.company, e.kind);
}

/** Occurrences per ISO week (Monday, UTC, as YYYY-MM-DD) and kind in [from, to). */
export function countsByWeek(tx: Tx, tenantId: string, from: Date, to: Date) {
  const e = documentAccessEvents;
  const week = sql<string>`to_char(date_trunc('week', ${e.at} at time zone 'UTC'), 'YYYY-MM-DD')`;
  return tx
    .select({ week, kind: e.kind, count: sql<number>`count(*)::int` })
    .from(e)
    .where(inPeriod(tenantId, from, to))
    .groupBy(week, e.kind);
}

// --- blind-index backfill (rows from before the personal data was sealed) ---------------------------------

const INDEXED = { requests: documentRequests, signatures: ndaSignatures } as const;
export type IndexedTable = keyof typeof INDEXED;

/** How many of the tenant's rows have no email blind index yet, and how many rows there are in all. */
export async function emailIndexCounts(tx: Tx, which: IndexedTable, tenantId: string) {
  const table = INDEXED[which];
  const [row] = await tx
    .select({ missing: sql<number>`count(*) filter (where ${table.emailIndex} is null)::int`, total: sql<number>`count(*)::int` })
    .from(table)
    .where(eq(table.tenantId, tenantId));
  return { missing: row?.missing ?? 0, total: row?.total ?? 0 };
}

/** Up to `limit` rows without an email blind index, locked until the transaction ends. */
export function rowsWithoutEmailIndex(tx: Tx, which: IndexedTable, tenantId: string, limit: number) {
  const table = INDEXED[which];
  return tx
    .select({ id: table.id, email: table.email })
    .from(table)
    .where(and(eq(table.tenantId, tenantId), isNull(table.emailIndex)))
    .orderBy(asc(table.id))
    .limit(limit)
    .for('update');
}

export async function setEmailIndex(tx: Tx, which: IndexedTable, tenantId: string, id: string, emailIndex: string) {
  const table = INDEXED[which];
  await tx
    .update(table)
    .set({ emailIndex })
    .where(and(eq(table.tenantId, tenantId), eq(table.id, id)));
}

// --- retention --------------------------------------------------------------------------------------------

/**
 * When a request stopped mattering: its decision (denied, refused), the end of its last grant (approved: expiry or
 * revocation, whichever came first), or the expiry of its link (abandoned before the NDA). Null while it waits for
 * an approver: a pending request is never due.
 */
const closedAt = sql`case
  when ${documentRequests.state} in ('denied', 'refused') then ${documentRequests.decidedAt}
  when ${documentRequests.state} = 'approved' then coalesce(
    (select max(least(g.expires_at, g.revoked_at)) from ${documentGrants} g
      where g.tenant_id = ${documentRequests.tenantId} and g.request_id = ${documentRequests.id}),
    ${documentRequests.decidedAt})
  when ${documentRequests.state} in ('unverified', 'nda') then coalesce(${documentRequests.tokenExpiresAt}, ${documentRequests.createdAt})
end`;

const hasSignature = sql`exists (select 1 from ${ndaSignatures} s
  where s.tenant_id = ${documentRequests.tenantId} and s.request_id = ${documentRequests.id})`;

/**
 * Deletes up to `limit` requests closed before `cutoff` (with or without a signed NDA, as `signed` says) together
 * with their NDA signatures and grants; returns how many rows went in all (0: nothing more is due).
 */
export async function deleteClosedRequests(tx: Tx, tenantId: string, cutoff: Date, limit: number, signed: boolean) {
  const due = await tx
    .select({ id: documentRequests.id })
    .from(documentRequests)
    .where(
      and(
        eq(documentRequests.tenantId, tenantId),
        signed ? hasSignature : sql`not ${hasSignature}`,
        sql`${closedAt} < ${cutoff.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(asc(documentRequests.id))
    .limit(limit)
    .for('update');
  if (due.length === 0) return 0;
  const ids = due.map((r) => r.id);
  const grants = await tx
    .delete(documentGrants)
    .where(and(eq(documentGrants.tenantId, tenantId), inArray(documentGrants.requestId, ids)))
    .returning({ id: documentGrants.id });
  // Views and downloads keep the requester's IP and user agent: they go with the request.
  const events = await tx
    .delete(documentAccessEvents)
    .where(and(eq(documentAccessEvents.tenantId, tenantId), inArray(documentAccessEvents.requestId, ids)))
    .returning({ id: documentAccessEvents.id });
  const signatures = await tx
    .delete(ndaSignatures)
    .where(and(eq(ndaSignatures.tenantId, tenantId), inArray(ndaSignatures.requestId, ids)))
    .returning({ id: ndaSignatures.id });
  const requests = await tx
    .delete(documentRequests)
    .where(and(eq(documentRequests.tenantId, tenantId), inArray(documentRequests.id, ids)))
    .returning({ id: documentRequests.id });
  return events.length + grants.length + signatures.length + requests.length;
}
