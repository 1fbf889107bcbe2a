import { sql } from 'drizzle-orm';
import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** The root of isolation: every tenant-owned table carries `tenant_id` first in its keys. */
export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull().unique(),
    name: text('name').notNull(),
    /** Host names (lower case, no port) that serve this tenant's Trust Center and back office. */
    hosts: text('hosts').array().notNull().default(sql`'{}'::text[]`),
    /** Public contact address for security questions, shown on the Trust Center. */
    contactEmail: text('contact_email'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('tenants_hosts_idx').using('gin', t.hosts)],
);
