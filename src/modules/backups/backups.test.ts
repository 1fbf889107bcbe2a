import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { databaseUrl, testEngine } from '../../../test/db.ts';
import { testMasterKey } from '../../../test/keys.ts';
import { bufferedIO } from '../../platform/cli/io.ts';
import { localMasterKey } from '../../platform/crypto/master-key.ts';
import { openDatabase } from '../../platform/db/client.ts';
import { mailOutbox } from '../../platform/mail/tables.ts';
import { peekManifest } from './archive.ts';
import { backupJobDefinitions } from './jobs.ts';
import { RestoreRefused, type RestoreTarget, restoreBackup } from './restore.ts';
import {
  applyRetention,
  type BackupRow,
  backupsToKeep,
  readBackupSettings,
  runBackup,
  runRestoreDrill,
  runScheduledBackup,
  verifyStoredBackups,
} from './service.ts';
import { archiveRangeReader, archiveStorage, readArchive } from './storage.ts';
import { findBackup, insertBackup, recentEvents, updateBackup, writeSettingsRow } from './store.ts';
import { verifyArchive } from './verify.ts';

let t: TestApp;
let clock: TestClock;
let work: string;
let blobId: string;
const blobContent = randomBytes(300_000);
const OWNER = 'backup-owner@acme.test';

async function saveSettings(changes: Record<string, unknown>): Promise<void> {
  const current = await readBackupSettings(t.runtime.db);
  await t.runtime.db.withSystem((tx) => writeSettingsRow(tx, { ...current, ...changes }, new Date(), 'test'));
}

async function backupMail(): Promise<{ to: string[]; subject: string; text: string }[]> {
  const rows = await t.runtime.db.withSystem((tx) => tx.select().from(mailOutbox));
  return rows.filter((r) => r.subject.startsWith('[Candor backups]'));
}

/** A new, empty PostgreSQL database beside the test's own (dropped at the end). */
const scratchDatabases: string[] = [];
async function emptyDatabase(): Promise<string> {
  const base = process.env.TEST_DATABASE_URL as string;
  const name = `candor_restore_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  scratchDatabases.push(name);
  return databaseUrl(base, name);
}

beforeAll(async () => {
  clock = new TestClock(new Date('2025-03-10T02:30:00Z'));
  t = await createTestApp({ clock });
  work = mkdtempSync(path.join(tmpdir(), 'candor-backups-'));
  const blob = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
    t.runtime.blobs.put(tx, t.tenant.id, blobContent, {
      category: 'test-file',
      contentType: 'application/octet-stream',
      filename: 'evidence.bin',
    }),
  );
  blobId = blob.id;
  // Mail kept as .eml (no SMTP) is part of the data directory and of its backups.
  mkdirSync(path.join(t.dataDir, 'mail', t.tenant.id), { recursive: true });
  writeFileSync(path.join(t.dataDir, 'mail', t.tenant.id, 'kept.eml'), 'Subject: kept\r\n\r\nhello\r\n');
  await saveSettings({ ownerEmail: OWNER });
});

afterAll(async () => {
  await t.close();
  rmSync(work, { recursive: true, force: true });
  if (scratchDatabases.length > 0) {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    for (const name of scratchDatabases) await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
});

describe('taking a backup', () => {
  let row: BackupRow;

  beforeAll(async () => {
    row = await runBackup(t.runtime, { trigger: 'cli', destination: path.join(work, 'one') });
  });

  it('writes one archive with the database, every blob and the kept mail, and records it', async () => {
    expect(row.status).toBe('ok');
    expect(row.location).toMatch(/\/one\/candor-backup-20250310T023000Z-[0-9a-f]{8}\.cbk$/);
    expect(existsSync(row.location as string)).toBe(true);
    const manifest = await peekManifest(await archiveRangeReader(archiveStorage(), row.location as string));
    expect(manifest.engine).toBe(testEngine);
    expect(manifest.database.format).toBe(testEngine === 'pglite' ? 'pglite-data-dir.tar.gz' : 'pg_dump-custom');
    expect(manifest.blobs).toEqual([
      expect.objectContaining({ key: `${t.tenant.id}/${blobId}`, part: `blobs/${t.tenant.id}/${blobId}` }),
    ]);
    expect(manifest.files).toEqual([{ part: `files/mail/${t.tenant.id}/kept.eml`, path: `mail/${t.tenant.id}/kept.eml` }]);
    expect(manifest.rowCounts.tenants).toBe(1);
    expect(manifest.rowCounts.blobs).toBe(1);
    // The backup's own row is in its snapshot (still running then).
    expect(manifest.rowCounts.backups).toBeGreaterThanOrEqual(1);
    expect(manifest.masterKeyId).toBe(testMasterKey.id);
    expect(row.digest).toBe(manifest.digest);
    expect(row.rowCounts).toEqual(manifest.rowCounts);
  });

  it('leaves no readable secret in the archive: the blob and the dump are encrypted', async () => {
    const bytes = readFileSync(row.location as string);
    expect(bytes.includes(blobContent.subarray(1000, 1064))).toBe(false);
    expect(bytes.includes(Buffer.from('Acme Corp'))).toBe(false);
    expect(bytes.includes(Buffer.from('hello'))).toBe(false);
  });

  it('verifies part by part, with the manifest authenticated by the master key', async () => {
    const report = await verifyArchive(await readArchive(archiveStorage(), row.location as string), {
      master: testMasterKey,
      expectedDigest: row.digest,
    });
    expect(report.problems).toEqual([]);
    expect(report.authenticated).toBe(true);
  });

  it('restores into an empty target with every row, blob and file, and refuses a non-empty one', async () => {
    const target: RestoreTarget =
      testEngine === 'pglite'
        ? { kind: 'data-dir', dir: path.join(work, 'restored') }
        : { kind: 'postgres', url: await emptyDatabase() };
    const blobDir = path.join(work, 'restored-blobs');
    const request = {
      location: row.location as string,
      target,
      key: { provider: testMasterKey },
      // With PostgreSQL, blobs go to the configured store: here a folder of their own.
      blobSettings: { kind: 'local' as const, dir: testEngine === 'pglite' ? undefined : blobDir },
      dataDir: path.join(work, 'restored-data'),
      storage: archiveStorage(),
      io: bufferedIO(),
    };
    const report = await restoreBackup(request);
    expect(report.blobs).toBe(1);
    expect(report.files).toBe(1);
    expect(report.rowCounts).toEqual(row.rowCounts);
    const keptMail = path.join(target.kind === 'data-dir' ? target.dir : request.dataDir, 'mail', t.tenant.id, 'kept.eml');
    expect(readFileSync(keptMail, 'utf8')).toContain('hello');
    const storedBlob = path.join(target.kind === 'data-dir' ? path.join(target.dir, 'blobs') : blobDir, t.tenant.id, blobId);
    expect(existsSync(storedBlob)).toBe(true);

    // The restored copy knows this backup as finished, not as the "running" row of its snapshot.
    const restored = await openDatabase(
      target.kind === 'data-dir'
        ? { engine: 'pglite', dataDir: target.dir }
        : { engine: 'postgres', url: target.url, poolSize: 1 },
    );
    try {
      const { rows } = await restored.query<{ status: string; location: string }>(
        'select status, location from backups where id = $1',
        [row.id],
      );
      expect(rows).toEqual([{ status: 'ok', location: row.location }]);
    } finally {
      await restored.close();
    }

    // Again into the same, now full, target: refused, and nothing changes.
    await expect(restoreBackup(request)).rejects.toThrow(RestoreRefused);
    await expect(restoreBackup(request)).rejects.toThrow(/is not empty/);
  });

  it('refuses a master key other than the backup’s own before touching the target', async () => {
    const dir = path.join(work, 'wrong-key');
    const other = localMasterKey(Buffer.alloc(32, 3), 'other.key');
    const target: RestoreTarget =
      testEngine === 'pglite' ? { kind: 'data-dir', dir } : { kind: 'postgres', url: await emptyDatabase() };
    await expect(
      restoreBackup({
        location: row.location as string,
        target,
        key: { provider: other },
        blobSettings: { kind: 'local', dir: undefined },
        dataDir: path.join(work, 'wrong-key-data'),
        storage: archiveStorage(),
        io: bufferedIO(),
      }),
    ).rejects.toThrow(`this backup was made with master key ${testMasterKey.id}; the key from other.key is ${other.id}`);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses to restore across engines', async () => {
    const target: RestoreTarget =
      testEngine === 'pglite'
        ? { kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none' }
        : { kind: 'data-dir', dir: path.join(work, 'cross') };
    const attempt = restoreBackup({
      location: row.location as string,
      target,
      key: { provider: testMasterKey },
      blobSettings: { kind: 'local', dir: undefined },
      dataDir: path.join(work, 'cross-data'),
      storage: archiveStorage(),
      io: bufferedIO(),
    });
    if (testEngine === 'pglite') await expect(attempt).rejects.toThrow(/cannot connect/);
    else await expect(attempt).rejects.toThrow(/can only be restored there \(with --database-url URL\)/);
  });
});

describe('daily verification', () => {
  it('marks intact backups verified, a deleted one missing and an altered one mismatching, and mails the owner once a day', async () => {
    const dir = path.join(work, 'verify');
    await saveSettings({ destination: dir });
    // A day apart: retention keeps one backup per day.
    const intact = await runBackup(t.runtime, { trigger: 'schedule' });
    clock.advance(86_400_000);
    const deleted = await runBackup(t.runtime, { trigger: 'manual' });
    clock.advance(86_400_000);
    const altered = await runBackup(t.runtime, { trigger: 'manual' });
    rmSync(deleted.location as string);
    const bytes = readFileSync(altered.location as string);
    const blobPart = bytes.indexOf(Buffer.from(`blobs/${t.tenant.id}/${blobId}`));
    bytes[blobPart + 5000] = (bytes[blobPart + 5000] ?? 0) ^ 0xff;
    writeFileSync(altered.location as string, bytes);

    const summary = await verifyStoredBackups(t.runtime);
    expect(summary.failed).toEqual(
      expect.arrayContaining([
        { id: deleted.id, status: 'missing', detail: `${deleted.location} does not exist` },
        { id: altered.id, status: 'mismatch', detail: `part blobs/${t.tenant.id}/${blobId}: SHA-256 mismatch` },
      ]),
    );
    expect(summary.failed.map((f) => f.id)).not.toContain(intact.id);
    const mails = await backupMail();
    expect(mails).toHaveLength(2);
    expect(mails.map((m) => m.subject)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/backup of .* is damaged$/),
        expect.stringMatching(/backup of .* is missing$/),
      ]),
    );
    expect(mails.every((m) => m.to.join() === OWNER)).toBe(true);
    expect(mails.find((m) => m.subject.endsWith('damaged'))?.text).toContain(
      `part blobs/${t.tenant.id}/${blobId}: SHA-256 mismatch`,
    );

    // The next run the same day mails nothing new; the page's health says what is wrong.
    await verifyStoredBackups(t.runtime);
    expect(await backupMail()).toHaveLength(2);
    const events = await t.runtime.db.withSystem((tx) => recentEvents(tx, 50));
    expect(events.filter((e) => e.kind === 'verify' && e.outcome === 'problem').length).toBeGreaterThanOrEqual(4);

    // Leave only intact backups for the tests that follow.
    for (const id of [deleted.id, altered.id])
      await t.runtime.db.withSystem((tx) => updateBackup(tx, id, { status: 'deleted', deletedAt: clock.now() }));
  });

  it('notices a schedule that stopped producing backups, and backups whose process died', async () => {
    const stuck = await t.runtime.db.withSystem((tx) =>
      insertBackup(tx, {
        id: crypto.randomUUID(),
        status: 'running',
        trigger: 'schedule',
        destination: work,
        createdAt: clock.now(),
        startedAt: clock.now(),
      }),
    );
    clock.advance(27 * 3_600_000);
    await verifyStoredBackups(t.runtime);
    const row = await t.runtime.db.withSystem((tx) => findBackup(tx, stuck.id));
    expect(row).toMatchObject({ status: 'failed', error: 'interrupted: the process ended before the backup finished' });
    const mails = await backupMail();
    expect(mails.find((m) => m.subject === '[Candor backups] no recent backup')?.text).toMatch(
      /^No backup has succeeded since 2025-03-12 02:30 UTC\./,
    );
  });

  it('records a failed backup and mails the owner', async () => {
    const blocked = path.join(work, 'not-a-directory');
    writeFileSync(blocked, 'x');
    await expect(runBackup(t.runtime, { trigger: 'cli', destination: blocked })).rejects.toThrow();
    const mails = await backupMail();
    expect(mails.some((m) => m.subject === '[Candor backups] a backup failed')).toBe(true);
  });
});

describe('schedules', () => {
  it('runs a daily backup, a daily verification and a monthly drill; the daily backup only when switched on', async () => {
    const jobs = backupJobDefinitions(t.runtime);
    expect([jobs.daily.cron, jobs.verify.cron, jobs.drill.cron]).toEqual(['30 2 * * *', '30 4 * * *', '0 5 1 * *']);
    await saveSettings({ scheduleEnabled: false });
    expect(await runScheduledBackup(t.runtime)).toBeUndefined();
    await saveSettings({ scheduleEnabled: true });
    const row = await runScheduledBackup(t.runtime);
    expect(row).toMatchObject({ status: 'ok', trigger: 'schedule', requestedBy: 'schedule' });
  });
});

describe('restore drill', () => {
  it('restores the newest good backup into a scratch database and records matching row counts', async () => {
    const outcome = await runRestoreDrill(t.runtime);
    expect(outcome.status).toBe('ok');
    expect(outcome.detail).toMatch(
      /restored into a scratch database in [\d.]+ s: \d+ tables, \d+ rows, counts match; 1 blobs decrypted and checked/,
    );
    const events = await t.runtime.db.withSystem((tx) => recentEvents(tx, 50));
    expect(events.find((e) => e.kind === 'drill')).toMatchObject({ outcome: 'ok', backupId: outcome.backupId });
  });
});

describe('retention', () => {
  it('keeps the newest backup of each of the last N days and M months', () => {
    const at = (iso: string, id: string) => ({ id, createdAt: new Date(iso) });
    const rows = [
      at('2025-03-10T12:00:00Z', 'mar10-noon'),
      at('2025-03-10T02:30:00Z', 'mar10-night'),
      at('2025-03-09T02:30:00Z', 'mar9'),
      at('2025-03-08T02:30:00Z', 'mar8'),
      at('2025-02-28T02:30:00Z', 'feb28'),
      at('2025-02-01T02:30:00Z', 'feb1'),
      at('2025-01-31T02:30:00Z', 'jan31'),
      at('2024-12-31T02:30:00Z', 'dec31'),
    ];
    expect([...backupsToKeep(rows, 2, 3)].sort()).toEqual(['feb28', 'jan31', 'mar10-noon', 'mar9'].sort());
    expect([...backupsToKeep(rows, 30, 0)].length).toBe(7);
  });

  it('deletes the archives it no longer keeps, never the last verified one, and leaves other destinations alone', async () => {
    const dir = path.join(work, 'retention');
    mkdirSync(dir, { recursive: true });
    await saveSettings({ destination: dir, keepDaily: 2, keepMonthly: 0 });
    // Earlier tests left backups in other places; only this destination's rows are judged.
    const make = async (iso: string, verified: boolean) => {
      const file = path.join(dir, `${iso}.cbk`);
      writeFileSync(file, 'archive');
      const row = await t.runtime.db.withSystem((tx) =>
        insertBackup(tx, {
          id: crypto.randomUUID(),
          status: 'ok',
          trigger: 'schedule',
          destination: dir,
          location: file,
          createdAt: new Date(iso),
          verifyStatus: verified ? 'ok' : null,
          verifiedAt: verified ? new Date(iso) : null,
        }),
      );
      return { row, file };
    };
    const oldVerified = await make('2025-01-01T02:30:00Z', true);
    const older = await make('2025-01-02T02:30:00Z', false);
    const newer = await make('2025-01-03T02:30:00Z', false);
    const newest = await make('2025-01-04T02:30:00Z', false);
    const deleted = await applyRetention(t.runtime);
    expect(deleted).toEqual([older.row.id]);
    expect(existsSync(older.file)).toBe(false);
    for (const kept of [oldVerified, newer, newest]) expect(existsSync(kept.file)).toBe(true);
    const events = await t.runtime.db.withSystem((tx) => recentEvents(tx, 50));
    expect(events.filter((e) => e.kind === 'retention').map((e) => e.backupId)).toContain(older.row.id);
  });
});
