import { sql } from 'drizzle-orm';
import { bigint, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { BackupStatus, BackupTrigger, CheckStatus } from './schema.ts';

// Backups are install-wide (one archive holds every tenant), so these tables have no tenant_id and are
// read and written as the schema owner (withSystem). docs/backups.md explains the choice.

const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/** Every backup taken or attempted, with what the daily verification and the monthly drill found. */
export const backups = pgTable(
  'backups',
  {
    id: uuid('id').primaryKey(),
    status: text('status').$type<BackupStatus>().notNull(),
    trigger: text('trigger').$type<BackupTrigger>().notNull(),
    /** Who asked (a person, a token, or the schedule), for the history. */
    requestedBy: text('requested_by'),
    /** The directory or s3://bucket/prefix it was written to; retention works per destination. */
    destination: text('destination').notNull(),
    /** The archive itself: a file path or s3://bucket/key. */
    location: text('location'),
    engine: text('engine'),
    size: bigint('size', { mode: 'number' }),
    /** The whole-archive digest from its manifest: the daily verification must find the same one. */
    digest: text('digest'),
    partCount: integer('part_count'),
    blobCount: integer('blob_count'),
    rowCounts: jsonb('row_counts').$type<Record<string, number>>(),
    warnings: jsonb('warnings').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    error: text('error'),
    createdAt: at('created_at').notNull().defaultNow(),
    startedAt: at('started_at'),
    finishedAt: at('finished_at'),
    verifyStatus: text('verify_status').$type<CheckStatus>(),
    verifiedAt: at('verified_at'),
    verifyDetail: text('verify_detail'),
    drillStatus: text('drill_status').$type<CheckStatus>(),
    drillAt: at('drill_at'),
    drillDetail: text('drill_detail'),
    /** Removed by retention (the row stays as history). */
    deletedAt: at('deleted_at'),
  },
  (t) => [index('backups_created_idx').on(t.createdAt), index('backups_status_idx').on(t.status, t.createdAt)],
);

/** The install's backup settings: one row, validated and completed with defaults on read (schema.ts). */
export const backupSettings = pgTable('backup_settings', {
  id: integer('id').primaryKey().default(1),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
  updatedAt: at('updated_at').notNull(),
  updatedBy: text('updated_by'),
});

export type BackupEventKind = 'backup' | 'verify' | 'drill' | 'retention' | 'schedule';

/** What happened to backups over time: the history on /admin/backups. */
export const backupEvents = pgTable(
  'backup_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: at('at').notNull(),
    kind: text('kind').$type<BackupEventKind>().notNull(),
    outcome: text('outcome').$type<'ok' | 'problem'>().notNull(),
    backupId: uuid('backup_id'),
    detail: text('detail').notNull(),
  },
  (t) => [index('backup_events_at_idx').on(t.at)],
);

/** One row per problem and day a mail went out for: the owner hears of a problem at most once a day. */
export const backupNotices = pgTable(
  'backup_notices',
  {
    problem: text('problem').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    sentAt: at('sent_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.problem, t.day] })],
);
