import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { roleGrants } from '../access/tables.ts';
import { apiTokens, users } from '../identity/tables.ts';
import { reviewCampaigns, reviewItems, reviewNotices, reviewSettings } from './tables.ts';

// Every query names its tenant although row-level security filters too: the jobs run as the system.

export type CampaignRow = typeof reviewCampaigns.$inferSelect;
export type NewCampaignRow = typeof reviewCampaigns.$inferInsert;
export type ItemRow = typeof reviewItems.$inferSelect;
export type NewItemRow = typeof reviewItems.$inferInsert;

export interface CampaignCounts {
  total: number;
  undecided: number;
  kept: number;
  revoked: number;
  flagged: number;
}

/** An item with whether the grant it reviews still exists (a grant may be removed outside the review). */
export type ItemWithGrant = ItemRow & { grantPresent: boolean };

export interface ActiveGrant {
  userId: string;
  email: string;
  name: string;
  role: string;
}

/** Every grant of every active (not deactivated) person, by person then role. */
export function activeGrants(tx: Tx, tenantId: string): Promise<ActiveGrant[]> {
  return tx
    .select({ userId: users.id, email: users.email, name: users.name, role: roleGrants.role })
    .from(roleGrants)
    .innerJoin(users, and(eq(users.tenantId, roleGrants.tenantId), eq(users.id, roleGrants.userId)))
    .where(and(eq(roleGrants.tenantId, tenantId), isNull(users.deactivatedAt)))
    .orderBy(sql`lower(${users.email})`, asc(roleGrants.role));
}

/** An active person by id (null when unknown or deactivated). */
export async function findActivePerson(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<{ id: string; email: string; name: string } | undefined> {
  const [row] = await tx
    .select({ id: users.id, email: users.email, name: users.name })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id), isNull(users.deactivatedAt)));
  return row;
}

export async function activePeople(tx: Tx, tenantId: string): Promise<{ id: string; email: string; name: string }[]> {
  return tx
    .select({ id: users.id, email: users.email, name: users.name })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), isNull(users.deactivatedAt)))
    .orderBy(sql`lower(${users.email})`);
}

export async function insertCampaign(tx: Tx, row: NewCampaignRow): Promise<CampaignRow | undefined> {
  const [inserted] = await tx.insert(reviewCampaigns).values(row).onConflictDoNothing().returning();
  return inserted;
}

export async function insertItems(tx: Tx, rows: NewItemRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.insert(reviewItems).values(rows);
}

export function listCampaignRows(tx: Tx, tenantId: string): Promise<CampaignRow[]> {
  return tx
    .select()
    .from(reviewCampaigns)
    .where(eq(reviewCampaigns.tenantId, tenantId))
    .orderBy(desc(reviewCampaigns.startedAt))
    .limit(200);
}

export async function findCampaign(tx: Tx, tenantId: string, id: string, lock = false): Promise<CampaignRow | undefined> {
  const query = tx
    .select()
    .from(reviewCampaigns)
    .where(and(eq(reviewCampaigns.tenantId, tenantId), eq(reviewCampaigns.id, id)));
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export function openCampaignRows(tx: Tx, tenantId: string): Promise<CampaignRow[]> {
  return tx
    .select()
    .from(reviewCampaigns)
    .where(and(eq(reviewCampaigns.tenantId, tenantId), eq(reviewCampaigns.status, 'open')))
    .orderBy(asc(reviewCampaigns.startedAt));
}

export async function closeCampaignRow(tx: Tx, tenantId: string, id: string, at: Date, by: string): Promise<void> {
  await tx
    .update(reviewCampaigns)
    .set({ status: 'closed', closedAt: at, closedByLabel: by })
    .where(and(eq(reviewCampaigns.tenantId, tenantId), eq(reviewCampaigns.id, id)));
}

const grantPresent = sql<boolean>`exists (select 1 from ${roleGrants} where ${roleGrants.tenantId} = ${reviewItems.tenantId} and ${roleGrants.userId} = ${reviewItems.subjectId} and ${roleGrants.role} = ${reviewItems.role})`;

/** A campaign's items by person and role, optionally only those of one reviewer. */
export function campaignItems(tx: Tx, tenantId: string, campaignId: string, reviewerId?: string): Promise<ItemWithGrant[]> {
  const conditions = [eq(reviewItems.tenantId, tenantId), eq(reviewItems.campaignId, campaignId)];
  if (reviewerId) conditions.push(eq(reviewItems.reviewerId, reviewerId));
  return tx
    .select({ ...itemColumns, grantPresent })
    .from(reviewItems)
    .where(and(...conditions))
    .orderBy(sql`lower(${reviewItems.subjectEmail})`, asc(reviewItems.role));
}

const itemColumns = {
  tenantId: reviewItems.tenantId,
  id: reviewItems.id,
  campaignId: reviewItems.campaignId,
  subjectId: reviewItems.subjectId,
  subjectEmail: reviewItems.subjectEmail,
  subjectName: reviewItems.subjectName,
  role: reviewItems.role,
  roleName: reviewItems.roleName,
  reviewerId: reviewItems.reviewerId,
  reviewerEmail: reviewItems.reviewerEmail,
  flag: reviewItems.flag,
  decision: reviewItems.decision,
  outcome: reviewItems.outcome,
  decidedById: reviewItems.decidedById,
  decidedByLabel: reviewItems.decidedByLabel,
  decidedAt: reviewItems.decidedAt,
  note: reviewItems.note,
};

/** One item, locked: two decisions on it are taken one after the other. */
export async function lockItem(tx: Tx, tenantId: string, campaignId: string, id: string): Promise<ItemRow | undefined> {
  const [row] = await tx
    .select()
    .from(reviewItems)
    .where(and(eq(reviewItems.tenantId, tenantId), eq(reviewItems.campaignId, campaignId), eq(reviewItems.id, id)))
    .for('update');
  return row;
}

export async function updateItem(tx: Tx, tenantId: string, id: string, change: Partial<NewItemRow>): Promise<void> {
  await tx
    .update(reviewItems)
    .set(change)
    .where(and(eq(reviewItems.tenantId, tenantId), eq(reviewItems.id, id)));
}

export async function countsByCampaign(tx: Tx, tenantId: string, campaignIds: string[]): Promise<Map<string, CampaignCounts>> {
  if (campaignIds.length === 0) return new Map();
  const rows = await tx
    .select({
      campaignId: reviewItems.campaignId,
      total: sql<number>`count(*)::int`,
      undecided: sql<number>`(count(*) filter (where ${reviewItems.decision} is null))::int`,
      kept: sql<number>`(count(*) filter (where ${reviewItems.decision} = 'keep'))::int`,
      revoked: sql<number>`(count(*) filter (where ${reviewItems.decision} = 'revoke'))::int`,
      flagged: sql<number>`(count(*) filter (where ${reviewItems.reviewerId} is null))::int`,
    })
    .from(reviewItems)
    .where(and(eq(reviewItems.tenantId, tenantId), inArray(reviewItems.campaignId, campaignIds)))
    .groupBy(reviewItems.campaignId);
  return new Map(rows.map(({ campaignId, ...counts }) => [campaignId, counts]));
}

/** Undecided items of open campaigns assigned to a reviewer, oldest campaign first. */
export function openItemsOfReviewer(
  tx: Tx,
  tenantId: string,
  reviewerId: string,
): Promise<(ItemWithGrant & { campaignName: string; dueAt: Date })[]> {
  return tx
    .select({ ...itemColumns, grantPresent, campaignName: reviewCampaigns.name, dueAt: reviewCampaigns.dueAt })
    .from(reviewItems)
    .innerJoin(
      reviewCampaigns,
      and(eq(reviewCampaigns.tenantId, reviewItems.tenantId), eq(reviewCampaigns.id, reviewItems.campaignId)),
    )
    .where(
      and(
        eq(reviewItems.tenantId, tenantId),
        eq(reviewItems.reviewerId, reviewerId),
        isNull(reviewItems.decision),
        eq(reviewCampaigns.status, 'open'),
      ),
    )
    .orderBy(asc(reviewCampaigns.startedAt), sql`lower(${reviewItems.subjectEmail})`, asc(reviewItems.role));
}

/** Per open campaign, each reviewer with undecided items: their id, address and how many. */
export function reviewersWithOpenItems(
  tx: Tx,
  tenantId: string,
): Promise<{ campaignId: string; reviewerId: string; email: string; open: number }[]> {
  return tx
    .select({
      campaignId: reviewItems.campaignId,
      reviewerId: users.id,
      email: users.email,
      open: sql<number>`count(*)::int`,
    })
    .from(reviewItems)
    .innerJoin(
      reviewCampaigns,
      and(eq(reviewCampaigns.tenantId, reviewItems.tenantId), eq(reviewCampaigns.id, reviewItems.campaignId)),
    )
    .innerJoin(users, and(eq(users.tenantId, reviewItems.tenantId), eq(users.id, reviewItems.reviewerId)))
    .where(and(eq(reviewItems.tenantId, tenantId), isNull(reviewItems.decision), eq(reviewCampaigns.status, 'open')))
    .groupBy(reviewItems.campaignId, users.id, users.email)
    .orderBy(users.email);
}

export async function readSettings(
  tx: Tx,
  tenantId: string,
): Promise<{ scheduleEnabled: boolean; updatedAt: Date | null; updatedBy: string | null }> {
  const [row] = await tx.select().from(reviewSettings).where(eq(reviewSettings.tenantId, tenantId));
  return row ?? { scheduleEnabled: true, updatedAt: null, updatedBy: null };
}

export async function saveSettings(tx: Tx, tenantId: string, scheduleEnabled: boolean, at: Date, by: string): Promise<void> {
  await tx
    .insert(reviewSettings)
    .values({ tenantId, scheduleEnabled, updatedAt: at, updatedBy: by })
    .onConflictDoUpdate({ target: reviewSettings.tenantId, set: { scheduleEnabled, updatedAt: at, updatedBy: by } });
}

/** The day (YYYY-MM-DD) this notice last went to this recipient, if ever. */
export async function lastNoticeDay(tx: Tx, tenantId: string, recipient: string, notice: string): Promise<string | undefined> {
  const [row] = await tx
    .select({ day: sql<string>`max(${reviewNotices.sentOn})` })
    .from(reviewNotices)
    .where(and(eq(reviewNotices.tenantId, tenantId), eq(reviewNotices.recipient, recipient), eq(reviewNotices.notice, notice)));
  return row?.day ?? undefined;
}

/** Claims today's notice for a recipient; false when it was claimed already (the job ran today). */
export async function claimNotice(tx: Tx, row: typeof reviewNotices.$inferInsert): Promise<boolean> {
  const inserted = await tx.insert(reviewNotices).values(row).onConflictDoNothing().returning({ day: reviewNotices.sentOn });
  return inserted.length > 0;
}

/** Who created an API token (null for the command line), so a reviewer's own token can carry their decision. */
export async function tokenCreator(tx: Tx, tenantId: string, tokenId: string): Promise<string | null> {
  const [row] = await tx
    .select({ createdById: apiTokens.createdById })
    .from(apiTokens)
    .where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, tokenId)));
  return row?.createdById ?? null;
}
