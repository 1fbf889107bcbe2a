import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

/**
 * Alerts raised by the detection rules over the audit trail. One alert per rule and key (an account, an
 * address, an actor) while it is not closed: later matching events are added to it instead of opening another.
 */
export const alerts = pgTable(
  'alerts',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    rule: text('rule').notNull(),
    /** What the rule counts by: the account's email, the IP address, the actor. */
    key: text('key').notNull(),
    status: text('status').notNull().default('open'),
    severity: text('severity').notNull(),
    title: text('title').notNull(),
    /** Sequence numbers of the audit events that raised and fed the alert (capped; eventCount is the total). */
    eventSeqs: bigint('event_seqs', { mode: 'number' }).array().notNull(),
    eventCount: integer('event_count').notNull(),
    openedAt: timestamp('opened_at', { withTimezone: true, precision: 3 }).notNull(),
    lastEventAt: timestamp('last_event_at', { withTimezone: true, precision: 3 }).notNull(),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true, precision: 3 }),
    closedBy: text('closed_by'),
    closedAt: timestamp('closed_at', { withTimezone: true, precision: 3 }),
    closeNote: text('close_note'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('alerts_status_idx').on(t.tenantId, t.status, t.openedAt),
    // The database's own guarantee of "no duplicate": at most one alert per rule and key that is not closed.
    uniqueIndex('alerts_active_key_idx').on(t.tenantId, t.rule, t.key).where(sql`status <> 'closed'`),
  ],
);

/** Per-tenant detection settings: thresholds and windows per rule, business hours, security contacts. */
export const alertSettings = pgTable('alert_settings', {
  tenantId: tenantId().primaryKey(),
  /** Validated and completed with defaults on read (see schema.ts AlertSettings). */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
  updatedBy: text('updated_by'),
});
