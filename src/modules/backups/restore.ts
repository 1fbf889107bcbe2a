import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandIO } from '../../platform/cli/io.ts';
import { startProgress } from '../../platform/cli/progress.ts';
import type { MasterKeyProvider } from '../../platform/crypto/master-key.ts';
import { type Database, openDatabase } from '../../platform/db/client.ts';
import { migrate } from '../../platform/db/migrate.ts';
import type { BlobDriver } from '../../platform/storage/blob-store.ts';
import { type BlobStoreSettings, openBlobDriver } from '../../platform/storage/drivers.ts';
import { manifestAuthentic, peekManifest } from './archive.ts';
import { formatBytes, seconds } from './backup.ts';
import { type DatabaseTarget, embeddedTarget, postgresTarget } from './database.ts';
import { type ReplayResult, replayArchive } from './replay.ts';
import type { Manifest } from './schema.ts';
import { type ArchiveStorage, archiveRangeReader, readArchive } from './storage.ts';
import { markRestoredBackupRow, userTables } from './store.ts';
import { unlockArchive } from './verify.ts';

/** A restore that must not happen: the target holds data, or the backup does not fit it. Nothing was changed. */
export class RestoreRefused extends Error {
  override name = 'RestoreRefused';
}

export type RestoreTarget = { kind: 'data-dir'; dir: string } | { kind: 'postgres'; url: string };

export interface MasterKeySource {
  provider: MasterKeyProvider;
  /** The file it was read from; a restore into a data directory copies it there. */
  file?: string | undefined;
}

export interface RestoreRequest {
  location: string;
  target: RestoreTarget;
  key: MasterKeySource;
  /** Where the restored installation keeps blobs (CANDOR_BLOB_STORE and friends). */
  blobSettings: BlobStoreSettings;
  /** The configured data directory: for a PostgreSQL restore, where local blobs and kept files go. */
  dataDir: string;
  storage: ArchiveStorage;
  io: CommandIO;
}

export interface RestoreReport extends ReplayResult {
  manifest: Manifest;
  tookMs: number;
  /** Where the master key was copied to, when it came from a file. */
  keyCopiedTo?: string;
}

const ENGINE_NAMES = { pglite: 'the embedded database (PGlite)', postgres: 'PostgreSQL' } as const;

function databaseName(url: string): string {
  const u = new URL(url);
  return `${u.pathname.slice(1)} on ${u.hostname}${u.port ? `:${u.port}` : ''}`;
}

/** A data directory restores into a path that does not exist or is an empty directory. */
async function refuseNonEmptyDirectory(dir: string): Promise<void> {
  let entries: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new RestoreRefused(`${dir} is not a directory`);
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (entries.length > 0) {
    throw new RestoreRefused(
      `${dir} is not empty (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); restore into a new or empty directory`,
    );
  }
}

async function refuseNonEmptyDatabase(url: string): Promise<void> {
  let db: Database;
  try {
    db = await openDatabase({ engine: 'postgres', url, poolSize: 1 });
  } catch (error) {
    throw new RestoreRefused(`cannot connect to ${databaseName(url)}: ${(error as Error).message}`);
  }
  try {
    const tables = await userTables(db);
    if (tables.length > 0) {
      throw new RestoreRefused(
        `database ${databaseName(url)} is not empty (it has ${tables.join(', ')}${tables.length >= 3 ? ', …' : ''}); restore into a new, empty database`,
      );
    }
  } finally {
    await db.close();
  }
}

async function refuseNonEmptyBlobStore(driver: BlobDriver): Promise<void> {
  for await (const object of driver.list('')) {
    throw new RestoreRefused(
      `the blob store ${driver.location} is not empty (it holds ${object.key}); restore into an empty one`,
    );
  }
}

function refuseOtherEngine(manifest: Manifest, target: RestoreTarget): void {
  const wanted = target.kind === 'data-dir' ? 'pglite' : 'postgres';
  if (manifest.engine === wanted) return;
  const how = manifest.engine === 'pglite' ? 'with --into DATA_DIR' : 'with --database-url URL';
  throw new RestoreRefused(
    `this backup was made on ${ENGINE_NAMES[manifest.engine]} and can only be restored there (${how}); restoring across engines is not supported`,
  );
}

/**
 * Restores a backup into an empty data directory or an empty PostgreSQL database, with its blobs and kept
 * files. The archive is read once: the manifest (authenticated with the master key) comes from its end,
 * then every part is checked and decrypted as it streams. A data directory is assembled beside its final
 * place and renamed into it only when everything checked out; a failed PostgreSQL restore leaves the
 * database empty (pg_restore runs in one transaction) and removes the blobs it wrote.
 */
export async function restoreBackup(request: RestoreRequest): Promise<RestoreReport> {
  const started = Date.now();
  const { target, io } = request;
  if (target.kind === 'data-dir') await refuseNonEmptyDirectory(target.dir);
  else await refuseNonEmptyDatabase(target.url);

  const archive = await archiveRangeReader(request.storage, request.location);
  const manifest = await peekManifest(archive);
  refuseOtherEngine(manifest, target);
  const keys = await unlockArchive(manifest, request.key.provider);
  if (!manifestAuthentic(manifest, keys))
    throw new RestoreRefused('manifest: authentication failed (it was altered after the backup was made)');

  const workDir =
    target.kind === 'data-dir'
      ? path.join(path.dirname(target.dir), `.${path.basename(target.dir)}.restoring-${randomBytes(4).toString('hex')}`)
      : undefined;
  const dataDir = workDir ?? request.dataDir;
  const written: string[] = [];
  let driver: BlobDriver | undefined;
  try {
    if (workDir) await mkdir(workDir, { recursive: true, mode: 0o700 });
    driver = await openBlobDriver(request.blobSettings, dataDir);
    await refuseNonEmptyBlobStore(driver);
    const blobStore = driver;
    const bookkeeping = async (db: Database) => {
      await markRestoredBackupRow(db, manifest, { location: request.location, size: archive.size, finishedAt: new Date() });
      // pg_restore skipped the grants (--no-privileges): the policies create the role and grant what it needs.
      if (target.kind === 'postgres') await migrate(db, { reapplyPolicies: true });
    };
    const database: DatabaseTarget =
      target.kind === 'data-dir'
        ? embeddedTarget({ dataDir: workDir as string }, bookkeeping)
        : postgresTarget(target.url, bookkeeping);
    const total = manifest.parts.reduce((sum, p) => sum + p.storedSize, 0);
    const progress = startProgress(io, 'Restoring', total, 'bytes');
    const result = await replayArchive(await readArchive(request.storage, request.location), manifest, keys, {
      database,
      progress: (n) => progress.advance(n),
      async blob(key, bytes) {
        await blobStore.write(key, bytes);
        written.push(key);
      },
      // Into a new data directory every file is new; beside a PostgreSQL install, existing files are kept.
      file: (relative, bytes) => writeDataFile(dataDir, relative, bytes, !workDir),
    });
    progress.finish();
    let keyCopiedTo: string | undefined;
    if (workDir && target.kind === 'data-dir') {
      if (request.key.file) {
        await copyFile(request.key.file, path.join(workDir, 'master.key'));
        keyCopiedTo = path.join(target.dir, 'master.key');
      }
      await rmdir(target.dir).catch(() => {}); // it is empty or absent (checked above)
      await rename(workDir, target.dir);
    }
    return { ...result, manifest, tookMs: Date.now() - started, ...(keyCopiedTo ? { keyCopiedTo } : {}) };
  } catch (error) {
    if (workDir) await rm(workDir, { recursive: true, force: true });
    else if (driver) for (const key of written) await driver.delete(key).catch(() => {});
    throw error;
  }
}

/** A kept file of the data directory, owner-only like the rest of it; never outside the directory. */
async function writeDataFile(dataDir: string, relative: string, bytes: Buffer, keepExisting: boolean): Promise<void> {
  const file = path.resolve(dataDir, relative);
  if (!file.startsWith(`${path.resolve(dataDir)}${path.sep}`))
    throw new RestoreRefused(`file ${relative} would land outside the data directory`);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, bytes, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if (!(keepExisting && (error as NodeJS.ErrnoException).code === 'EEXIST')) throw error;
  }
}

/** The lines `candor restore` prints after a successful restore. */
export function describeRestore(report: RestoreReport, request: RestoreRequest): string[] {
  const m = report.manifest;
  const tables = Object.keys(report.rowCounts).length;
  const where = request.target.kind === 'data-dir' ? request.target.dir : databaseName(request.target.url);
  const lines = [
    `Restored backup ${m.id} (made ${m.createdAt}) into ${where} in ${seconds(report.tookMs)}: ${tables} tables with row counts matching the backup, ${report.blobs} blobs, ${report.files} kept files.`,
  ];
  for (const warning of report.warnings) lines.push(`Warning: ${warning}`);
  if (request.target.kind === 'data-dir') {
    lines.push(
      report.keyCopiedTo
        ? `The master key (from ${request.key.file}) was copied to ${report.keyCopiedTo}; keep a copy apart from the data directory.`
        : `The master key came from ${request.key.provider.source}: start Candor on this directory with the same key.`,
    );
    lines.push(`Start it with: CANDOR_DATA_DIR=${request.target.dir} npx candor start`);
  } else {
    lines.push('Start Candor with this DATABASE_URL and the same master key (roles and policies were re-applied).');
  }
  lines.push(`Archive: ${formatBytes(m.parts.reduce((s, p) => s + p.storedSize, 0))} of parts read and checked.`);
  return lines;
}
