import { boolean, foreignKey, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { blobs } from '../../platform/storage/tables.ts';
import { tenants } from '../tenants/tables.ts';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });
const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * A gated document (a SOC 2 report, a penetration test summary): who may ask for it (`access_level`), and
 * what happens when a new version arrives. The file itself lives in `document_versions`; `current_version`
 * names the one requesters get (null until the first upload).
 */
export const documents = pgTable(
  'documents',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    /** `public`, `nda`, `approval` or `internal`. */
    accessLevel: text('access_level').notNull(),
    /** Whether grants still open when a new version is uploaded see the new one (else they keep theirs). */
    grantsSeeNewVersion: boolean('grants_see_new_version').notNull().default(true),
    /** Whether a non-PDF version (spreadsheet, Word file, archive) may go to requesters; PDFs go stamped. */
    nonPdfDownloadAllowed: boolean('non_pdf_download_allowed').notNull().default(false),
    /**
     * Requesters see the pages in the browser and get no download link; a deterrent only, since the stamped
     * bytes still reach their browser.
     */
    viewOnly: boolean('view_only').notNull().default(false),
    currentVersion: integer('current_version'),
    /** How long a grant to this document lasts, in days (null: the 30-day default). */
    grantDays: integer('grant_days'),
    createdAt: at('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    updatedAt: at('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

/** Every file ever uploaded for a document, never changed: version 1, 2, … ; the bytes are an encrypted blob. */
export const documentVersions = pgTable(
  'document_versions',
  {
    tenantId: tenantId(),
    documentId: uuid('document_id').notNull(),
    version: integer('version').notNull(),
    blobId: uuid('blob_id').notNull(),
    /** `pdf`, `xlsx`, `docx`, `pptx` or `zip`: decided from the content, agreeing with the file name. */
    kind: text('kind').notNull(),
    size: integer('size').notNull(),
    sha256: text('sha256').notNull(),
    /** Page count of a PDF (null for other kinds). */
    pages: integer('pages'),
    /** The upload was encrypted with an owner password only and is stored decrypted. */
    decrypted: boolean('decrypted').notNull().default(false),
    note: text('note').notNull().default(''),
    uploadedAt: at('uploaded_at').notNull(),
    uploadedBy: text('uploaded_by').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.documentId, t.version] }),
    foreignKey({ columns: [t.tenantId, t.documentId], foreignColumns: [documents.tenantId, documents.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.blobId], foreignColumns: [blobs.tenantId, blobs.id] }),
  ],
);
