import { bigint, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * One row per stored blob: written in the same transaction as the change that stores the file, so a blob
 * exists for the product if and only if that change committed (an object without a row is an orphan the
 * sweep removes). `tenant_id` has no foreign key: platform code knows no module.
 */
export const blobs = pgTable(
  'blobs',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull(),
    category: text('category').notNull(),
    contentType: text('content_type').notNull(),
    /** The original file name, encrypted with the tenant's key (names can be personal data); null when none. */
    filenameSealed: text('filename_sealed'),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    storedSize: bigint('stored_size', { mode: 'number' }).notNull(),
    storedSha256: text('stored_sha256').notNull(),
    /** Data-key version the object (and the file name) are sealed with: re-encryption finds older ones. */
    keyVersion: integer('key_version').notNull(),
    objectKey: text('object_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('blobs_object_key_idx').on(t.tenantId, t.objectKey),
    index('blobs_key_version_idx').on(t.tenantId, t.keyVersion),
  ],
);
