import { boolean, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

/** One allow-list entry as stored: a canonical CIDR range and what it is (an office, a VPN). */
export interface StoredAllowlistEntry {
  cidr: string;
  label: string;
}

/**
 * A tenant's IP allow-list for one surface (`admin`: the back office, `api`: the JSON API). A surface without
 * a row, or with `enabled` off, lets every address in. Entries are one small list read whole on every check.
 */
export const ipAllowlists = pgTable(
  'ip_allowlists',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** `admin` or `api`. */
    list: text('list').notNull(),
    enabled: boolean('enabled').notNull().default(false),
    entries: jsonb('entries').$type<StoredAllowlistEntry[]>().notNull().default([]),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
    updatedBy: text('updated_by'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.list] })],
);
