import { and, asc, desc, eq, isNotNull, lte, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import {
  trustCenterBranding,
  trustCenterCertificateReminders,
  trustCenterDomains,
  trustCenterDrafts,
  trustCenterVersions,
} from './tables.ts';

export type DraftRow = typeof trustCenterDrafts.$inferSelect;
export type VersionRow = typeof trustCenterVersions.$inferSelect;
export type ReminderRow = typeof trustCenterCertificateReminders.$inferSelect;
export type BrandingRow = typeof trustCenterBranding.$inferSelect;
export type DomainRow = typeof trustCenterDomains.$inferSelect;

export async function readDrafts(tx: Tx, tenantId: string, locale: string): Promise<DraftRow[]> {
  return tx
    .select()
    .from(trustCenterDrafts)
    .where(and(eq(trustCenterDrafts.tenantId, tenantId), eq(trustCenterDrafts.locale, locale)));
}

/** One draft, locked until the transaction ends when `lock` is set (review and publish decide on what they read). */
export async function readDraft(tx: Tx, tenantId: string, locale: string, section: string, lock = false) {
  const query = tx
    .select()
    .from(trustCenterDrafts)
    .where(
      and(eq(trustCenterDrafts.tenantId, tenantId), eq(trustCenterDrafts.locale, locale), eq(trustCenterDrafts.section, section)),
    );
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function writeDraft(tx: Tx, row: DraftRow): Promise<void> {
  const { tenantId, locale, section, ...rest } = row;
  await tx
    .insert(trustCenterDrafts)
    .values(row)
    .onConflictDoUpdate({ target: [trustCenterDrafts.tenantId, trustCenterDrafts.locale, trustCenterDrafts.section], set: rest });
}

export async function insertVersion(tx: Tx, row: VersionRow): Promise<void> {
  await tx.insert(trustCenterVersions).values(row);
}

export async function readVersions(tx: Tx, tenantId: string, locale: string, section: string): Promise<VersionRow[]> {
  return tx
    .select()
    .from(trustCenterVersions)
    .where(
      and(
        eq(trustCenterVersions.tenantId, tenantId),
        eq(trustCenterVersions.locale, locale),
        eq(trustCenterVersions.section, section),
      ),
    )
    .orderBy(desc(trustCenterVersions.version));
}

export async function readVersion(tx: Tx, tenantId: string, locale: string, section: string, version: number) {
  const [row] = await tx
    .select()
    .from(trustCenterVersions)
    .where(
      and(
        eq(trustCenterVersions.tenantId, tenantId),
        eq(trustCenterVersions.locale, locale),
        eq(trustCenterVersions.section, section),
        eq(trustCenterVersions.version, version),
      ),
    );
  return row;
}

/** The newest version of every section of a locale: what the public site shows. */
export async function readLatestVersions(tx: Tx, tenantId: string, locale: string): Promise<VersionRow[]> {
  return tx
    .selectDistinctOn([trustCenterVersions.section])
    .from(trustCenterVersions)
    .where(and(eq(trustCenterVersions.tenantId, tenantId), eq(trustCenterVersions.locale, locale)))
    .orderBy(trustCenterVersions.section, desc(trustCenterVersions.version));
}

/** Each section's newest version number (the back office's overview of what is live). */
export async function readPublishedNumbers(tx: Tx, tenantId: string, locale: string): Promise<Map<string, number>> {
  const rows = await tx
    .select({ section: trustCenterVersions.section, version: sql<number>`max(${trustCenterVersions.version})::int` })
    .from(trustCenterVersions)
    .where(and(eq(trustCenterVersions.tenantId, tenantId), eq(trustCenterVersions.locale, locale)))
    .groupBy(trustCenterVersions.section);
  return new Map(rows.map((r) => [r.section, r.version]));
}

/** Drafts whose scheduled publish time has come, in every tenant (run under withSystem by the job). */
export async function readDueDrafts(tx: Tx, now: Date, limit: number) {
  return tx
    .select({ tenantId: trustCenterDrafts.tenantId, locale: trustCenterDrafts.locale, section: trustCenterDrafts.section })
    .from(trustCenterDrafts)
    .where(and(isNotNull(trustCenterDrafts.publishAt), lte(trustCenterDrafts.publishAt, now)))
    .orderBy(asc(trustCenterDrafts.publishAt))
    .limit(limit);
}

/** The live certifications of every tenant in one locale (run under withSystem by the reminder job). */
export async function readLiveCertificationsEverywhere(tx: Tx, locale: string): Promise<VersionRow[]> {
  return tx
    .selectDistinctOn([trustCenterVersions.tenantId])
    .from(trustCenterVersions)
    .where(and(eq(trustCenterVersions.section, 'certifications'), eq(trustCenterVersions.locale, locale)))
    .orderBy(trustCenterVersions.tenantId, desc(trustCenterVersions.version));
}

export async function readSentReminders(tx: Tx, tenantId: string): Promise<ReminderRow[]> {
  return tx.select().from(trustCenterCertificateReminders).where(eq(trustCenterCertificateReminders.tenantId, tenantId));
}

/** Records a reminder; false when that threshold of that certification was already recorded (sent once only). */
export async function claimReminder(tx: Tx, row: ReminderRow): Promise<boolean> {
  const inserted = await tx
    .insert(trustCenterCertificateReminders)
    .values(row)
    .onConflictDoNothing()
    .returning({ threshold: trustCenterCertificateReminders.threshold });
  return inserted.length > 0;
}

export async function readBranding(tx: Tx, tenantId: string): Promise<BrandingRow | undefined> {
  const [row] = await tx.select().from(trustCenterBranding).where(eq(trustCenterBranding.tenantId, tenantId));
  return row;
}

export async function writeBranding(tx: Tx, row: BrandingRow): Promise<void> {
  const { tenantId, ...rest } = row;
  await tx.insert(trustCenterBranding).values(row).onConflictDoUpdate({ target: trustCenterBranding.tenantId, set: rest });
}

export async function readDomains(tx: Tx, tenantId: string): Promise<DomainRow[]> {
  return tx
    .select()
    .from(trustCenterDomains)
    .where(eq(trustCenterDomains.tenantId, tenantId))
    .orderBy(trustCenterDomains.hostname);
}

/** Every tenant's claim on a host name (run under withSystem: uniqueness is across tenants). */
export async function readDomainClaims(tx: Tx, hostname: string): Promise<DomainRow[]> {
  return tx.select().from(trustCenterDomains).where(eq(trustCenterDomains.hostname, hostname));
}

export async function insertDomain(tx: Tx, row: DomainRow): Promise<void> {
  await tx.insert(trustCenterDomains).values(row);
}

export async function updateDomain(tx: Tx, row: DomainRow): Promise<void> {
  const { tenantId, hostname, ...rest } = row;
  await tx
    .update(trustCenterDomains)
    .set(rest)
    .where(and(eq(trustCenterDomains.tenantId, tenantId), eq(trustCenterDomains.hostname, hostname)));
}

export async function deleteDomain(tx: Tx, tenantId: string, hostname: string): Promise<boolean> {
  const rows = await tx
    .delete(trustCenterDomains)
    .where(and(eq(trustCenterDomains.tenantId, tenantId), eq(trustCenterDomains.hostname, hostname)))
    .returning({ hostname: trustCenterDomains.hostname });
  return rows.length > 0;
}
