import type { MasterKeyProvider } from '../../platform/crypto/master-key.ts';
import {
  ArchiveDamaged,
  type ArchiveKeys,
  type ChunkVisitor,
  checkAgainstManifest,
  deriveArchiveKeys,
  manifestAuthentic,
  scanArchive,
} from './archive.ts';
import { archiveKeyContext, formatBytes } from './backup.ts';
import type { Manifest } from './schema.ts';

/** The master key at hand cannot open this backup. */
export class BackupKeyMismatch extends Error {
  override name = 'BackupKeyMismatch';
}

export interface VerifyOptions {
  /** With the master key, the manifest's MAC is checked too (it proves who made the archive). */
  master?: MasterKeyProvider | undefined;
  /** The whole-archive digest recorded when the backup was made: another valid archive in its place fails. */
  expectedDigest?: string | null | undefined;
  /**
   * A backup made before the master key was rotated is still checked part by part (its MAC needs the old
   * key): the daily verification passes it with a note instead of failing it.
   */
  allowEarlierKey?: boolean;
}

export interface VerifyReport {
  ok: boolean;
  /** Each problem names its part; empty when ok. */
  problems: string[];
  manifest?: Manifest;
  /** Whether the manifest's MAC was checked (and held). */
  authenticated: boolean;
  size: number;
  /** Set when the backup was made with another master key and `allowEarlierKey` let it pass unauthenticated. */
  earlierKey?: string;
}

/** Unwraps the archive key with the master key; a key that is not the backup's own is refused by name. */
export async function unlockArchive(manifest: Manifest, master: MasterKeyProvider): Promise<ArchiveKeys> {
  if (manifest.masterKeyId !== master.id) {
    throw new BackupKeyMismatch(
      `this backup was made with master key ${manifest.masterKeyId}; the key from ${master.source} is ${master.id}`,
    );
  }
  try {
    const archiveKey = await master.unwrap(Buffer.from(manifest.wrappedKey, 'base64'), archiveKeyContext(manifest.id));
    return deriveArchiveKeys(archiveKey, manifest.id);
  } catch {
    throw new BackupKeyMismatch(`the master key from ${master.source} does not open this backup's archive key`);
  }
}

/**
 * Reads a whole archive and checks it: structure, every part's SHA-256 against the manifest, the whole
 * digest, and (with the master key) the manifest's MAC. `visitor` sees the chunks as they pass (a restore
 * drill decrypts them in the same read).
 */
export async function verifyArchive(
  source: AsyncIterable<Uint8Array>,
  options: VerifyOptions = {},
  visitor?: ChunkVisitor,
): Promise<VerifyReport> {
  let scan: Awaited<ReturnType<typeof scanArchive>>;
  try {
    scan = await scanArchive(source, visitor);
  } catch (error) {
    if (error instanceof ArchiveDamaged) return { ok: false, problems: [error.message], authenticated: false, size: 0 };
    throw error;
  }
  const { manifest, problems } = checkAgainstManifest(scan);
  let authenticated = false;
  let earlierKey: string | undefined;
  if (manifest && options.master && options.allowEarlierKey && manifest.masterKeyId !== options.master.id) {
    earlierKey = manifest.masterKeyId;
  } else if (manifest && options.master) {
    try {
      authenticated = manifestAuthentic(manifest, await unlockArchive(manifest, options.master));
      if (!authenticated) problems.push('manifest: authentication failed (it was altered after the backup was made)');
    } catch (error) {
      if (!(error instanceof BackupKeyMismatch)) throw error;
      problems.push(error.message);
    }
  }
  if (manifest && options.expectedDigest && manifest.digest !== options.expectedDigest) {
    problems.push(
      `archive digest ${manifest.digest.slice(0, 16)}… is not the ${options.expectedDigest.slice(0, 16)}… recorded when the backup was made`,
    );
  }
  return {
    ok: problems.length === 0,
    problems,
    ...(manifest ? { manifest } : {}),
    authenticated,
    size: scan.size,
    ...(earlierKey ? { earlierKey } : {}),
  };
}

/** One line for a person: what was checked, or the first problem (the others follow on the next lines). */
export function describeVerification(report: VerifyReport, where: string): string {
  if (!report.ok) {
    const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem(s))` : '';
    return `${where}: FAILED: ${report.problems[0]}${more}`;
  }
  const m = report.manifest;
  const what = m
    ? `${m.parts.length} parts, ${m.blobs.length} blobs, ${formatBytes(report.size)}, digest ${m.digest.slice(0, 16)}…`
    : '';
  const auth = report.authenticated
    ? 'manifest authenticated with the master key'
    : 'manifest NOT authenticated (no master key given)';
  return `${where}: OK: ${what}; ${auth}`;
}
