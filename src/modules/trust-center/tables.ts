import { integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

/** A section's content as stored: its top-level fields and its repeated items, both plain strings. */
export interface StoredDocument {
  fields: Record<string, string>;
  items: Record<string, string>[];
}

/**
 * The working copy of one section (or one policy: section `policy:<slug>`) in one locale. Editing changes it
 * in place; publishing copies it into a new immutable version. A policy's review state lives here because an
 * approval is of this exact draft: any later edit puts it back to `draft`.
 */
export const trustCenterDrafts = pgTable(
  'trust_center_drafts',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    locale: text('locale').notNull().default('en'),
    section: text('section').notNull(),
    document: jsonb('document').$type<StoredDocument>().notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
    updatedBy: text('updated_by').notNull(),
    /** The person who last wrote the draft (null for the system: demo content, the command line). */
    updatedById: text('updated_by_id'),
    /** `draft`, `in_review` or `approved` (policies only). */
    reviewState: text('review_state').notNull().default('draft'),
    reviewRequestedBy: text('review_requested_by'),
    reviewRequestedById: text('review_requested_by_id'),
    approvedBy: text('approved_by'),
    approvedAt: timestamp('approved_at', { withTimezone: true, precision: 3 }),
    /** When `trust-center.publish-due` publishes this exact draft (an edit cancels it); null: not scheduled. */
    publishAt: timestamp('publish_at', { withTimezone: true, precision: 3 }),
    publishScheduledBy: text('publish_scheduled_by'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.locale, t.section] })],
);

/** Every publication of a section: never updated, never deleted; a rollback is a new version. */
export const trustCenterVersions = pgTable(
  'trust_center_versions',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    locale: text('locale').notNull().default('en'),
    section: text('section').notNull(),
    version: integer('version').notNull(),
    document: jsonb('document').$type<StoredDocument>().notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true, precision: 3 }).notNull(),
    publishedBy: text('published_by').notNull(),
    approvedBy: text('approved_by'),
    /** Why this version exists beyond an ordinary publish (`rollback to version 2`). */
    note: text('note'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.locale, t.section, t.version] })],
);

/**
 * One row per expiry reminder sent: a certification (by standard and valid-until, so a renewal starts over)
 * and a threshold (60, 30 or 7 days). The primary key is what makes a threshold go out at most once.
 */
export const trustCenterCertificateReminders = pgTable(
  'trust_center_certificate_reminders',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    standard: text('standard').notNull(),
    validUntil: text('valid_until').notNull(),
    threshold: integer('threshold').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true, precision: 3 }).notNull(),
    /** Days left when it was sent: a skipped day's run sends late, with the true figure. */
    daysLeft: integer('days_left').notNull(),
    recipients: integer('recipients').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.standard, t.validUntil, t.threshold] })],
);

/** The public site's look per tenant; absent: Candor's defaults. */
export const trustCenterBranding = pgTable('trust_center_branding', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  displayName: text('display_name'),
  /** `#rrggbb`, checked for WCAG AA contrast when saved. */
  primaryColor: text('primary_color'),
  accentColor: text('accent_color'),
  /** A blob of category `trust-center-logo` (PNG, JPEG or WebP by its bytes). */
  logoBlobId: uuid('logo_blob_id'),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
  updatedBy: text('updated_by').notNull(),
});

/**
 * A custom domain a tenant asked for: it routes to the tenant (joins `tenants.hosts`) only once Candor found
 * its token at `/.well-known/candor-domain-verification` on that domain.
 */
export const trustCenterDomains = pgTable(
  'trust_center_domains',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    hostname: text('hostname').notNull(),
    token: text('token').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    createdBy: text('created_by').notNull(),
    verifiedAt: timestamp('verified_at', { withTimezone: true, precision: 3 }),
    lastCheckedAt: timestamp('last_checked_at', { withTimezone: true, precision: 3 }),
    lastError: text('last_error'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.hostname] })],
);
