import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../context.ts';
import { DecryptionFailed } from '../crypto/envelope.ts';
import type { CipherContext, Keyring, TenantCipher } from '../crypto/keyring.ts';
import type { Reencryptable } from '../crypto/reencryption.ts';
import type { Database, Tx } from '../db/client.ts';
import { InvalidInput, NotFound } from '../errors.ts';
import { defineJob, type Jobs, type RegisteredJob, registrable } from '../jobs/jobs.ts';
import { type BlobDriver, BlobIntegrityError, BlobObjectMissing, type BlobStore, type StoredBlob } from './blob-store.ts';
import { blobObjectKey, isUuid, parseBlobObjectKey, tenantPrefix } from './keys.ts';
import { removeUnreferenced, scrubStoredObjects, sweepOrphans } from './maintenance.ts';
import {
  type BlobRow,
  blobTotalsByTenant,
  countStaleBlobs,
  countTenantBlobs,
  deleteBlobRow,
  deleteTenantBlobRows,
  findBlobRow,
  insertBlobRow,
  lockStaleBlobs,
  updateBlobObject,
} from './store.ts';

// Control characters never belong in a media type or a file name (header injection, terminal tricks).
const CONTROL = /\p{Cc}/u;

const NewBlobInput = z.object({
  category: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be lower-case letters, digits and dashes, starting with a letter'),
  contentType: z
    .string()
    .trim()
    .max(255)
    .regex(/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/, 'must be a media type such as application/pdf')
    .refine((v) => !CONTROL.test(v), 'must not contain control characters'),
  filename: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .refine((v) => !CONTROL.test(v), 'must not contain control characters')
    .optional(),
});

const contentContext = (id: string): CipherContext => ({ table: 'blobs', column: 'content', rowId: id });
const filenameContext = (id: string): CipherContext => ({ table: 'blobs', column: 'filename', rowId: id });

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function storedBlob(row: BlobRow, filename: string | null): StoredBlob {
  return {
    tenantId: row.tenantId,
    id: row.id,
    category: row.category,
    contentType: row.contentType,
    filename,
    size: row.size,
    sha256: row.sha256,
    storedSize: row.storedSize,
    storedSha256: row.storedSha256,
    keyVersion: row.keyVersion,
    objectKey: row.objectKey,
    createdAt: row.createdAt,
  };
}

export interface BlobSystemOptions {
  db: Database;
  driver: BlobDriver;
  keys: Keyring;
  jobs: Jobs;
  clock: Clock;
  log: Logger;
}

export interface BlobSystem {
  store: BlobStore;
  jobs: RegisteredJob[];
  /** Keeps every object on its tenant's current data-key version after a rotation (register with runtime.keys). */
  reencryptable: Reencryptable;
}

// Each blob is read, decrypted, re-encrypted and written inside the batch's transaction: keep batches short.
const REENCRYPT_BATCH = 20;

/**
 * The BlobStore over a driver, and its jobs: `blobs.delete-object` and `blobs.purge-tenant` (queued in the
 * transaction that deleted the rows, so objects go once it commits) and the hourly `blobs.sweep`.
 */
export function createBlobSystem({ db, driver, keys, jobs, clock, log }: BlobSystemOptions): BlobSystem {
  const maintenance = { db, driver, log };

  function requireTenantId(tenantId: string): void {
    if (!isUuid(tenantId)) throw new InvalidInput(`tenant id ${JSON.stringify(tenantId)} is not a UUID`);
  }

  /** The stored object of a row, checked against its recorded size and SHA-256 before any key touches it. */
  async function readStoredObject(row: BlobRow): Promise<Buffer> {
    let stored: Buffer;
    try {
      stored = await driver.read(row.objectKey);
    } catch (error) {
      if (error instanceof BlobObjectMissing) {
        throw new BlobIntegrityError(
          row.tenantId,
          row.id,
          `its stored object ${row.objectKey} is missing from ${driver.location}`,
        );
      }
      throw error;
    }
    if (stored.length !== row.storedSize || sha256(stored) !== row.storedSha256) {
      throw new BlobIntegrityError(
        row.tenantId,
        row.id,
        `the stored object ${row.objectKey} does not match its recorded size and SHA-256 (altered or corrupted)`,
      );
    }
    return stored;
  }

  function openSealed(row: BlobRow, cipher: TenantCipher, stored: Buffer): Buffer {
    let content: Buffer;
    try {
      content = cipher.decryptBinary(stored, contentContext(row.id));
    } catch (error) {
      if (error instanceof DecryptionFailed) {
        throw new BlobIntegrityError(row.tenantId, row.id, `it does not decrypt under this tenant's key: ${error.message}`);
      }
      throw error;
    }
    if (content.length !== row.size || sha256(content) !== row.sha256) {
      throw new BlobIntegrityError(row.tenantId, row.id, 'the decrypted content does not match its recorded SHA-256');
    }
    return content;
  }

  function openFilename(row: BlobRow, cipher: TenantCipher): string | null {
    if (row.filenameSealed === null) return null;
    try {
      return cipher.decryptText(row.filenameSealed, filenameContext(row.id));
    } catch (error) {
      if (error instanceof DecryptionFailed) throw new BlobIntegrityError(row.tenantId, row.id, 'its file name does not decrypt');
      throw error;
    }
  }

  async function findRow(tx: Tx, tenantId: string, id: string): Promise<BlobRow | undefined> {
    requireTenantId(tenantId);
    return isUuid(id) ? findBlobRow(tx, tenantId, id) : undefined;
  }

  const deleteObjectJob = defineJob({
    name: 'blobs.delete-object',
    payload: z.object({ tenantId: z.uuid(), objectKey: z.string().max(200) }),
    handler: async ({ tenantId, objectKey }) => {
      if (parseBlobObjectKey(objectKey)?.tenantId !== tenantId)
        throw new Error(`${objectKey} is not a blob of tenant ${tenantId}`);
      await removeUnreferenced(maintenance, [{ tenantId, objectKey }]);
    },
  });

  async function purgeTenantObjects(tenantId: string): Promise<number> {
    requireTenantId(tenantId);
    // Never for a tenant that still has blobs: this path deletes without looking at rows.
    const remaining = await db.withSystem((tx) => countTenantBlobs(tx, tenantId));
    if (remaining > 0) throw new Error(`tenant ${tenantId} still has blobs; refusing to remove its objects`);
    const removed = await driver.deletePrefix(tenantPrefix(tenantId));
    log.info({ tenantId, removed, location: driver.location }, "removed a deleted tenant's blob objects");
    return removed;
  }

  const purgeTenantJob = defineJob({
    name: 'blobs.purge-tenant',
    payload: z.object({ tenantId: z.uuid() }),
    handler: async ({ tenantId }) => {
      await purgeTenantObjects(tenantId);
    },
  });

  const sweepJob = defineJob({
    name: 'blobs.sweep',
    payload: z.object({}),
    cron: '41 * * * *',
    cronPayload: {},
    handler: async () => {
      await sweepOrphans(maintenance, clock.now());
    },
  });

  /** Seals one blob again under the cipher's current version, as a new object; the old one goes after commit. */
  async function reencryptBlob(tx: Tx, cipher: TenantCipher, row: BlobRow): Promise<void> {
    const content = openSealed(row, cipher, await readStoredObject(row));
    const filename = openFilename(row, cipher);
    const sealed = cipher.encryptBinary(content, contentContext(row.id));
    // A new object key: the old object stays valid until this transaction commits (it may roll back).
    const objectKey = blobObjectKey(row.tenantId, row.id, cipher.version);
    await driver.write(objectKey, sealed);
    await updateBlobObject(tx, row.tenantId, row.id, {
      storedSize: sealed.length,
      storedSha256: sha256(sealed),
      keyVersion: cipher.version,
      objectKey,
      filenameSealed: filename === null ? null : cipher.encrypt(filename, filenameContext(row.id)),
    });
    await jobs.enqueue(deleteObjectJob, { tenantId: row.tenantId, objectKey: row.objectKey }, { tx });
  }

  const store: BlobStore = {
    driver,

    async put(tx, tenantId, content, meta) {
      requireTenantId(tenantId);
      const input = NewBlobInput.parse(meta);
      const id = randomUUID();
      const cipher = await keys.forTenant(tx, tenantId);
      const sealed = cipher.encryptBinary(content, contentContext(id));
      const objectKey = blobObjectKey(tenantId, id);
      // The object is durable before the row exists: a committed row always has its bytes.
      await driver.write(objectKey, sealed);
      const row = await insertBlobRow(tx, {
        tenantId,
        id,
        category: input.category,
        contentType: input.contentType,
        filenameSealed: input.filename ? cipher.encrypt(input.filename, filenameContext(id)) : null,
        size: content.byteLength,
        sha256: sha256(content),
        storedSize: sealed.length,
        storedSha256: sha256(sealed),
        keyVersion: cipher.version,
        objectKey,
        createdAt: clock.now(),
      });
      return storedBlob(row, input.filename ?? null);
    },

    async get(tx, tenantId, id) {
      const row = await findRow(tx, tenantId, id);
      if (!row) throw new NotFound('blob', id);
      const stored = await readStoredObject(row);
      const cipher = await keys.forTenant(tx, tenantId);
      const content = openSealed(row, cipher, stored);
      return { blob: storedBlob(row, openFilename(row, cipher)), content };
    },

    async describe(tx, tenantId, id) {
      const row = await findRow(tx, tenantId, id);
      if (!row) return undefined;
      const filename = row.filenameSealed === null ? null : openFilename(row, await keys.forTenant(tx, tenantId));
      return storedBlob(row, filename);
    },

    async delete(tx, tenantId, id) {
      requireTenantId(tenantId);
      if (!isUuid(id)) return;
      const objectKey = await deleteBlobRow(tx, tenantId, id);
      if (objectKey) await jobs.enqueue(deleteObjectJob, { tenantId, objectKey }, { tx });
    },

    async deleteTenantBlobs(tx, tenantId) {
      requireTenantId(tenantId);
      const deleted = await deleteTenantBlobRows(tx, tenantId);
      // Queued even with no rows: the folder may still hold orphans or temp files.
      await jobs.enqueue(purgeTenantJob, { tenantId }, { tx, singletonKey: `blobs-purge:${tenantId}` });
      return deleted;
    },

    purgeTenantObjects,

    sweep: () => sweepOrphans(maintenance, clock.now()),

    async scrub(options = {}) {
      if (options.tenantId) requireTenantId(options.tenantId);
      return scrubStoredObjects(maintenance, options.tenantId);
    },

    async status() {
      const tenants = await db.withSystem((tx) => blobTotalsByTenant(tx));
      return {
        driver: driver.kind,
        location: driver.location,
        tenants,
        objects: tenants.reduce((n, t) => n + t.objects, 0),
        bytes: tenants.reduce((n, t) => n + t.bytes, 0),
      };
    },
  };

  const reencryptable: Reencryptable = {
    name: 'blobs',
    batchSize: REENCRYPT_BATCH,
    countStale: (tx, tenantId, currentVersion) => countStaleBlobs(tx, tenantId, currentVersion),
    countTotal: (tx, tenantId) => countTenantBlobs(tx, tenantId),
    async reencryptBatch(tx, cipher, limit) {
      const rows = await lockStaleBlobs(tx, cipher.tenantId, cipher.version, limit);
      for (const row of rows) await reencryptBlob(tx, cipher, row);
      return rows.length;
    },
  };

  return {
    store,
    jobs: [registrable(deleteObjectJob), registrable(purgeTenantJob), registrable(sweepJob)],
    reencryptable,
  };
}
