import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });
const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * A tenant's own rule for one data category. A category without a row follows its default period, so a
 * new category applies everywhere without a migration.
 */
export const retentionRules = pgTable(
  'retention_rules',
  {
    tenantId: tenantId(),
    /** A category slug from categories.ts. */
    category: text('category').notNull(),
    periodDays: integer('period_days').notNull(),
    /** A legal hold: nothing in the category is purged while it is set. */
    held: boolean('held').notNull().default(false),
    holdReason: text('hold_reason'),
    updatedAt: at('updated_at').notNull(),
    updatedBy: text('updated_by'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.category] })],
);

/**
 * Deletion records: one per purge run of a category, saying what rule removed how many rows and when,
 * never what the rows held. A row in `running` is also the run's claim on its category (the partial unique
 * index lets one run at a time hold it); `lease_until` (database time) lets a later run take over from a
 * run that died.
 */
export const retentionRuns = pgTable(
  'retention_runs',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    category: text('category').notNull(),
    /** The period in force for this run, after the category's minimum. */
    periodDays: integer('period_days').notNull(),
    /** Rows older than this were due. */
    cutoff: at('cutoff').notNull(),
    deleted: integer('deleted').notNull().default(0),
    /** Transactions that deleted something. */
    batches: integer('batches').notNull().default(0),
    /** running → completed | failed | interrupted; `held` when a legal hold stopped the run. */
    outcome: text('outcome').notNull(),
    error: text('error'),
    /** `schedule` for the daily run, else who asked for it. */
    requestedBy: text('requested_by').notNull(),
    startedAt: at('started_at').notNull(),
    finishedAt: at('finished_at'),
    leaseUntil: at('lease_until'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('retention_runs_started_idx').on(t.tenantId, t.startedAt),
    index('retention_runs_category_idx').on(t.tenantId, t.category, t.startedAt),
    uniqueIndex('retention_runs_running_idx').on(t.tenantId, t.category).where(sql`outcome = 'running'`),
  ],
);
