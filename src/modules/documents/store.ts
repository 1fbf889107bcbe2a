import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import { documents, documentVersions } from './tables.ts';

export type DocumentRow = typeof documents.$inferSelect;
export type NewDocumentRow = typeof documents.$inferInsert;
export type VersionRow = typeof documentVersions.$inferSelect;

export async function readDocuments(tx: Tx, tenantId: string): Promise<DocumentRow[]> {
  return tx
    .select()
    .from(documents)
    .where(eq(documents.tenantId, tenantId))
    .orderBy(sql`lower(${documents.title}) collate "C"`, asc(documents.id));
}

/** One document, locked until the transaction ends when `lock` is set (uploads number versions from it). */
export async function readDocument(tx: Tx, tenantId: string, id: string, lock = false): Promise<DocumentRow | undefined> {
  const query = tx
    .select()
    .from(documents)
    .where(and(eq(documents.tenantId, tenantId), eq(documents.id, id)));
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function insertDocument(tx: Tx, row: NewDocumentRow): Promise<DocumentRow> {
  const [inserted] = await tx.insert(documents).values(row).returning();
  if (!inserted) throw new Error('document insert returned nothing');
  return inserted;
}

export async function updateDocument(
  tx: Tx,
  tenantId: string,
  id: string,
  change: Partial<Omit<DocumentRow, 'tenantId' | 'id'>>,
): Promise<DocumentRow | undefined> {
  const [row] = await tx
    .update(documents)
    .set(change)
    .where(and(eq(documents.tenantId, tenantId), eq(documents.id, id)))
    .returning();
  return row;
}

export async function readVersions(tx: Tx, tenantId: string, documentId: string): Promise<VersionRow[]> {
  return tx
    .select()
    .from(documentVersions)
    .where(and(eq(documentVersions.tenantId, tenantId), eq(documentVersions.documentId, documentId)))
    .orderBy(desc(documentVersions.version));
}

export async function readVersion(
  tx: Tx,
  tenantId: string,
  documentId: string,
  version: number,
): Promise<VersionRow | undefined> {
  const [row] = await tx
    .select()
    .from(documentVersions)
    .where(
      and(
        eq(documentVersions.tenantId, tenantId),
        eq(documentVersions.documentId, documentId),
        eq(documentVersions.version, version),
      ),
    );
  return row;
}

export async function insertVersion(tx: Tx, row: VersionRow): Promise<void> {
  await tx.insert(documentVersions).values(row);
}
