import { bigint, boolean, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

/**
 * The last verification of each tenant's audit trail (the daily job, "Verify now", the API, the CLI), so the
 * back office can say how the chain stood without re-reading all of it on every page view. One row per tenant:
 * the history of runs is in the trail itself (`audit.verified` events).
 */
export const auditVerifications = pgTable(
  'audit_verifications',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    checkedAt: timestamp('checked_at', { withTimezone: true, precision: 3 }).notNull(),
    ok: boolean('ok').notNull(),
    events: integer('events').notNull(),
    checkpoints: integer('checkpoints').notNull(),
    firstSeq: bigint('first_seq', { mode: 'number' }),
    lastSeq: bigint('last_seq', { mode: 'number' }),
    lastHash: text('last_hash'),
    anchor: text('anchor').notNull(),
    /** The first problem found (seq, line, kind, message), null when the chain is intact. */
    problem: jsonb('problem').$type<{ seq: number | null; line: number; kind: string; message: string } | null>(),
    /** The one line a person reads (describeResult). */
    summary: text('summary').notNull(),
    /** Who ran it: the actor label of the `audit.verified` event. */
    checkedBy: text('checked_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId] })],
);
