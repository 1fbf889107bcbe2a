import { sql } from 'drizzle-orm';
import { boolean, foreignKey, index, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });
const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * An access review campaign: a snapshot of who held which role when it started, each grant given to a reviewer.
 * `period` names the quarter a scheduled campaign covers ("2026-Q2"); the partial unique index makes the
 * quarterly job idempotent (a second run in the same quarter inserts nothing).
 */
export const reviewCampaigns = pgTable(
  'review_campaigns',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    period: text('period').notNull(),
    /** `schedule` (the quarterly job) or `manual` (started from the page or the API). */
    trigger: text('trigger').notNull(),
    startedById: uuid('started_by_id'),
    startedByLabel: text('started_by_label').notNull(),
    startedAt: at('started_at').notNull(),
    dueAt: at('due_at').notNull(),
    /** `open` until every item is decided or someone closes it by hand; then `closed` for good. */
    status: text('status').notNull().default('open'),
    closedAt: at('closed_at'),
    closedByLabel: text('closed_by_label'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('review_campaigns_scheduled_period_idx').on(t.tenantId, t.period).where(sql`${t.trigger} = 'schedule'`),
    index('review_campaigns_status_idx').on(t.tenantId, t.status),
  ],
);

/**
 * One grant (person, role) as it stood when the campaign started, its reviewer and the decision. The person's
 * email and name are copied so the evidence still reads right after they leave. A null reviewer is a flagged
 * item: nobody but the person themselves could review it.
 */
export const reviewItems = pgTable(
  'review_items',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    campaignId: uuid('campaign_id').notNull(),
    subjectId: uuid('subject_id').notNull(),
    subjectEmail: text('subject_email').notNull(),
    subjectName: text('subject_name').notNull(),
    role: text('role').notNull(),
    roleName: text('role_name').notNull(),
    reviewerId: uuid('reviewer_id'),
    reviewerEmail: text('reviewer_email'),
    /** Why no reviewer could be assigned (null when one was). */
    flag: text('flag'),
    /** `keep` or `revoke`; null while undecided. */
    decision: text('decision'),
    /** What the decision did: `kept`, `revoked`, or `already_gone` (the grant had been removed meanwhile). */
    outcome: text('outcome'),
    decidedById: uuid('decided_by_id'),
    decidedByLabel: text('decided_by_label'),
    decidedAt: at('decided_at'),
    note: text('note'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('review_items_campaign_idx').on(t.tenantId, t.campaignId),
    index('review_items_reviewer_idx').on(t.tenantId, t.reviewerId),
    foreignKey({ columns: [t.tenantId, t.campaignId], foreignColumns: [reviewCampaigns.tenantId, reviewCampaigns.id] }).onDelete(
      'cascade',
    ),
  ],
);

/** Per-tenant settings; a tenant without a row has the quarterly schedule on. */
export const reviewSettings = pgTable(
  'review_settings',
  {
    tenantId: tenantId(),
    scheduleEnabled: boolean('schedule_enabled').notNull().default(true),
    updatedAt: at('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId] })],
);

/**
 * Reminder and overdue mail already queued, one row per recipient, kind and day: the daily job inserts the row
 * before queueing the mail in the same transaction, so a second run the same day queues nothing.
 * `notice` is `reminder` or `overdue:<campaign id>`.
 */
export const reviewNotices = pgTable(
  'review_notices',
  {
    tenantId: tenantId(),
    recipient: text('recipient').notNull(),
    notice: text('notice').notNull(),
    sentOn: text('sent_on').notNull(),
    sentAt: at('sent_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.recipient, t.notice, t.sentOn] })],
);
