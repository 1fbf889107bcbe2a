import { integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Each tenant's keys, wrapped by the master key: `data` keys encrypt fields and blobs (rotated: the newest
 * active version encrypts, older versions still decrypt until re-encryption retires them), `index` keys
 * compute blind indexes. Deleting a tenant's rows here destroys everything encrypted for it.
 */
export const tenantKeys = pgTable(
  'tenant_keys',
  {
    tenantId: uuid('tenant_id').notNull(),
    purpose: text('purpose').$type<'data' | 'index'>().notNull(),
    version: integer('version').notNull(),
    /** base64 of the key sealed by the master key (iv ‖ ciphertext ‖ tag). */
    wrappedKey: text('wrapped_key').notNull(),
    masterKeyId: text('master_key_id').notNull(),
    state: text('state').$type<'active' | 'retired'>().notNull().default('active'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.purpose, t.version] })],
);

/** Proof of the master key this database was encrypted with: a wrong key refuses to start. One row. */
export const masterKeyCheck = pgTable('master_key_check', {
  id: integer('id').primaryKey().default(1),
  masterKeyId: text('master_key_id').notNull(),
  /** A known constant wrapped by the master key: unwrapping it proves the key, not just its id. */
  proof: text('proof').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
