import { and, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { SqlClient, Tx } from '../../platform/db/client.ts';
import type { BackupStatus, CheckStatus, Manifest } from './schema.ts';
import { type BackupEventKind, backupEvents, backupNotices, backupSettings, backups } from './tables.ts';

export type BackupRow = typeof backups.$inferSelect;
export type NewBackupRow = typeof backups.$inferInsert;
export type BackupEventRow = typeof backupEvents.$inferSelect;

export async function insertBackup(tx: Tx, row: NewBackupRow): Promise<BackupRow> {
  const [inserted] = await tx.insert(backups).values(row).returning();
  if (!inserted) throw new Error('backup row not returned');
  return inserted;
}

export async function findBackup(tx: Tx, id: string): Promise<BackupRow | undefined> {
  const [row] = await tx.select().from(backups).where(eq(backups.id, id));
  return row;
}

export function listBackupRows(tx: Tx, limit: number, offset = 0): Promise<BackupRow[]> {
  return tx.select().from(backups).orderBy(desc(backups.createdAt), desc(backups.id)).limit(limit).offset(offset);
}

export async function countBackupRows(tx: Tx): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(backups);
  return row?.n ?? 0;
}

/** Archives that should exist: finished, not removed by retention. Newest first. */
export function storedBackupRows(tx: Tx): Promise<BackupRow[]> {
  return tx
    .select()
    .from(backups)
    .where(and(eq(backups.status, 'ok'), isNull(backups.deletedAt)))
    .orderBy(desc(backups.createdAt), desc(backups.id));
}

/** Takes a queued backup for one run; undefined when another run took it first or it is gone. */
export async function claimQueuedBackup(tx: Tx, id: string, now: Date): Promise<BackupRow | undefined> {
  const [row] = await tx
    .update(backups)
    .set({ status: 'running', startedAt: now })
    .where(and(eq(backups.id, id), eq(backups.status, 'queued')))
    .returning();
  return row;
}

export async function updateBackup(tx: Tx, id: string, changes: Partial<NewBackupRow>): Promise<void> {
  await tx.update(backups).set(changes).where(eq(backups.id, id));
}

/** Marks the still-running backups started before `before` as failed: their process ended mid-way. */
export async function failInterruptedBackups(tx: Tx, before: Date, now: Date): Promise<string[]> {
  const rows = await tx
    .update(backups)
    .set({ status: 'failed', finishedAt: now, error: 'interrupted: the process ended before the backup finished' })
    .where(and(inArray(backups.status, ['running', 'queued'] satisfies BackupStatus[]), lt(backups.createdAt, before)))
    .returning({ id: backups.id });
  return rows.map((r) => r.id);
}

export async function recordCheck(
  tx: Tx,
  id: string,
  kind: 'verify' | 'drill',
  check: { status: CheckStatus; at: Date; detail: string | null },
): Promise<void> {
  const changes =
    kind === 'verify'
      ? { verifyStatus: check.status, verifiedAt: check.at, verifyDetail: check.detail }
      : { drillStatus: check.status, drillAt: check.at, drillDetail: check.detail };
  await tx.update(backups).set(changes).where(eq(backups.id, id));
}

export async function readSettingsRow(tx: Tx): Promise<Record<string, unknown> | undefined> {
  const [row] = await tx.select({ settings: backupSettings.settings }).from(backupSettings).where(eq(backupSettings.id, 1));
  return row?.settings;
}

export async function writeSettingsRow(tx: Tx, settings: Record<string, unknown>, at: Date, by: string): Promise<void> {
  await tx
    .insert(backupSettings)
    .values({ id: 1, settings, updatedAt: at, updatedBy: by })
    .onConflictDoUpdate({ target: backupSettings.id, set: { settings, updatedAt: at, updatedBy: by } });
}

export async function insertEvent(
  tx: Tx,
  event: { at: Date; kind: BackupEventKind; outcome: 'ok' | 'problem'; backupId?: string | null; detail: string },
): Promise<void> {
  await tx.insert(backupEvents).values({ ...event, backupId: event.backupId ?? null });
}

export function recentEvents(tx: Tx, limit: number): Promise<BackupEventRow[]> {
  return tx.select().from(backupEvents).orderBy(desc(backupEvents.at), desc(backupEvents.id)).limit(limit);
}

/** True the first time a problem is noted on a day (UTC): the caller mails only then. */
export async function noteProblemOnce(tx: Tx, problem: string, now: Date): Promise<boolean> {
  const rows = await tx
    .insert(backupNotices)
    .values({ problem, day: now.toISOString().slice(0, 10), sentAt: now })
    .onConflictDoNothing()
    .returning({ problem: backupNotices.problem });
  return rows.length > 0;
}

// Plain SQL for the dump's snapshot: the tables a backup counts and the blobs it copies. These run on the
// platform's SqlClient inside the dump's own transaction (drizzle has no handle on it).

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Rows per table of schema public, as this transaction sees them. */
export async function countRowsPerTable(client: SqlClient): Promise<Record<string, number>> {
  const { rows: tables } = await client.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') order by c.relname`,
  );
  if (tables.length === 0) return {};
  const union = tables
    .map((t) => `select ${quoteLiteral(t.name)} as name, count(*)::text as n from public.${quoteIdent(t.name)}`)
    .join(' union all ');
  const { rows } = await client.query<{ name: string; n: string }>(union);
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
}

export interface BlobRef {
  key: string;
  storedSize: number;
  storedSha256: string;
}

/** Every recorded blob's object key and stored size and digest (the `blobs` table of platform/storage). */
export async function blobRefs(client: SqlClient): Promise<BlobRef[]> {
  const { rows: present } = await client.query<{ t: string | null }>(`select to_regclass('public.blobs')::text as t`);
  if (!present[0]?.t) return [];
  const { rows } = await client.query<{ key: string; size: string; sha: string }>(
    'select object_key as key, stored_size::text as size, stored_sha256 as sha from blobs order by object_key',
  );
  return rows.map((r) => ({ key: r.key, storedSize: Number(r.size), storedSha256: r.sha }));
}

/** Up to `limit` tables outside the system schemas: a restore target must have none. */
export async function userTables(client: SqlClient, limit = 3): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select schemaname || '.' || tablename as name from pg_tables
      where schemaname not in ('pg_catalog', 'information_schema') order by 1 limit ${Math.trunc(limit)}`,
  );
  return rows.map((r) => r.name);
}

export async function serverVersion(client: SqlClient): Promise<string> {
  const { rows } = await client.query<{ server_version: string }>('show server_version');
  return rows[0]?.server_version ?? 'unknown';
}

/** Restore: the backup's own row was "running" in its snapshot; in the restored copy it finished. */
export async function markRestoredBackupRow(
  client: SqlClient,
  manifest: Manifest,
  done: { location: string; size: number; finishedAt: Date },
): Promise<void> {
  await client.query(
    `update backups set status = 'ok', location = $2, size = $3, digest = $4, finished_at = $5, engine = $6,
            part_count = $7, blob_count = $8, row_counts = $9::jsonb
      where id = $1 and status in ('queued', 'running')`,
    [
      manifest.id,
      done.location,
      done.size,
      manifest.digest,
      done.finishedAt.toISOString(),
      manifest.engine,
      manifest.parts.length,
      manifest.blobs.length,
      JSON.stringify(manifest.rowCounts),
    ],
  );
}
