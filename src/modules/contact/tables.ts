import { index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

/** A message sent through the public contact form; the sender's address and text are sealed. */
export const contactMessages = pgTable(
  'contact_messages',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull().defaultRandom(),
    /** `security`, `privacy` or `compliance`. */
    topic: text('topic').notNull(),
    routedTo: text('routed_to'),
    name: text('name').notNull(),
    email: text('email').notNull(),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    handledAt: timestamp('handled_at', { withTimezone: true }),
    handledBy: text('handled_by'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('contact_messages_created_idx').on(t.tenantId, t.createdAt)],
);
