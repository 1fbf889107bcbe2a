import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config.ts';
import { type CommandValues, type DatabaseCommand, optionText } from '../../platform/cli/command.ts';
import { type CommandIO, UsageError } from '../../platform/cli/io.ts';
import { GENERATED_KEY_FILE, localMasterKey, masterKeyFromFile, parseMasterKey } from '../../platform/crypto/master-key.ts';
import { formatBytes, seconds } from './backup.ts';
import { describeRestore, type MasterKeySource, type RestoreTarget, restoreBackup } from './restore.ts';
import { isS3Url } from './schema.ts';
import { runBackup } from './service.ts';
import { archiveStorage, readArchive } from './storage.ts';
import { describeVerification, verifyArchive } from './verify.ts';

/**
 * The master key for a command that runs without the database: --master-key-file, CANDOR_MASTER_KEY,
 * CANDOR_MASTER_KEY_FILE, or the data directory's generated key, in that order.
 */
function masterKeySource(values: CommandValues, config: Config): MasterKeySource | undefined {
  const given = optionText(values, 'master-key-file', false);
  if (given) return { provider: masterKeyFromFile(path.resolve(given)), file: path.resolve(given) };
  if (config.masterKey)
    return { provider: localMasterKey(parseMasterKey(config.masterKey, 'CANDOR_MASTER_KEY'), 'CANDOR_MASTER_KEY') };
  if (config.masterKeyFile) return { provider: masterKeyFromFile(config.masterKeyFile), file: config.masterKeyFile };
  const generated = path.join(config.dataDir, GENERATED_KEY_FILE);
  if (existsSync(generated)) return { provider: masterKeyFromFile(generated), file: generated };
  return undefined;
}

/** An archive named on the command line: a local path (relative to here) or s3://bucket/key. */
function archiveLocation(values: CommandValues, command: string): string {
  const given = optionText(values, 'file', false);
  if (!given) throw new UsageError(`give the backup archive to ${command} (see candor ${command} --help)`);
  if (given.startsWith('s3://')) {
    if (!isS3Url(given) || given.slice(5).split('/').filter(Boolean).length < 2)
      throw new UsageError(`${given} is not an s3://bucket/key URL`);
    return given;
  }
  return path.resolve(given);
}

function onlyStandalone(name: string): DatabaseCommand['run'] {
  return async () => {
    throw new UsageError(`candor ${name} runs in the command line's own process, not inside a server`);
  };
}

const backupCommand: DatabaseCommand = {
  name: 'backup',
  summary: 'Write an encrypted backup of the database and every file',
  usage: `candor backup [--to DIR | --to s3://bucket/prefix]

  --to   where to write the archive (default: the destination set on /admin/backups, else <data>/backups)

Writes one encrypted archive (candor-backup-<time>-<id>.cbk): a dump of the whole database, every stored
file (blob) as stored, the kept mail of the data directory, and a manifest with a SHA-256 per part. Prints
the archive's location on standard output; a progress bar on a terminal. The archive can be read only
with the master key: keep the master key backed up separately. S3 credentials and endpoint come from
CANDOR_BACKUP_S3_* (see docs/backups.md).`,
  options: { to: { type: 'string' } },
  pathOptions: ['to'],
  async run(runtime, values, io) {
    const to = optionText(values, 'to', false);
    const started = Date.now();
    const row = await runBackup(runtime, { trigger: 'cli', requestedBy: 'cli', destination: to, io });
    io.out(row.location ?? '');
    io.err(
      `Backup ${row.id}: ${formatBytes(row.size ?? 0)}, ${row.blobCount ?? 0} blobs, digest ${row.digest?.slice(0, 16)}…, in ${seconds(Date.now() - started)}.`,
    );
    for (const warning of row.warnings) io.err(`Warning: ${warning}`);
  },
};

const backupVerifyCommand: DatabaseCommand = {
  name: 'backup verify',
  summary: 'Check a backup archive part by part',
  usage: `candor backup verify PATH [--master-key-file FILE] [--checksums-only]

  PATH               a backup archive (.cbk), or s3://bucket/key
  --master-key-file  the master key (base64 in a file); default CANDOR_MASTER_KEY, CANDOR_MASTER_KEY_FILE,
                     or <data>/master.key when present
  --checksums-only   do not use a master key even if one is configured

Reads the whole archive and checks its structure, every part's SHA-256 against the manifest and the
whole-archive digest; with the master key also the manifest's signature (MAC). Needs no database, so a copy
can be checked on any machine. Exits 0 when the archive is intact; otherwise 1 naming the damaged part.`,
  options: { file: { type: 'string' }, 'master-key-file': { type: 'string' }, 'checksums-only': { type: 'boolean' } },
  positional: 'file',
  async standalone(values, io, config) {
    const location = archiveLocation(values, 'backup verify');
    const key = values['checksums-only'] ? undefined : masterKeySource(values, config);
    const report = await verifyArchive(await readArchive(archiveStorage(), location), { master: key?.provider });
    const line = describeVerification(report, location);
    if (!report.ok) {
      for (const problem of report.problems.slice(1)) io.err(`  also: ${problem}`);
      throw new Error(line);
    }
    io.out(line);
    return true;
  },
  run: onlyStandalone('backup verify'),
};

function restoreTarget(values: CommandValues): RestoreTarget {
  const into = optionText(values, 'into', false);
  const url = optionText(values, 'database-url', false);
  if (into && url) throw new UsageError('give either --into DATA_DIR or --database-url URL, not both');
  if (into) return { kind: 'data-dir', dir: path.resolve(into) };
  if (!url) throw new UsageError('give the target: --into DATA_DIR (embedded) or --database-url URL (PostgreSQL)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('--database-url must be a postgres://user@host:port/database URL');
  }
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol) || parsed.pathname.length < 2) {
    throw new UsageError('--database-url must be a postgres://user@host:port/database URL');
  }
  return { kind: 'postgres', url };
}

async function restore(values: CommandValues, io: CommandIO, config: Config): Promise<void> {
  const location = archiveLocation(values, 'restore');
  const target = restoreTarget(values);
  const key = masterKeySource(values, config);
  if (!key) {
    throw new UsageError(
      'restore needs the master key the backup was made with: set CANDOR_MASTER_KEY or CANDOR_MASTER_KEY_FILE, or pass --master-key-file FILE',
    );
  }
  const request = { location, target, key, blobSettings: config.blobs, dataDir: config.dataDir, storage: archiveStorage(), io };
  const report = await restoreBackup(request);
  for (const line of describeRestore(report, request)) io.out(line);
}

const restoreCommand: DatabaseCommand = {
  name: 'restore',
  summary: 'Restore a backup into an empty data directory or database',
  usage: `candor restore PATH --into DATA_DIR [--master-key-file FILE]
candor restore PATH --database-url URL [--master-key-file FILE]

  PATH               a backup archive (.cbk), or s3://bucket/key
  --into             a new or empty data directory, for a backup of the embedded database
  --database-url     an empty PostgreSQL database (no tables), for a backup made on PostgreSQL
  --master-key-file  the master key (base64 in a file); default CANDOR_MASTER_KEY, CANDOR_MASTER_KEY_FILE,
                     or <data>/master.key when present

Checks and decrypts every part while it restores, puts the blobs into the blob store configured for the
target (for --into by default <DATA_DIR>/blobs), compares the row counts of every table with the backup and
prints the time it took. A target that holds data is refused and left as it was; a failed restore leaves
nothing behind. A key read from a file is copied into the new data directory as master.key.`,
  options: {
    file: { type: 'string' },
    into: { type: 'string' },
    'database-url': { type: 'string' },
    'master-key-file': { type: 'string' },
  },
  positional: 'file',
  async standalone(values, io, config) {
    await restore(values, io, config);
    return true;
  },
  run: onlyStandalone('restore'),
};

export const backupsCommands: DatabaseCommand[] = [backupCommand, backupVerifyCommand, restoreCommand];
