import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { auditScope } from '../../platform/audit/audit.ts';
import type { JsonValue } from '../../platform/audit/canonical.ts';
import type { CommandIO } from '../../platform/cli/io.ts';
import { type Actor, actorLabel, type RequestContext, type Runtime } from '../../platform/context.ts';
import type { Database, Tx } from '../../platform/db/client.ts';
import { Forbidden, InvalidInput, NotFound } from '../../platform/errors.ts';
import { ownerEmails, requirePermission } from '../access/service.ts';
import type { Tenant } from '../tenants/schema.ts';
import { listAllTenants, tenantBaseUrl } from '../tenants/service.ts';
import { ArchiveDamaged, manifestAuthentic, peekManifest } from './archive.ts';
import { formatBytes, seconds, writeBackup } from './backup.ts';
import { type DatabaseTarget, embeddedTarget, postgresTarget } from './database.ts';
import { RowCountMismatch, replayArchive } from './replay.ts';
import {
  type BackupHealth,
  BackupSettings,
  type BackupTrigger,
  type CheckStatus,
  defaultBackupSettings,
  type Manifest,
} from './schema.ts';
import {
  ArchiveMissing,
  type ArchiveStorage,
  archiveRangeReader,
  archiveStorage,
  type BackupDestination,
  deleteArchive,
  describeDestination,
  parseDestination,
  readArchive,
} from './storage.ts';
import {
  type BackupEventRow,
  type BackupRow,
  claimQueuedBackup,
  countBackupRows,
  failInterruptedBackups,
  findBackup,
  insertBackup,
  insertEvent,
  listBackupRows,
  noteProblemOnce,
  readSettingsRow,
  recentEvents,
  recordCheck,
  storedBackupRows,
  updateBackup,
  writeSettingsRow,
} from './store.ts';
import type { BackupEventKind } from './tables.ts';
import { unlockArchive, verifyArchive } from './verify.ts';

export type { BackupEventRow, BackupRow } from './store.ts';

export const BACKUPS_PAGE_SIZE = 25;
/** A scheduled daily backup older than this means the schedule did not run: the owner hears of it. */
const DAILY_GRACE_MS = 26 * 60 * 60 * 1000;
/** A backup still "running" after this long lost its process. */
const INTERRUPTED_AFTER_MS = 12 * 60 * 60 * 1000;
/** Who acts in the trail for scheduled work. */
const BACKUP_ACTOR: Actor = { kind: 'system', name: 'backups' };

// ---------------------------------------------------------------------------------------------------------
// Where backups are managed

/**
 * Backups span every tenant, so one tenant manages them for the installation: the one that serves every
 * unclaimed host name (the install's first), else the oldest. Others see a summary only (docs/backups.md).
 */
export async function managingTenant(db: Database): Promise<Tenant | undefined> {
  const tenants = await listAllTenants(db, 1000);
  return tenants.find((t) => t.hosts.length === 0) ?? tenants[0];
}

async function requireManagingTenant(ctx: RequestContext): Promise<Tenant> {
  const home = await managingTenant(ctx.db);
  if (!home || home.id !== ctx.tenant.id) {
    throw new Forbidden(
      `backups cover the whole installation and are managed in the workspace “${home?.name ?? 'first created'}”`,
    );
  }
  return home;
}

// ---------------------------------------------------------------------------------------------------------
// Settings

/** The saved settings completed with defaults; saved values a later version refuses fall back to defaults. */
async function settingsIn(tx: Tx): Promise<BackupSettings> {
  const parsed = BackupSettings.safeParse((await readSettingsRow(tx)) ?? defaultBackupSettings());
  return parsed.success ? parsed.data : defaultBackupSettings();
}

export function readBackupSettings(db: Database): Promise<BackupSettings> {
  return db.withSystem((tx) => settingsIn(tx));
}

/** The backup owner's address in the caller's transaction (run as the system: the settings are install-wide). */
export async function backupOwnerEmailIn(tx: Tx): Promise<string | null> {
  return (await settingsIn(tx)).ownerEmail;
}

/** Where archives go: the `--to` of a command, else the setting, else `<data>/backups`. */
export function backupDestination(runtime: Runtime, settings: BackupSettings, override?: string): BackupDestination {
  const text = override ?? settings.destination ?? path.join(runtime.config.dataDir, 'backups');
  return parseDestination(text);
}

function checkLocalDestination(destination: string): void {
  try {
    mkdirSync(destination, { recursive: true, mode: 0o700 });
    accessSync(destination, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidInput('the destination cannot be used', { destination: `Candor cannot write to ${destination} (${code})` });
  }
}

/** The settings, for the API (managing tenant only). */
export async function readBackupSettingsFor(ctx: RequestContext): Promise<BackupSettings> {
  requirePermission(ctx.actor, 'backups.read');
  await requireManagingTenant(ctx);
  return readBackupSettings(ctx.db);
}

export async function saveBackupSettings(ctx: RequestContext, input: BackupSettings): Promise<BackupSettings> {
  requirePermission(ctx.actor, 'backups.manage');
  await requireManagingTenant(ctx);
  const settings = BackupSettings.parse(input);
  if (settings.destination && !settings.destination.startsWith('s3://')) checkLocalDestination(settings.destination);
  const by = actorLabel(ctx.actor);
  await ctx.db.withSystem(async (tx) => {
    await writeSettingsRow(tx, settings as unknown as Record<string, unknown>, ctx.clock.now(), by);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'backup.settings_changed',
      target: { type: 'backup_settings', id: 'install' },
      details: settings as unknown as Record<string, JsonValue>,
    });
  });
  return settings;
}

// ---------------------------------------------------------------------------------------------------------
// What the page and the API show

export interface BackupsOverview {
  /** False in every tenant but the managing one: it then sees the health summary only. */
  managedHere: boolean;
  managedIn: string | null;
  health: BackupHealth;
  settings?: BackupSettings;
  destination?: string;
  /** Where archives go when no destination is set. */
  defaultDestination?: string;
  backups: BackupRow[];
  total: number;
  events: BackupEventRow[];
}

/** What is wrong with backups right now, newest first; "none" before the first backup. */
function assessHealth(rows: BackupRow[], settings: BackupSettings, now: Date): BackupHealth {
  const problems: string[] = [];
  const finished = rows.filter((r) => r.status === 'ok' || r.status === 'failed' || r.status === 'deleted');
  const latest = finished[0];
  if (latest?.status === 'failed')
    problems.push(`The latest backup (${stamp(latest.createdAt)}) failed: ${latest.error ?? 'unknown error'}`);
  const succeeded = rows.filter((r) => r.status === 'ok' || r.status === 'deleted');
  const lastSuccess = succeeded[0]?.finishedAt ?? null;
  if (settings.scheduleEnabled && lastSuccess && now.getTime() - lastSuccess.getTime() > DAILY_GRACE_MS) {
    problems.push(`No backup has succeeded since ${stamp(lastSuccess)}.`);
  }
  for (const row of rows.filter((r) => r.status === 'ok' && r.verifyStatus && r.verifyStatus !== 'ok')) {
    problems.push(`Backup of ${stamp(row.createdAt)}: verification ${row.verifyStatus}: ${row.verifyDetail ?? ''}`.trim());
  }
  const drilled = rows.filter((r) => r.drillAt).sort((a, b) => (b.drillAt?.getTime() ?? 0) - (a.drillAt?.getTime() ?? 0))[0];
  if (drilled && drilled.drillStatus !== 'ok')
    problems.push(`The latest restore drill (${stamp(drilled.drillAt)}) failed: ${drilled.drillDetail ?? ''}`);
  const state = problems.length > 0 ? 'failing' : lastSuccess ? 'ok' : 'none';
  return { state, problems, lastSuccessAt: lastSuccess?.toISOString() ?? null };
}

function stamp(at: Date | null): string {
  return at ? `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'never';
}

/** Rows the health is judged on: every archive that should exist, plus the latest attempts. */
async function healthRows(tx: Tx): Promise<BackupRow[]> {
  const recent = await listBackupRows(tx, 50);
  const stored = await storedBackupRows(tx);
  const byId = new Map([...recent, ...stored].map((r) => [r.id, r]));
  return [...byId.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}

export async function backupsOverview(ctx: RequestContext, page = 1): Promise<BackupsOverview> {
  requirePermission(ctx.actor, 'backups.read');
  const home = await managingTenant(ctx.db);
  const managedHere = home?.id === ctx.tenant.id;
  const now = ctx.clock.now();
  return ctx.db.withSystem(async (tx) => {
    const settings = await settingsIn(tx);
    const health = assessHealth(await healthRows(tx), settings, now);
    if (!managedHere) {
      // Other workspaces learn that something is wrong, not the installation's paths and errors.
      const summary = health.problems.length
        ? [`Backups of this installation need attention; the people managing them in “${home?.name ?? ''}” are told by mail.`]
        : [];
      return {
        managedHere,
        managedIn: home?.name ?? null,
        health: { ...health, problems: summary },
        backups: [],
        total: 0,
        events: [],
      };
    }
    return {
      managedHere,
      managedIn: home?.name ?? null,
      health,
      settings,
      destination: describeDestination(backupDestination(ctx, settings)),
      defaultDestination: path.join(ctx.config.dataDir, 'backups'),
      backups: await listBackupRows(tx, BACKUPS_PAGE_SIZE, (Math.max(1, page) - 1) * BACKUPS_PAGE_SIZE),
      total: await countBackupRows(tx),
      events: await recentEvents(tx, 20),
    };
  });
}

export async function getBackup(ctx: RequestContext, id: string): Promise<BackupRow> {
  requirePermission(ctx.actor, 'backups.read');
  await requireManagingTenant(ctx);
  const row = await ctx.db.withSystem((tx) => findBackup(tx, id));
  if (!row) throw new NotFound('backup', id);
  return row;
}

// ---------------------------------------------------------------------------------------------------------
// Requests from the page and the API: queued, run by the jobs

/** Queues one backup; the `backups.run` job takes it within seconds. Recorded in the trail. */
export async function requestBackup(
  ctx: RequestContext,
  queue: (tx: Tx, backupId: string) => Promise<unknown>,
): Promise<BackupRow> {
  requirePermission(ctx.actor, 'backups.manage');
  await requireManagingTenant(ctx);
  const now = ctx.clock.now();
  return ctx.db.withSystem(async (tx) => {
    const settings = await settingsIn(tx);
    const row = await insertBackup(tx, {
      id: randomUUID(),
      status: 'queued',
      trigger: 'manual',
      requestedBy: actorLabel(ctx.actor),
      destination: describeDestination(backupDestination(ctx, settings)),
      createdAt: now,
    });
    await ctx.audit.record(tx, auditScope(ctx), { action: 'backup.requested', target: { type: 'backup', id: row.id } });
    await queue(tx, row.id);
    return row;
  });
}

/** Queues a verification of every stored backup; recorded in the trail. */
export async function requestVerification(ctx: RequestContext, queue: (tx: Tx) => Promise<unknown>): Promise<void> {
  requirePermission(ctx.actor, 'backups.verify');
  await requireManagingTenant(ctx);
  await ctx.db.withSystem(async (tx) => {
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'backup.verification_requested',
      target: { type: 'backup', id: null },
    });
    await queue(tx);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Owner notices, events and the trail

const storages = new WeakMap<Runtime, ArchiveStorage>();

/** S3 settings are read once per runtime (docs/backups.md lists them). */
export function storageOf(runtime: Runtime): ArchiveStorage {
  let storage = storages.get(runtime);
  if (!storage) {
    storage = archiveStorage();
    storages.set(runtime, storage);
  }
  return storage;
}

interface Problem {
  /** Identifies the problem for "at most one mail per problem per day". */
  key: string;
  subject: string;
  lines: string[];
}

/**
 * Records an event in the history and, for a problem, mails the backup owner (the setting, else the
 * managing tenant's owners) at most once per problem and day. The mail goes through that tenant's outbox.
 */
async function recordOutcome(
  runtime: Runtime,
  event: { kind: BackupEventKind; backupId?: string | null; detail: string },
  problem?: Problem,
  audit?: { action: string; details?: Record<string, JsonValue> },
): Promise<void> {
  const now = runtime.clock.now();
  const home = await managingTenant(runtime.db);
  await runtime.db.withSystem(async (tx) => {
    await insertEvent(tx, {
      at: now,
      kind: event.kind,
      outcome: problem ? 'problem' : 'ok',
      backupId: event.backupId,
      detail: event.detail,
    });
    if (home && audit) {
      await runtime.audit.record(
        tx,
        { tenantId: home.id, actor: BACKUP_ACTOR },
        {
          action: audit.action,
          target: { type: 'backup', id: event.backupId ?? null },
          outcome: problem ? 'failed' : 'success',
          details: audit.details ?? {},
        },
      );
    }
    if (!problem || !home || !(await noteProblemOnce(tx, problem.key, now))) return;
    const settings = await settingsIn(tx);
    const to = settings.ownerEmail ? [settings.ownerEmail] : await ownerEmails(tx, home.id);
    if (to.length === 0) {
      runtime.log.warn({ problem: problem.key }, 'backup problem, but there is no backup owner to tell');
      return;
    }
    await runtime.mail.enqueue(tx, home.id, {
      to,
      subject: `[Candor backups] ${problem.subject}`,
      text: [
        ...problem.lines,
        '',
        `Backups and their history: ${tenantBaseUrl(runtime.config.publicUrl, home)}/admin/backups`,
        '',
        'You receive this because you are the backup owner of this Candor installation; at most one message per problem and day.',
      ].join('\n'),
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Taking a backup

export interface RunBackupOptions {
  /** A queued backup (the page, the API); otherwise a new row is made. */
  backupId?: string;
  /** `candor backup --to`: a directory or s3://bucket/prefix instead of the setting. */
  destination?: string | undefined;
  trigger: BackupTrigger;
  requestedBy?: string;
  io?: CommandIO | undefined;
}

/**
 * Takes a backup and records it; then applies retention to the configured destination. A failure is
 * recorded, mailed to the owner, and thrown (the command exits non-zero; the job logs it).
 */
export async function runBackup(runtime: Runtime, options: RunBackupOptions): Promise<BackupRow> {
  const now = runtime.clock.now();
  const settings = await readBackupSettings(runtime.db);
  let row: BackupRow | undefined;
  if (options.backupId) {
    const id = options.backupId;
    row = await runtime.db.withSystem((tx) => claimQueuedBackup(tx, id, now));
    if (!row) {
      const existing = await runtime.db.withSystem((tx) => findBackup(tx, id));
      if (!existing) throw new NotFound('backup', id);
      return existing; // another run took it
    }
  } else {
    const destination = describeDestination(backupDestination(runtime, settings, options.destination));
    const fresh = {
      id: randomUUID(),
      status: 'running' as const,
      trigger: options.trigger,
      requestedBy: options.requestedBy ?? null,
      destination,
      createdAt: now,
      startedAt: now,
    };
    // Inserted before the dump, so a restored copy knows this backup (restore marks it finished).
    row = await runtime.db.withSystem((tx) => insertBackup(tx, fresh));
  }
  const started = Date.now();
  try {
    const destination = parseDestination(row.destination);
    const written = await writeBackup(runtime, {
      id: row.id,
      createdAt: row.createdAt,
      destination,
      storage: storageOf(runtime),
      io: options.io,
    });
    const changes = {
      status: 'ok' as const,
      finishedAt: runtime.clock.now(),
      location: written.location,
      engine: written.manifest.engine,
      size: written.size,
      digest: written.manifest.digest,
      partCount: written.manifest.parts.length,
      blobCount: written.manifest.blobs.length,
      rowCounts: written.manifest.rowCounts,
      warnings: written.warnings,
    };
    const id = row.id;
    await runtime.db.withSystem((tx) => updateBackup(tx, id, changes));
    const detail = `Backup written to ${written.location} (${formatBytes(written.size)}, ${written.manifest.blobs.length} blobs) in ${seconds(Date.now() - started)}`;
    await recordOutcome(
      runtime,
      {
        kind: 'backup',
        backupId: id,
        detail: written.warnings.length ? `${detail}; ${written.warnings.length} warning(s)` : detail,
      },
      written.warnings.length
        ? {
            key: `backup-warnings:${id}`,
            subject: 'a backup found damaged or missing files',
            lines: [detail, '', ...written.warnings],
          }
        : undefined,
      {
        action: 'backup.completed',
        details: { location: written.location, size: written.size, digest: written.manifest.digest },
      },
    );
    row = { ...row, ...changes };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 500) ?? 'failed';
    const id = row.id;
    await runtime.db.withSystem((tx) =>
      updateBackup(tx, id, { status: 'failed', finishedAt: runtime.clock.now(), error: message }),
    );
    await recordOutcome(
      runtime,
      { kind: 'backup', backupId: id, detail: `Backup failed: ${message}` },
      {
        key: 'backup-failed',
        subject: 'a backup failed',
        lines: [`The backup started ${stamp(row.createdAt)} failed:`, message],
      },
      { action: 'backup.failed', details: { error: message } },
    );
    throw error;
  }
  if (row.destination === describeDestination(backupDestination(runtime, settings))) await applyRetention(runtime);
  return row;
}

/** The daily job: a backup when the schedule is on. */
export async function runScheduledBackup(runtime: Runtime): Promise<BackupRow | undefined> {
  const settings = await readBackupSettings(runtime.db);
  if (!settings.scheduleEnabled) return undefined;
  return runBackup(runtime, { trigger: 'schedule', requestedBy: 'schedule' });
}

// ---------------------------------------------------------------------------------------------------------
// Verification

export interface VerificationSummary {
  checked: number;
  failed: { id: string; status: CheckStatus; detail: string }[];
}

/** Re-reads one stored archive and checks every part's SHA-256, the whole digest and the manifest's MAC. */
async function verifyStored(runtime: Runtime, row: BackupRow): Promise<{ status: CheckStatus; detail: string }> {
  if (!row.location) return { status: 'missing', detail: 'no archive was recorded for this backup' };
  try {
    const source = await readArchive(storageOf(runtime), row.location);
    const report = await verifyArchive(source, {
      master: runtime.keys.master,
      expectedDigest: row.digest,
      allowEarlierKey: true,
    });
    const parts = `${report.manifest?.parts.length ?? 0} parts, ${formatBytes(report.size)}`;
    if (report.ok && report.earlierKey) {
      return {
        status: 'ok',
        detail: `${parts}; made with the earlier master key ${report.earlierKey}: keep that key while this backup is kept`,
      };
    }
    if (report.ok) return { status: 'ok', detail: `${parts}, manifest authenticated` };
    return { status: 'mismatch', detail: report.problems.slice(0, 5).join('; ') };
  } catch (error) {
    if (error instanceof ArchiveMissing) return { status: 'missing', detail: error.message };
    return { status: 'failed', detail: `could not be read: ${(error as Error).message}` };
  }
}

/**
 * The daily verification: every stored backup (or one) is re-read and checked; a mismatching or missing
 * one is recorded and mailed to the owner. It also notices a schedule that stopped producing backups.
 */
export async function verifyStoredBackups(runtime: Runtime, options: { backupId?: string } = {}): Promise<VerificationSummary> {
  const now = runtime.clock.now();
  await runtime.db.withSystem((tx) => failInterruptedBackups(tx, new Date(now.getTime() - INTERRUPTED_AFTER_MS), now));
  const rows = await runtime.db.withSystem((tx) => storedBackupRows(tx));
  const selected = options.backupId ? rows.filter((r) => r.id === options.backupId) : rows;
  const summary: VerificationSummary = { checked: 0, failed: [] };
  for (const row of selected) {
    const { status, detail } = await verifyStored(runtime, row);
    await runtime.db.withSystem((tx) => recordCheck(tx, row.id, 'verify', { status, at: runtime.clock.now(), detail }));
    summary.checked++;
    const problem =
      status === 'ok'
        ? undefined
        : {
            key: `verify:${row.id}:${status}`,
            subject: `the backup of ${stamp(row.createdAt)} is ${status === 'missing' ? 'missing' : 'damaged'}`,
            lines: [`The daily verification of the backup at ${row.location ?? '(no location)'} found:`, detail],
          };
    if (problem) summary.failed.push({ id: row.id, status, detail });
    await recordOutcome(
      runtime,
      { kind: 'verify', backupId: row.id, detail: `Verification ${status}: ${detail}` },
      problem,
      problem ? { action: 'backup.verification_failed', details: { status, detail } } : undefined,
    );
  }
  await noticeMissingScheduledBackup(runtime, now);
  return summary;
}

/** With the schedule on, a day without a successful backup is a problem of its own. */
async function noticeMissingScheduledBackup(runtime: Runtime, now: Date): Promise<void> {
  const settings = await readBackupSettings(runtime.db);
  if (!settings.scheduleEnabled) return;
  const rows = await runtime.db.withSystem((tx) => listBackupRows(tx, 50));
  const lastSuccess = rows.find((r) => r.status === 'ok' || r.status === 'deleted')?.finishedAt;
  const since = lastSuccess ?? (await installedSince(runtime.db));
  if (!since || now.getTime() - since.getTime() <= DAILY_GRACE_MS) return;
  const detail = lastSuccess ? `No backup has succeeded since ${stamp(lastSuccess)}.` : 'No backup has ever succeeded.';
  await recordOutcome(
    runtime,
    { kind: 'schedule', detail },
    { key: 'backup-missing', subject: 'no recent backup', lines: [detail] },
  );
}

async function installedSince(db: Database): Promise<Date | undefined> {
  const [first] = await listAllTenants(db, 1);
  return first?.createdAt;
}

// ---------------------------------------------------------------------------------------------------------
// Restore drill

export interface DrillOutcome {
  backupId: string | null;
  status: CheckStatus;
  detail: string;
}

/** A scratch PostgreSQL database beside the install's own, created for one drill and dropped after it. */
async function withScratchDatabase<T>(runtime: Runtime, work: (url: string) => Promise<T>): Promise<T> {
  const url = runtime.config.databaseUrl;
  if (!url) throw new Error('a PostgreSQL backup needs a PostgreSQL server to be drilled (DATABASE_URL)');
  const name = `candor_drill_${randomBytes(6).toString('hex')}`;
  await runtime.db.query(`create database ${name}`).catch((error: Error) => {
    throw new Error(`cannot create a scratch database for the drill (${error.message}); the database user needs CREATEDB`);
  });
  const scratch = new URL(url);
  scratch.pathname = `/${name}`;
  try {
    return await work(scratch.toString());
  } finally {
    await runtime.db.query(`drop database if exists ${name} with (force)`).catch((error: Error) => {
      runtime.log.warn({ database: name, err: error.message }, 'restore drill: the scratch database could not be dropped');
    });
  }
}

/** Restores one archive into a scratch database and checks every part, blob and row count. */
async function drill(runtime: Runtime, row: BackupRow, manifest: Manifest): Promise<string> {
  const location = row.location ?? '';
  const storage = storageOf(runtime);
  const keys = await unlockArchive(manifest, runtime.keys.master);
  if (!manifestAuthentic(manifest, keys)) throw new Error('manifest: authentication failed');
  const started = Date.now();
  const replay = async (database: DatabaseTarget) =>
    replayArchive(await readArchive(storage, location), manifest, keys, { database });
  const result =
    manifest.engine === 'pglite'
      ? await replay(embeddedTarget({ inMemory: true }))
      : await withScratchDatabase(runtime, (url) => replay(postgresTarget(url)));
  const tables = Object.keys(result.rowCounts).length;
  const rows = Object.values(result.rowCounts).reduce((a, b) => a + b, 0);
  return `restored into a scratch database in ${seconds(Date.now() - started)}: ${tables} tables, ${rows} rows, counts match; ${result.blobs} blobs decrypted and checked`;
}

/** A drill that found the archive damaged or the rows different is a mismatch; one that could not run failed. */
function drillFailure(error: unknown): CheckStatus {
  if (error instanceof ArchiveMissing) return 'missing';
  if (error instanceof ArchiveDamaged || error instanceof RowCountMismatch) return 'mismatch';
  return 'failed';
}

/**
 * The newest stored backup that has not failed verification and was made with the current master key (one
 * made before a key rotation needs the old key, which the server no longer has).
 */
async function backupToDrill(runtime: Runtime): Promise<{ row: BackupRow; manifest: Manifest } | undefined> {
  const rows = await runtime.db.withSystem((tx) => storedBackupRows(tx));
  for (const row of rows.filter((r) => r.location && (r.verifyStatus === null || r.verifyStatus === 'ok'))) {
    try {
      const manifest = await peekManifest(await archiveRangeReader(storageOf(runtime), row.location as string));
      if (manifest.masterKeyId === runtime.keys.master.id) return { row, manifest };
    } catch (error) {
      // Unreadable now: the daily verification reports it; the drill takes the next one.
      runtime.log.warn({ backup: row.id, err: (error as Error).message }, 'restore drill: skipping a backup it cannot read');
    }
  }
  return undefined;
}

/**
 * The monthly drill: restores the newest backup that passed (or has not had) verification into a scratch
 * database, compares row counts per table with the manifest, and records the result on that backup.
 */
export async function runRestoreDrill(runtime: Runtime): Promise<DrillOutcome> {
  const chosen = await backupToDrill(runtime);
  if (!chosen) {
    const detail = 'there is no stored backup made with the current master key to drill';
    await recordOutcome(
      runtime,
      { kind: 'drill', detail: `Restore drill failed: ${detail}` },
      { key: 'drill-none', subject: 'no backup for the restore drill', lines: [detail] },
    );
    return { backupId: null, status: 'failed', detail };
  }
  const { row, manifest } = chosen;
  let outcome: DrillOutcome;
  try {
    outcome = { backupId: row.id, status: 'ok', detail: await drill(runtime, row, manifest) };
  } catch (error) {
    const status = drillFailure(error);
    outcome = { backupId: row.id, status, detail: (error as Error).message.slice(0, 500) };
  }
  await runtime.db.withSystem((tx) =>
    recordCheck(tx, row.id, 'drill', { status: outcome.status, at: runtime.clock.now(), detail: outcome.detail }),
  );
  const failed = outcome.status !== 'ok';
  await recordOutcome(
    runtime,
    { kind: 'drill', backupId: row.id, detail: `Restore drill ${failed ? 'failed' : 'passed'}: ${outcome.detail}` },
    failed
      ? {
          key: `drill:${row.id}`,
          subject: 'the restore drill failed',
          lines: [`Restoring the backup of ${stamp(row.createdAt)} failed:`, outcome.detail],
        }
      : undefined,
    { action: failed ? 'backup.drill_failed' : 'backup.drill_passed', details: { detail: outcome.detail } },
  );
  return outcome;
}

// ---------------------------------------------------------------------------------------------------------
// Retention

/**
 * Which backups retention keeps (rows newest first): the newest of each of the last `keepDaily` days that
 * have a backup, and the newest of each of the last `keepMonthly` months (UTC).
 */
export function backupsToKeep(rows: { id: string; createdAt: Date }[], keepDaily: number, keepMonthly: number): Set<string> {
  const keep = new Set<string>();
  const days = new Set<string>();
  const months = new Set<string>();
  for (const row of rows) {
    const day = row.createdAt.toISOString().slice(0, 10);
    const month = day.slice(0, 7);
    if (!days.has(day) && days.size < keepDaily) {
      days.add(day);
      keep.add(row.id);
    }
    if (!months.has(month) && months.size < keepMonthly) {
      months.add(month);
      keep.add(row.id);
    }
  }
  return keep;
}

/**
 * Deletes the archives retention no longer keeps, in the configured destination only (archives written
 * elsewhere with --to are left alone). The newest verified backup is never deleted if it would be the
 * last verified one. Returns the ids deleted.
 */
export async function applyRetention(runtime: Runtime): Promise<string[]> {
  const settings = await readBackupSettings(runtime.db);
  const destination = describeDestination(backupDestination(runtime, settings));
  const rows = (await runtime.db.withSystem((tx) => storedBackupRows(tx))).filter((r) => r.destination === destination);
  const keep = backupsToKeep(rows, settings.keepDaily, settings.keepMonthly);
  const verified = rows.filter((r) => r.verifyStatus === 'ok');
  const newestVerified = verified[0];
  if (newestVerified && !verified.some((r) => keep.has(r.id))) keep.add(newestVerified.id);
  const deleted: string[] = [];
  for (const row of rows.filter((r) => !keep.has(r.id))) {
    try {
      if (row.location) await deleteArchive(storageOf(runtime), row.location);
    } catch (error) {
      runtime.log.warn(
        { backup: row.id, err: (error as Error).message },
        'retention could not delete a backup; it is kept for now',
      );
      continue;
    }
    const at = runtime.clock.now();
    await runtime.db.withSystem((tx) => updateBackup(tx, row.id, { status: 'deleted', deletedAt: at }));
    await recordOutcome(
      runtime,
      {
        kind: 'retention',
        backupId: row.id,
        detail: `Deleted the backup of ${stamp(row.createdAt)} (keeping ${settings.keepDaily} daily and ${settings.keepMonthly} monthly)`,
      },
      undefined,
      { action: 'backup.deleted', details: { location: row.location ?? null } },
    );
    deleted.push(row.id);
  }
  return deleted;
}
