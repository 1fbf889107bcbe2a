import type { Readable } from 'node:stream';
import type { Tx } from '../db/client.ts';

/** An object as a driver lists it. */
export interface BlobObject {
  key: string;
  size: number;
  /** When the object was last written: the sweep leaves young objects alone (their transaction may be open). */
  modifiedAt: Date;
}

/**
 * Where encrypted bytes live. Keys are `<tenantId>/<blobId>`: one folder (local) or prefix (S3) per
 * tenant. Drivers only move opaque bytes; encryption and bookkeeping happen in BlobStore above them.
 * Keys are `/`-separated segments of `A-Z a-z 0-9 . _ - + = : @`, none empty or starting with a dot
 * (anything else is refused with BlobKeyRefused, so no key can leave the store's root).
 */
export interface BlobDriver {
  readonly kind: 'local' | 's3';
  /** Human-readable location for messages and the backups page (a path or `s3://bucket/prefix`). */
  readonly location: string;
  /** Writes the whole object atomically: a reader sees the old object or the new one, never a part. */
  write(key: string, bytes: Uint8Array): Promise<void>;
  /** The whole object; BlobObjectMissing when there is none. */
  read(key: string): Promise<Buffer>;
  /** Streams an object (backups read large sets without holding them in memory); BlobObjectMissing when there is none. */
  readStream(key: string): Promise<Readable>;
  /** Reads an object into memory the caller owns and reuses; BlobObjectMissing when there is none. */
  openReader(key: string): Promise<BlobReader>;
  /** Removes one object; removing an object that does not exist is not an error. */
  delete(key: string): Promise<void>;
  /** Every object under `prefix` ('' for all), in key order (byte order of the keys). */
  list(prefix: string): AsyncIterable<BlobObject>;
  /** Removes every object under `prefix` (a tenant's `<tenantId>/`: its folder, or its bucket). Returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Removes what interrupted writes left behind (local temp files) older than `olderThan`. Returns how many. */
  removeAbandonedWrites(olderThan: Date): Promise<number>;
}

/**
 * An object read piece by piece into the caller's buffers: a backup reads a gigabyte without allocating a
 * gigabyte of short-lived buffers in a heap that also holds the application.
 */
export interface BlobReader {
  /** Reads into `into` from its start; resolves with how many bytes came, 0 once the object is done. */
  readInto(into: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

/** A BlobReader over a stream, for drivers whose objects arrive as one (S3). */
export function streamReader(stream: Readable): BlobReader {
  const pieces = stream[Symbol.asyncIterator]();
  let rest: Buffer | undefined;
  return {
    async readInto(into) {
      if (!rest?.length) {
        const next = await pieces.next();
        if (next.done) return 0;
        rest = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
      }
      const take = Math.min(rest.length, into.length);
      into.set(rest.subarray(0, take));
      rest = rest.subarray(take);
      return take;
    },
    async close() {
      stream.destroy();
    },
  };
}

/** A blob as recorded in the database (`blobs` table). */
export interface StoredBlob {
  tenantId: string;
  id: string;
  /** What the blob is for (`vulnerability-attachment`, `gated-document`...), for retention and listings. */
  category: string;
  contentType: string;
  filename: string | null;
  /** Plaintext size and SHA-256 (hex): checked after every decryption. */
  size: number;
  sha256: string;
  /** Size and SHA-256 of the stored (encrypted) object: backups and scrubs check these without keys. */
  storedSize: number;
  storedSha256: string;
  keyVersion: number;
  /** The driver key of the stored object: `<tenantId>/<id>`, or `<tenantId>/<id>.v<N>` once re-encrypted. */
  objectKey: string;
  createdAt: Date;
}

export interface NewBlob {
  category: string;
  contentType: string;
  filename?: string | undefined;
}

/** One stored object that does not match its record, found by `scrub`. */
export interface ScrubFailure {
  tenantId: string;
  blobId: string;
  objectKey: string;
  reason: 'missing' | 'size differs' | 'sha-256 differs' | 'unreadable';
  detail: string;
}

export interface ScrubReport {
  checked: number;
  bytes: number;
  failures: ScrubFailure[];
}

export interface BlobStoreStatus {
  driver: BlobDriver['kind'];
  location: string;
  /** Recorded blobs per tenant: count and stored (encrypted) bytes. */
  tenants: { tenantId: string; objects: number; bytes: number }[];
  objects: number;
  bytes: number;
}

export interface SweepReport {
  /** Objects with no row (rolled-back puts, deleted blobs, deleted tenants) older than the grace period. */
  orphansRemoved: number;
  /** Temp files of interrupted writes. */
  abandonedWritesRemoved: number;
}

/**
 * Encrypted blob storage for capabilities. `put` encrypts with the tenant's data key before the bytes
 * leave the process and records the row in the caller's transaction (an object whose transaction rolled
 * back is an orphan that a sweep removes); `get` decrypts and checks the SHA-256, so tampering is an
 * error, never garbage.
 */
export interface BlobStore {
  readonly driver: BlobDriver;
  put(tx: Tx, tenantId: string, content: Uint8Array, meta: NewBlob): Promise<StoredBlob>;
  /** NotFound when the tenant has no such blob; BlobIntegrityError when the object is missing or altered. */
  get(tx: Tx, tenantId: string, id: string): Promise<{ blob: StoredBlob; content: Buffer }>;
  describe(tx: Tx, tenantId: string, id: string): Promise<StoredBlob | undefined>;
  /** Removes the row now and the object once the transaction has committed (or by the sweep). */
  delete(tx: Tx, tenantId: string, id: string): Promise<void>;
  /** Tenant deletion: removes every row of the tenant now and its folder/prefix/bucket once `tx` commits. */
  deleteTenantBlobs(tx: Tx, tenantId: string): Promise<number>;
  /** Removes a tenant's objects right away (what the job queued by deleteTenantBlobs runs); outside any transaction. */
  purgeTenantObjects(tenantId: string): Promise<number>;
  /**
   * Removes orphaned objects and abandoned writes older than an hour (the `blobs.sweep` job). This and the
   * methods below open their own short transactions: call them outside any (PGlite would wait for itself).
   */
  sweep(): Promise<SweepReport>;
  /** Re-reads every recorded object (or one tenant's) and checks its stored size and SHA-256, without keys. */
  scrub(options?: { tenantId?: string }): Promise<ScrubReport>;
  /** Driver, location, and recorded objects and bytes per tenant (for the backups page). */
  status(): Promise<BlobStoreStatus>;
}

/** A blob whose stored object is missing, altered, or does not decrypt: never returned as content. */
export class BlobIntegrityError extends Error {
  override name = 'BlobIntegrityError';
  constructor(
    readonly tenantId: string,
    readonly blobId: string,
    reason: string,
  ) {
    super(`blob ${blobId} of tenant ${tenantId} failed its integrity check: ${reason}`);
  }
}

/** A key that could leave the store's root or is otherwise unusable (`..`, absolute, NUL, symlinks). */
export class BlobKeyRefused extends Error {
  override name = 'BlobKeyRefused';
  constructor(key: string, reason: string) {
    super(`blob key ${JSON.stringify(key)} refused: ${reason}`);
  }
}

/** A driver was asked for an object that does not exist. */
export class BlobObjectMissing extends Error {
  override name = 'BlobObjectMissing';
  constructor(
    readonly key: string,
    location: string,
  ) {
    super(`no object ${key} in ${location}`);
  }
}
