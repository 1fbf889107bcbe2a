// Backup figures: `candor backup` of a data set (mostly stored files, plus the embedded database) beside
// `tar -cf - <same files> | sha256sum` over the same bytes in the same run (taking turns, three rounds, medians),
// and the time a restore takes.
// CANDOR_BENCH_BACKUP_MB sets the data set's size (default 1024); everything lives in a temp directory.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { ensureDataDir, loadConfig } from '../src/config.ts';
import { formatBytes } from '../src/modules/backups/backup.ts';
import { restoreBackup } from '../src/modules/backups/restore.ts';
import { runBackup } from '../src/modules/backups/service.ts';
import { archiveStorage } from '../src/modules/backups/storage.ts';
import { createTenant } from '../src/modules/tenants/service.ts';
import { bufferedIO } from '../src/platform/cli/io.ts';
import type { Actor } from '../src/platform/context.ts';
import { localMasterKey } from '../src/platform/crypto/master-key.ts';
import { closeRuntime, createRuntime } from '../src/runtime.ts';

export const TARGET_RATIO = 0.5;
const BLOB_BYTES = 8 * 1024 * 1024;
const ROUNDS = 3;

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
}

export interface BackupFigure {
  label: string;
  line: string;
  targetMet?: boolean;
}

/** `tar -cf - <dirs> | sha256sum` in `cwd`; resolves with the milliseconds it took. */
function tarSha256(cwd: string, dirs: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', `tar -cf - ${dirs.join(' ')} | sha256sum > /dev/null`], { cwd, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`tar | sha256sum exited ${code}`)),
    );
  });
}

const mibPerSecond = (bytes: number, ms: number) => `${Math.round(bytes / 1024 / 1024 / (ms / 1000))} MiB/s`;

export async function backupFigures(progress: (message: string) => void): Promise<BackupFigure[]> {
  const megabytes = Number(process.env.CANDOR_BENCH_BACKUP_MB ?? 1024);
  const workDir = mkdtempSync(path.join(tmpdir(), 'candor-bench-backup-'));
  try {
    const dataDir = path.join(workDir, 'data');
    ensureDataDir(dataDir);
    const config = { ...loadConfig({ CANDOR_DATA_DIR: dataDir }), logLevel: 'silent' as const };
    const master = localMasterKey(randomBytes(32), 'bench');
    const runtime = await createRuntime(config, { log: pino({ level: 'silent' }), masterKey: master });
    let archive: string;
    let archiveBytes: number;
    let candorMs: number;
    let referenceMs: number;
    try {
      await runtime.jobs.start({ work: false });
      const actor: Actor = { kind: 'system', name: 'bench' };
      const tenant = await createTenant(runtime.db, { slug: 'bench', name: 'Bench' }, { audit: runtime.audit, actor });
      const count = Math.max(1, Math.round((megabytes * 1024 * 1024) / BLOB_BYTES));
      progress(`backup: writing ${count} files of ${formatBytes(BLOB_BYTES)} through the blob store`);
      const content = randomBytes(BLOB_BYTES);
      for (let i = 0; i < count; i++) {
        content.writeUInt32BE(i, 0); // distinct files
        await runtime.db.withTenant(tenant.id, (tx) =>
          runtime.blobs.put(tx, tenant.id, content, { category: 'evidence', contentType: 'application/octet-stream' }),
        );
      }
      // Warm the page cache once, so neither side pays for the first read from disk.
      await tarSha256(dataDir, ['blobs', 'pgdata']);
      // The two take turns over a few rounds and each keeps its median: one run of either drifts by a third
      // on this shared machine.
      const candorRuns: number[] = [];
      const referenceRuns: number[] = [];
      let row: Awaited<ReturnType<typeof runBackup>> | undefined;
      for (let round = 1; round <= ROUNDS; round++) {
        progress(`backup: round ${round} of ${ROUNDS}: candor backup, then tar | sha256sum over the same files`);
        const started = performance.now();
        row = await runBackup(runtime, { trigger: 'cli', destination: path.join(workDir, 'archives') });
        candorRuns.push(performance.now() - started);
        rmSync(path.join(workDir, 'archives'), { recursive: true, force: true }); // the reference writes nothing either
        referenceRuns.push(await tarSha256(dataDir, ['blobs', 'pgdata']));
      }
      candorMs = median(candorRuns);
      referenceMs = median(referenceRuns);
      // A second archive to restore (the first was removed to leave the disk as the reference found it).
      const again = await runBackup(runtime, { trigger: 'cli', destination: path.join(workDir, 'archives') });
      archive = again.location ?? '';
      archiveBytes = again.size ?? row?.size ?? 0;
    } finally {
      await closeRuntime(runtime);
    }
    progress('backup: candor restore into a new data directory');
    const report = await restoreBackup({
      location: archive,
      target: { kind: 'data-dir', dir: path.join(workDir, 'restored') },
      key: { provider: master },
      blobSettings: { kind: 'local', dir: undefined },
      dataDir: path.join(workDir, 'restored'),
      storage: archiveStorage(),
      io: bufferedIO(),
    });
    const ratio = referenceMs / candorMs;
    const met = ratio >= TARGET_RATIO;
    return [
      {
        label: 'backup throughput',
        targetMet: met,
        line:
          `backup of ${formatBytes(archiveBytes)} (median of ${ROUNDS} alternating runs): candor ${(candorMs / 1000).toFixed(1)} s (${mibPerSecond(archiveBytes, candorMs)}), ` +
          `tar | sha256sum ${(referenceMs / 1000).toFixed(1)} s (${mibPerSecond(archiveBytes, referenceMs)}): ` +
          `candor/reference = ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}) ${met ? 'PASS' : 'MISS'}`,
      },
      {
        label: 'restore time',
        line: `restore of the same backup into a new data directory: ${(report.tookMs / 1000).toFixed(1)} s (${mibPerSecond(archiveBytes, report.tookMs)}, ${report.blobs} files, row counts checked)`,
      },
    ];
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

// `node --import tsx bench/backup.ts` runs this benchmark alone (CANDOR_BENCH_BACKUP_MB=64 for a quick look).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const figure of await backupFigures((message) => process.stderr.write(`bench: ${message}\n`))) console.log(figure.line);
}
