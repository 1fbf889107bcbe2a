import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CommandIO } from '../../platform/cli/io.ts';
import { startProgress } from '../../platform/cli/progress.ts';
import type { Runtime } from '../../platform/context.ts';
import { KEY_BYTES } from '../../platform/crypto/envelope.ts';
import { type BlobDriver, BlobObjectMissing, type BlobReader } from '../../platform/storage/blob-store.ts';
import { ArchiveWriter, deriveArchiveKeys, type WrittenPart } from './archive.ts';
import { dumpDatabase } from './database.ts';
import { BLOB_PART_PREFIX, DATABASE_PART, FILE_PART_PREFIX, type Manifest, type ManifestBody } from './schema.ts';
import { type ArchiveStorage, archiveFileName, type BackupDestination, openUpload } from './storage.ts';
import type { BlobRef } from './store.ts';

export const CANDOR_VERSION = '0.1.0';

/** The context a master key wraps an archive key under: an archive key unwraps only for its own backup. */
export function archiveKeyContext(backupId: string): string {
  return `backup/${backupId}`;
}

/** Folders of the data directory whose files belong in a backup (kept mail; keys and TLS never). */
const DATA_DIR_FOLDERS = ['mail'];

export interface BackupRequest {
  id: string;
  createdAt: Date;
  destination: BackupDestination;
  storage: ArchiveStorage;
  /** Progress on a terminal (the `backup` command). */
  io?: CommandIO | undefined;
}

export interface WrittenBackup {
  location: string;
  size: number;
  manifest: Manifest;
  /** Blobs that were missing or damaged in the blob store: the backup holds everything else. */
  warnings: string[];
}

/**
 * Writes one encrypted archive: the database dump, every recorded blob as stored, the data directory's
 * kept files, and the manifest. Nothing appears at the destination unless the whole archive was written.
 */
export async function writeBackup(runtime: Runtime, request: BackupRequest): Promise<WrittenBackup> {
  const archiveKey = randomBytes(KEY_BYTES);
  const wrappedKey = await runtime.keys.master.wrap(archiveKey, archiveKeyContext(request.id));
  const upload = await openUpload(request.storage, request.destination, archiveFileName(request.createdAt, request.id));
  let opened: ArchiveWriter | undefined;
  try {
    const writer = new ArchiveWriter(upload, deriveArchiveKeys(archiveKey, request.id));
    opened = writer;
    await writer.start();
    const started = Date.now();
    const snapshot = await dumpDatabase(runtime.db, runtime.config.databaseUrl, (dump) => writer.addPart(DATABASE_PART, dump));
    request.io?.err(`Database dumped (${formatBytes(writer.size)}) in ${seconds(Date.now() - started)}.`);
    const warnings: string[] = [];
    const files = await dataDirFiles(runtime.config.dataDir);
    const total = snapshot.blobs.reduce((sum, b) => sum + b.storedSize, 0) + files.reduce((sum, f) => sum + f.size, 0);
    const progress = request.io ? startProgress(request.io, 'Backing up files', total, 'bytes') : undefined;
    const blobs = await copyBlobs(writer, runtime.blobs.driver, snapshot.blobs, warnings, (n) => progress?.advance(n));
    const copiedFiles: ManifestBody['files'] = [];
    for (const file of files) {
      const part = `${FILE_PART_PREFIX}${file.relative}`;
      await writer.addPart(part, createReadStream(file.absolute), { onBytes: (count) => progress?.advance(count) });
      copiedFiles.push({ part, path: file.relative });
    }
    progress?.finish();
    const { manifest, size } = await writer.finish({
      format: 'candor-backup',
      version: 1,
      id: request.id,
      createdAt: request.createdAt.toISOString(),
      candorVersion: CANDOR_VERSION,
      engine: runtime.db.engine,
      masterKeyId: runtime.keys.master.id,
      wrappedKey: wrappedKey.toString('base64'),
      chunkBytes: 1024 * 1024,
      database: { part: DATABASE_PART, format: snapshot.format, serverVersion: snapshot.serverVersion },
      rowCounts: snapshot.rowCounts,
      blobs,
      files: copiedFiles,
    });
    const location = await upload.commit();
    return { location, size, manifest, warnings };
  } catch (error) {
    await upload.abort();
    throw error;
  } finally {
    await opened?.close();
  }
}

/** A reader of an object's bytes, or undefined when the blob store no longer has it. */
async function openBlob(driver: BlobDriver, ref: BlobRef): Promise<BlobReader | undefined> {
  try {
    return await driver.openReader(ref.key);
  } catch (error) {
    if (error instanceof BlobObjectMissing) return undefined;
    throw error;
  }
}

/**
 * Copies each recorded blob's stored bytes as a part, checking them against the size and SHA-256 the
 * database recorded. A missing or damaged object becomes a warning (the rest of the backup still counts).
 */
async function copyBlobs(
  writer: ArchiveWriter,
  driver: BlobDriver,
  refs: BlobRef[],
  warnings: string[],
  advance: (bytes: number) => void,
): Promise<ManifestBody['blobs']> {
  const copied: ManifestBody['blobs'] = [];
  for (const ref of refs) {
    const reader = await openBlob(driver, ref);
    if (!reader) {
      warnings.push(`blob ${ref.key} is missing from the blob store (${driver.location})`);
      continue;
    }
    const part = `${BLOB_PART_PREFIX}${ref.key}`;
    let written: WrittenPart;
    try {
      written = await writer.addPart(part, reader, { digestPlaintext: true, onBytes: advance });
    } finally {
      await reader.close();
    }
    if (written.plaintextBytes !== ref.storedSize || written.plaintextSha256 !== ref.storedSha256) {
      warnings.push(`blob ${ref.key} does not match its recorded size and SHA-256 (damaged in the blob store)`);
    }
    copied.push({ part, key: ref.key, storedSize: ref.storedSize, storedSha256: ref.storedSha256 });
  }
  return copied;
}

interface DataDirFile {
  absolute: string;
  relative: string;
  size: number;
}

async function dataDirFiles(dataDir: string): Promise<DataDirFile[]> {
  const found: DataDirFile[] = [];
  const walk = async (relative: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(path.join(dataDir, relative), { withFileTypes: true });
    } catch {
      return; // the folder does not exist (yet)
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      // Temporary files of writes in progress start with a dot.
      if (entry.name.startsWith('.')) continue;
      const child = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile())
        found.push({ absolute: path.join(dataDir, child), relative: child, size: (await stat(path.join(dataDir, child))).size });
    }
  };
  for (const folder of DATA_DIR_FOLDERS) await walk(folder);
  return found;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
