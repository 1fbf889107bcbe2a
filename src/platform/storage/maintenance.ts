import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { type BlobDriver, BlobObjectMissing, type ScrubFailure, type ScrubReport, type SweepReport } from './blob-store.ts';
import { parseBlobObjectKey } from './keys.ts';
import { type BlobRow, blobRowsAfter, referencedObjectKeys } from './store.ts';

/**
 * How long an object without a row is left alone: its put may belong to a transaction still open.
 * A transaction that stays open longer than this while storing a file loses that file.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;
const SWEEP_BATCH = 500;
const SCRUB_PAGE = 200;

/** What the sweep and the scrub work with. They open their own short transactions, never inside another. */
export interface Maintenance {
  db: Database;
  driver: BlobDriver;
  log: Logger;
}

interface ObjectRef {
  tenantId: string;
  objectKey: string;
}

/** Deletes the objects no row refers to (any more); returns how many. */
export async function removeUnreferenced({ db, driver }: Maintenance, objects: ObjectRef[]): Promise<number> {
  if (objects.length === 0) return 0;
  const referenced = await db.withSystem((tx) => referencedObjectKeys(tx, objects));
  let removed = 0;
  for (const object of objects) {
    if (referenced.has(object.objectKey)) continue;
    await driver.delete(object.objectKey);
    removed += 1;
  }
  return removed;
}

/**
 * Removes objects the BlobStore wrote that no row refers to and that are older than the grace period
 * (rolled-back puts, deleted blobs and tenants whose job was lost), and abandoned temp files.
 */
export async function sweepOrphans(maintenance: Maintenance, now: Date): Promise<SweepReport> {
  const { driver, log } = maintenance;
  const cutoff = new Date(now.getTime() - ORPHAN_GRACE_MS);
  const abandonedWritesRemoved = await driver.removeAbandonedWrites(cutoff);
  let orphansRemoved = 0;
  let batch: ObjectRef[] = [];
  for await (const object of driver.list('')) {
    const owner = parseBlobObjectKey(object.key);
    // Keys the BlobStore did not write (backups...) and young objects are left alone.
    if (!owner || object.modifiedAt >= cutoff) continue;
    batch.push({ tenantId: owner.tenantId, objectKey: object.key });
    if (batch.length >= SWEEP_BATCH) {
      orphansRemoved += await removeUnreferenced(maintenance, batch);
      batch = [];
    }
  }
  orphansRemoved += await removeUnreferenced(maintenance, batch);
  if (orphansRemoved + abandonedWritesRemoved > 0) {
    log.info({ orphansRemoved, abandonedWritesRemoved, location: driver.location }, 'blob sweep removed unreferenced objects');
  }
  return { orphansRemoved, abandonedWritesRemoved };
}

type ObjectProblem = Pick<ScrubFailure, 'reason' | 'detail'>;

const SCRUB_READ_BYTES = 1024 * 1024;

/** Reads one stored object and compares it with its row; undefined when it matches. */
async function checkStoredObject(driver: BlobDriver, row: BlobRow, buffer: Buffer): Promise<ObjectProblem | undefined> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    const reader = await driver.openReader(row.objectKey);
    try {
      for (let count = await reader.readInto(buffer); count > 0; count = await reader.readInto(buffer)) {
        size += count;
        hash.update(buffer.subarray(0, count));
      }
    } finally {
      await reader.close();
    }
  } catch (error) {
    if (error instanceof BlobObjectMissing) return { reason: 'missing', detail: `no object in ${driver.location}` };
    return { reason: 'unreadable', detail: error instanceof Error ? error.message : String(error) };
  }
  if (size !== row.storedSize) return { reason: 'size differs', detail: `${size} bytes stored, ${row.storedSize} recorded` };
  const digest = hash.digest('hex');
  if (digest !== row.storedSha256) return { reason: 'sha-256 differs', detail: `${digest} stored, ${row.storedSha256} recorded` };
  return undefined;
}

/** Checks every recorded object (or one tenant's) against its stored size and SHA-256; needs no key. */
export async function scrubStoredObjects({ db, driver, log }: Maintenance, tenantId?: string): Promise<ScrubReport> {
  const report: ScrubReport = { checked: 0, bytes: 0, failures: [] };
  // One buffer for every object: a scrub reads the whole store in the server's process.
  const buffer = Buffer.allocUnsafe(SCRUB_READ_BYTES);
  let after: { tenantId: string; id: string } | undefined;
  for (;;) {
    // Rows are read in short transactions; objects are read outside them (PGlite has one connection).
    const rows = await db.withSystem((tx) => blobRowsAfter(tx, after, SCRUB_PAGE, tenantId));
    for (const row of rows) {
      const problem = await checkStoredObject(driver, row, buffer);
      report.checked += 1;
      report.bytes += row.storedSize;
      if (problem) report.failures.push({ tenantId: row.tenantId, blobId: row.id, objectKey: row.objectKey, ...problem });
    }
    const last = rows.at(-1);
    if (!last || rows.length < SCRUB_PAGE) break;
    after = { tenantId: last.tenantId, id: last.id };
  }
  if (report.failures.length > 0) {
    log.error(
      { failures: report.failures.length, checked: report.checked },
      'blob scrub found objects that do not match their records',
    );
  }
  return report;
}
