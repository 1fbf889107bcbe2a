import { createHash } from 'node:crypto';
import { ArchiveDamaged, type ArchiveKeys, checkAgainstManifest, chunkOpener, scanArchive } from './archive.ts';
import { compareRowCounts, type DatabaseTarget } from './database.ts';
import type { Manifest } from './schema.ts';

/** Where a replay puts what it decrypts. A drill passes no blob or file target: it only checks them. */
export interface ReplayTargets {
  database: DatabaseTarget;
  blob?(key: string, storedBytes: Buffer): Promise<void>;
  file?(relativePath: string, bytes: Buffer): Promise<void>;
  progress?(storedBytes: number): void;
}

export interface ReplayResult {
  rowCounts: Record<string, number>;
  blobs: number;
  files: number;
  /** Blobs whose bytes did not match their recorded digest already when the backup was made. */
  warnings: string[];
}

type PartRole = { kind: 'database' } | { kind: 'blob'; key: string; storedSha256: string } | { kind: 'file'; path: string };

function roles(manifest: Manifest): Map<string, PartRole> {
  const map = new Map<string, PartRole>([[manifest.database.part, { kind: 'database' }]]);
  for (const blob of manifest.blobs) map.set(blob.part, { kind: 'blob', key: blob.key, storedSha256: blob.storedSha256 });
  for (const file of manifest.files) map.set(file.part, { kind: 'file', path: file.path });
  return map;
}

/**
 * Decrypts an archive in one pass into the targets, under a manifest already authenticated with the
 * archive keys. Each part is checked against the manifest as it ends and each chunk by its GCM tag, so a
 * damaged archive stops the replay (the database target is aborted; the caller removes what was written).
 * Succeeds only when the restored database's row counts equal the manifest's.
 */
export async function replayArchive(
  source: AsyncIterable<Uint8Array>,
  manifest: Manifest,
  keys: ArchiveKeys,
  targets: ReplayTargets,
): Promise<ReplayResult> {
  const open = chunkOpener(keys);
  const byName = roles(manifest);
  const listedParts = new Map(manifest.parts.map((p) => [p.name, p]));
  const result: Omit<ReplayResult, 'rowCounts'> = { blobs: 0, files: 0, warnings: [] };
  let role: PartRole | undefined;
  let collected: Buffer[] = [];
  try {
    const scan = await scanArchive(source, {
      partStart(name, index) {
        if (manifest.parts[index]?.name !== name) throw new ArchiveDamaged(`part ${name}: not where the manifest lists it`, name);
        role = byName.get(name);
        if (!role) throw new ArchiveDamaged(`part ${name}: not a database, blob or file part of this backup`, name);
        collected = [];
      },
      async chunk(part, chunkIndex, sealed, final) {
        const plaintext = open(part, chunkIndex, sealed, final);
        targets.progress?.(sealed.length);
        if (role?.kind === 'database') await targets.database.write(plaintext);
        else collected.push(plaintext);
      },
      async partEnd(part) {
        const listed = listedParts.get(part.name);
        if (listed?.sha256 !== part.sha256 || listed.storedSize !== part.storedSize) {
          throw new ArchiveDamaged(`part ${part.name}: SHA-256 mismatch`, part.name);
        }
        const bytes = Buffer.concat(collected);
        collected = [];
        if (role?.kind === 'blob') {
          if (createHash('sha256').update(bytes).digest('hex') !== role.storedSha256) {
            result.warnings.push(`blob ${role.key} was already damaged in the blob store when the backup was made`);
          }
          await targets.blob?.(role.key, bytes);
          result.blobs++;
        } else if (role?.kind === 'file') {
          await targets.file?.(role.path, bytes);
          result.files++;
        }
      },
    });
    const { problems } = checkAgainstManifest(scan);
    if (problems.length > 0) throw new ArchiveDamaged(problems[0] ?? 'damaged');
    if (JSON.parse(scan.manifestJson).mac !== manifest.mac) throw new ArchiveDamaged('manifest: changed while it was being read');
  } catch (error) {
    await targets.database.abort();
    throw error;
  }
  const rowCounts = await targets.database.finish();
  const differences = compareRowCounts(manifest.rowCounts, rowCounts);
  if (differences.length > 0) throw new RowCountMismatch(differences);
  return { rowCounts, ...result };
}

/** The restored database does not hold the rows the backup counted. */
export class RowCountMismatch extends Error {
  override name = 'RowCountMismatch';
  constructor(readonly differences: string[]) {
    super(
      `row counts differ from the backup: ${differences.slice(0, 3).join('; ')}${differences.length > 3 ? ` (and ${differences.length - 3} more)` : ''}`,
    );
  }
}
