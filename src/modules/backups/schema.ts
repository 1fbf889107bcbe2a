import path from 'node:path';
import { z } from '@hono/zod-openapi';

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256');
const Count = z.number().int().nonnegative();

/** The name of the database part in every archive (its format is in the manifest). */
export const DATABASE_PART = 'database.dump';
export const BLOB_PART_PREFIX = 'blobs/';
export const FILE_PART_PREFIX = 'files/';

export const DATABASE_FORMATS = ['pglite-data-dir.tar.gz', 'pg_dump-custom'] as const;
export type DatabaseFormat = (typeof DATABASE_FORMATS)[number];

/**
 * An archive's table of contents, stored in clear at its end (docs/backups.md). Everything but `mac` is
 * authenticated by `mac`, an HMAC under a key derived from the archive key, so only a holder of the
 * master key can check (or forge) it; the part digests alone need no key.
 */
export const Manifest = z.object({
  format: z.literal('candor-backup'),
  version: z.literal(1),
  id: z.uuid(),
  createdAt: z.string(),
  candorVersion: z.string(),
  engine: z.enum(['pglite', 'postgres']),
  /** The master key that wraps the archive key (its fingerprint, not the key). */
  masterKeyId: z.string(),
  /** The random per-backup archive key, wrapped by the master key (base64). */
  wrappedKey: z.string(),
  chunkBytes: z.number().int().positive(),
  database: z.object({ part: z.string(), format: z.enum(DATABASE_FORMATS), serverVersion: z.string() }),
  /** Rows per table of schema public, counted in the same snapshot as the dump. */
  rowCounts: z.record(z.string(), Count),
  /** Each blob: its storage key and the size and SHA-256 of its stored (tenant-encrypted) bytes. */
  blobs: z.array(z.object({ part: z.string(), key: z.string(), storedSize: Count, storedSha256: Sha256Hex })),
  /** Files of the data directory (kept mail), by path relative to it. */
  files: z.array(z.object({ part: z.string(), path: z.string() })),
  /** Every part in archive order: size and SHA-256 of its stored (encrypted) bytes. */
  parts: z.array(z.object({ name: z.string(), storedSize: Count, sha256: Sha256Hex })),
  /** SHA-256 over the parts' binary digests, concatenated in archive order. */
  digest: Sha256Hex,
  mac: Sha256Hex,
});
export type Manifest = z.infer<typeof Manifest>;
export type ManifestBody = Omit<Manifest, 'parts' | 'digest' | 'mac'>;

export const BACKUP_STATUSES = ['queued', 'running', 'ok', 'failed', 'deleted'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];
export const CHECK_STATUSES = ['ok', 'mismatch', 'missing', 'failed'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];
export const TRIGGERS = ['schedule', 'manual', 'cli'] as const;
export type BackupTrigger = (typeof TRIGGERS)[number];

export const DEFAULT_KEEP_DAILY = 30;
export const DEFAULT_KEEP_MONTHLY = 12;

/** `s3://bucket/prefix` or an absolute directory. */
export const Destination = z
  .string()
  .trim()
  .max(1000)
  .refine((value) => value === '' || isS3Url(value) || path.isAbsolute(value), {
    message: 'enter an absolute directory such as /var/backups/candor, or s3://bucket/prefix',
  });

export function isS3Url(value: string): boolean {
  return /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(value);
}

/** An address, or empty for "none". */
const OptionalEmail = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.union([z.literal(''), z.email('enter a valid email address')]));
const KeepDaily = z.number().int().min(1, 'keep at least one daily backup').max(3650, 'keep at most 3650 daily backups');
const KeepMonthly = z.number().int().min(0, 'enter 0 or more').max(600, 'keep at most 600 monthly backups');

/** Install-wide backup settings, as the API sends them and the database keeps them. */
export const BackupSettings = z
  .object({
    ownerEmail: OptionalEmail.nullable(),
    destination: Destination.nullable(),
    scheduleEnabled: z.boolean(),
    keepDaily: KeepDaily,
    keepMonthly: KeepMonthly,
  })
  .transform((s) => ({ ...s, ownerEmail: s.ownerEmail || null, destination: s.destination || null }))
  .openapi('BackupSettings');
export type BackupSettings = z.infer<typeof BackupSettings>;

export function defaultBackupSettings(): BackupSettings {
  return {
    ownerEmail: null,
    destination: null,
    scheduleEnabled: true,
    keepDaily: DEFAULT_KEEP_DAILY,
    keepMonthly: DEFAULT_KEEP_MONTHLY,
  };
}

const wholeNumber = (label: string) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,4}$/, `enter the number of ${label} backups to keep`)
    .transform(Number);

/** The settings form: every field checked at once, so all mistakes are shown together. */
export const BackupSettingsForm = z
  .object({
    ownerEmail: OptionalEmail.default(''),
    destination: Destination.default(''),
    scheduleEnabled: z.enum(['on', 'off'], 'choose on or off').default('off'),
    keepDaily: wholeNumber('daily').pipe(KeepDaily),
    keepMonthly: wholeNumber('monthly').pipe(KeepMonthly),
  })
  .transform(
    (f): BackupSettings => ({
      ownerEmail: f.ownerEmail || null,
      destination: f.destination || null,
      scheduleEnabled: f.scheduleEnabled === 'on',
      keepDaily: f.keepDaily,
      keepMonthly: f.keepMonthly,
    }),
  );

export const BackupIdParam = z.object({
  id: z.uuid('not a backup id').openapi({ param: { name: 'id', in: 'path' }, example: '0b6c7a4e-5d0e-4f7c-9a53-2f1f6b1d7a10' }),
});

const Check = z
  .object({ status: z.enum(CHECK_STATUSES), at: z.string(), detail: z.string().nullable() })
  .nullable()
  .openapi('BackupCheck');

export const BackupItem = z
  .object({
    id: z.uuid(),
    status: z.enum(BACKUP_STATUSES),
    trigger: z.enum(TRIGGERS),
    requestedBy: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    location: z.string().nullable(),
    engine: z.string().nullable(),
    size: z.number().int().nullable(),
    digest: z.string().nullable(),
    parts: z.number().int().nullable(),
    blobs: z.number().int().nullable(),
    rowCounts: z.record(z.string(), z.number().int()).nullable(),
    error: z.string().nullable(),
    warnings: z.array(z.string()),
    verification: Check,
    drill: Check,
    deletedAt: z.string().nullable(),
  })
  .openapi('Backup');
export type BackupItem = z.infer<typeof BackupItem>;

export const BackupHealth = z
  .object({
    state: z.enum(['ok', 'failing', 'none']),
    problems: z.array(z.string()),
    lastSuccessAt: z.string().nullable(),
  })
  .openapi('BackupHealth');
export type BackupHealth = z.infer<typeof BackupHealth>;
