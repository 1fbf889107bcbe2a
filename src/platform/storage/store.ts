import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.ts';
import { blobs } from './tables.ts';

export type BlobRow = typeof blobs.$inferSelect;
export type NewBlobRow = typeof blobs.$inferInsert;

export async function insertBlobRow(tx: Tx, row: NewBlobRow): Promise<BlobRow> {
  const [inserted] = await tx.insert(blobs).values(row).returning();
  if (!inserted) throw new Error('blob row was not inserted');
  return inserted;
}

export async function findBlobRow(tx: Tx, tenantId: string, id: string): Promise<BlobRow | undefined> {
  const [row] = await tx
    .select()
    .from(blobs)
    .where(and(eq(blobs.tenantId, tenantId), eq(blobs.id, id)));
  return row;
}

/** Deletes one blob's row; returns its object key, or undefined when there was none. */
export async function deleteBlobRow(tx: Tx, tenantId: string, id: string): Promise<string | undefined> {
  const [row] = await tx
    .delete(blobs)
    .where(and(eq(blobs.tenantId, tenantId), eq(blobs.id, id)))
    .returning({ objectKey: blobs.objectKey });
  return row?.objectKey;
}

export async function deleteTenantBlobRows(tx: Tx, tenantId: string): Promise<number> {
  const rows = await tx.delete(blobs).where(eq(blobs.tenantId, tenantId)).returning({ id: blobs.id });
  return rows.length;
}

/** Blobs not sealed with `currentVersion` (older versions; a newer one cannot exist). */
export async function countStaleBlobs(tx: Tx, tenantId: string, currentVersion: number): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(blobs)
    .where(and(eq(blobs.tenantId, tenantId), ne(blobs.keyVersion, currentVersion)));
  return row?.n ?? 0;
}

export async function countTenantBlobs(tx: Tx, tenantId: string): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(blobs).where(eq(blobs.tenantId, tenantId));
  return row?.n ?? 0;
}

/** Stale rows locked for re-encryption: a concurrent re-encryption waits, then finds them current. */
export function lockStaleBlobs(tx: Tx, tenantId: string, currentVersion: number, limit: number): Promise<BlobRow[]> {
  return tx
    .select()
    .from(blobs)
    .where(and(eq(blobs.tenantId, tenantId), ne(blobs.keyVersion, currentVersion)))
    .orderBy(asc(blobs.id))
    .limit(limit)
    .for('update');
}

export async function updateBlobObject(
  tx: Tx,
  tenantId: string,
  id: string,
  change: Pick<BlobRow, 'storedSize' | 'storedSha256' | 'keyVersion' | 'objectKey' | 'filenameSealed'>,
): Promise<void> {
  await tx
    .update(blobs)
    .set(change)
    .where(and(eq(blobs.tenantId, tenantId), eq(blobs.id, id)));
}

/** Which of these object keys a row still refers to (system scope: the sweep spans tenants). */
export async function referencedObjectKeys(tx: Tx, objects: { tenantId: string; objectKey: string }[]): Promise<Set<string>> {
  if (objects.length === 0) return new Set();
  const tenants = [...new Set(objects.map((o) => o.tenantId))];
  const rows = await tx
    .select({ objectKey: blobs.objectKey })
    .from(blobs)
    .where(
      and(
        inArray(blobs.tenantId, tenants),
        inArray(
          blobs.objectKey,
          objects.map((o) => o.objectKey),
        ),
      ),
    );
  return new Set(rows.map((r) => r.objectKey));
}

/** Rows after (tenantId, id) in key order: the scrub walks every row in pages without a long transaction. */
export function blobRowsAfter(
  tx: Tx,
  after: { tenantId: string; id: string } | undefined,
  limit: number,
  tenantId?: string,
): Promise<BlobRow[]> {
  return tx
    .select()
    .from(blobs)
    .where(
      and(
        tenantId ? eq(blobs.tenantId, tenantId) : undefined,
        after ? sql`(${blobs.tenantId}, ${blobs.id}) > (${after.tenantId}::uuid, ${after.id}::uuid)` : undefined,
      ),
    )
    .orderBy(asc(blobs.tenantId), asc(blobs.id))
    .limit(limit);
}

export function blobTotalsByTenant(tx: Tx): Promise<{ tenantId: string; objects: number; bytes: number }[]> {
  return tx
    .select({
      tenantId: blobs.tenantId,
      objects: sql<number>`count(*)::int`,
      bytes: sql<number>`coalesce(sum(${blobs.storedSize}), 0)::float8`,
    })
    .from(blobs)
    .groupBy(blobs.tenantId)
    .orderBy(asc(blobs.tenantId));
}
