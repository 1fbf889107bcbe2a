import { createHmac, randomBytes } from 'node:crypto';
import type { Database, Tx } from '../db/client.ts';
import { DecryptionFailed, KEY_BYTES, openBytes, sealBytes } from './envelope.ts';
import { MasterKeyError, type MasterKeyProvider } from './master-key.ts';
import type { Reencryptable } from './reencryption.ts';
import {
  allTenantKeys,
  countTenantKeys,
  deleteRetiredKeys,
  deleteTenantKeys,
  insertTenantKey,
  type KeyPurpose,
  lockKeyCreation,
  lockMasterKeyChange,
  lockTenantRotation,
  readMasterKeyCheck,
  retireActiveKeys,
  type TenantKeyRow,
  tenantKeyRows,
  updateWrappedKey,
  writeMasterKeyCheck,
} from './store.ts';

/** Where a ciphertext lives; bound as associated data so it cannot be moved to another row or column. */
export interface CipherContext {
  table: string;
  column: string;
  rowId: string;
}

/**
 * One tenant's keys, read once per transaction. Services that encrypt several values get one and use it
 * for all of them; the keys it holds are exactly the committed-or-own rows that transaction sees.
 */
export interface TenantCipher {
  readonly tenantId: string;
  /** The data-key version new ciphertexts use. */
  readonly version: number;
  /** Text envelope `c1.<version>.<base64url(iv ‖ ciphertext ‖ tag)>`, for text columns. */
  encrypt(plaintext: string | Uint8Array, context: CipherContext): string;
  decrypt(sealed: string, context: CipherContext): Buffer;
  decryptText(sealed: string, context: CipherContext): string;
  /** Binary envelope `CDB1 ‖ version(u32) ‖ iv ‖ ciphertext ‖ tag`, for blobs. */
  encryptBinary(plaintext: Uint8Array, context: CipherContext): Buffer;
  decryptBinary(sealed: Uint8Array, context: CipherContext): Buffer;
  /** HMAC-SHA256 under the tenant's index key, for equality lookups of encrypted values (hex). */
  blindIndex(value: string, purpose: string): string;
}

/** A key version as operators see it: never the key itself. */
export interface TenantKeyInfo {
  purpose: KeyPurpose;
  version: number;
  state: 'active' | 'retired';
  masterKeyId: string;
  createdAt: Date;
  retiredAt: Date | null;
}

export interface Keyring {
  /** The master key this process wraps new keys with (it changes after `rewrapAll` and `useMaster`). */
  readonly master: MasterKeyProvider;
  forTenant(tx: Tx, tenantId: string): Promise<TenantCipher>;
  encrypt(tx: Tx, tenantId: string, plaintext: string | Uint8Array, context: CipherContext): Promise<string>;
  decrypt(tx: Tx, tenantId: string, sealed: string, context: CipherContext): Promise<Buffer>;
  decryptText(tx: Tx, tenantId: string, sealed: string, context: CipherContext): Promise<string>;
  blindIndex(tx: Tx, tenantId: string, value: string, purpose: string): Promise<string>;
  /** The tenant's key versions by purpose, oldest first; none before the tenant's first use of keys. */
  describeTenantKeys(tx: Tx, tenantId: string): Promise<TenantKeyInfo[]>;
  /** Makes a new data-key version the one new writes use; older versions keep decrypting. */
  rotateDataKey(tx: Tx, tenantId: string, now?: Date): Promise<number>;
  /**
   * Deletes the tenant's retired data-key versions and returns them. The caller must first have checked, in
   * the same transaction, that no registered holder has a ciphertext under them (see modules/keys).
   */
  destroyRetiredDataKeys(tx: Tx, tenantId: string): Promise<number[]>;
  /** Crypto-shredding: deletes every key of the tenant; what was encrypted for it is unreadable for good. */
  destroyTenantKeys(tx: Tx, tenantId: string): Promise<number>;
  /**
   * Re-wraps every tenant key in the database under `next` and records `next` as the database's master key,
   * in `tx`. After the commit, `useMaster(next)` makes this process wrap with it too.
   */
  rewrapAll(tx: Tx, next: MasterKeyProvider): Promise<{ tenantId: string; keys: number }[]>;
  /** Switches this process to `next` (after `rewrapAll` committed): no restart needed. */
  useMaster(next: MasterKeyProvider): void;
  /** Registers ciphertext holders for re-encryption and status (once per process, at assembly). */
  register(...holders: Reencryptable[]): void;
  /** Every registered ciphertext holder, in registration order. */
  readonly reencryptables: readonly Reencryptable[];
}

const TEXT_PREFIX = 'c1';
const BINARY_MAGIC = Buffer.from('CDB1');

/** The data-key version a text or binary envelope was made with, without decrypting it. */
export function envelopeVersion(sealed: string | Uint8Array): number {
  if (typeof sealed === 'string') {
    const [prefix, version] = sealed.split('.', 2);
    const n = Number(version);
    if (prefix !== TEXT_PREFIX || !Number.isInteger(n) || n < 1) throw new DecryptionFailed('not a Candor ciphertext');
    return n;
  }
  if (sealed.length < 8 || !Buffer.from(sealed.subarray(0, 4)).equals(BINARY_MAGIC))
    throw new DecryptionFailed('not a Candor blob');
  return Buffer.from(sealed.subarray(4, 8)).readUInt32BE(0);
}

function associatedData(tenantId: string, context: CipherContext, version: number): Buffer {
  return Buffer.from(['candor/v1', tenantId, context.table, context.column, context.rowId, String(version)].join('\0'));
}

function wrapContext(tenantId: string, purpose: KeyPurpose, version: number): string {
  return `tenant-key/${tenantId}/${purpose}/${version}`;
}

function infoOf(row: TenantKeyRow): TenantKeyInfo {
  return {
    purpose: row.purpose,
    version: row.version,
    state: row.state,
    masterKeyId: row.masterKeyId,
    createdAt: row.createdAt,
    retiredAt: row.retiredAt,
  };
}

// Unwrapping is a pure function of (master key, wrapped bytes, context): memoizing it is always correct.
// The wrapped bytes are part of the cache key, so a deleted and recreated tenant never meets its old keys.
const UNWRAP_CACHE_LIMIT = 10_000;

export function createKeyring(master: MasterKeyProvider, clock: { now(): Date } = { now: () => new Date() }): Keyring {
  const unwrapped = new Map<string, Buffer>();
  // Every master key this process has held: rows are unwrapped by the one named beside them, so a re-wrap
  // that commits while other transactions still read the old rows breaks nothing in this process.
  const masters = new Map<string, MasterKeyProvider>([[master.id, master]]);
  let current = master;
  const holders: Reencryptable[] = [];

  function masterFor(id: string, what: string): MasterKeyProvider {
    const provider = masters.get(id);
    if (provider) return provider;
    throw new MasterKeyError(
      `${what} is wrapped by master key ${id}, which this process does not hold (it has ${current.id} from ${current.source}); the master key was changed with 'candor keys rotate --new-master-key-file': restart Candor with the new key`,
    );
  }

  async function unwrap(row: TenantKeyRow): Promise<Buffer> {
    const cacheKey = `${row.masterKeyId}:${row.tenantId}:${row.purpose}:${row.version}:${row.wrappedKey}`;
    const hit = unwrapped.get(cacheKey);
    if (hit) return hit;
    const provider = masterFor(row.masterKeyId, `tenant key ${row.purpose} v${row.version}`);
    const key = await provider.unwrap(Buffer.from(row.wrappedKey, 'base64'), wrapContext(row.tenantId, row.purpose, row.version));
    if (unwrapped.size >= UNWRAP_CACHE_LIMIT) unwrapped.clear();
    unwrapped.set(cacheKey, key);
    return key;
  }

  /**
   * The master key new tenant keys are wrapped by: the database's, as its check row says. Read under a
   * shared lock that a re-wrap takes exclusively, so no key is ever wrapped by a master the database left.
   */
  async function wrappingMaster(tx: Tx): Promise<MasterKeyProvider> {
    await lockKeyCreation(tx);
    const check = await readMasterKeyCheck(tx);
    // No check row: a database no runtime has opened (tests of the core); the runtime writes it at start.
    if (!check) return current;
    return masterFor(check.masterKeyId, 'this database');
  }

  async function createKey(tx: Tx, tenantId: string, purpose: KeyPurpose, version: number): Promise<void> {
    const wrapper = await wrappingMaster(tx);
    const wrapped = await wrapper.wrap(randomBytes(KEY_BYTES), wrapContext(tenantId, purpose, version));
    await insertTenantKey(tx, { tenantId, purpose, version, wrappedKey: wrapped.toString('base64'), masterKeyId: wrapper.id });
  }

  async function loadRows(tx: Tx, tenantId: string): Promise<TenantKeyRow[]> {
    let rows = await tenantKeyRows(tx, tenantId);
    const missing = (['data', 'index'] as const).filter((p) => !rows.some((r) => r.purpose === p));
    if (missing.length === 0) return rows;
    // A tenant's first keys are made on first use, in the caller's transaction: they exist iff it commits.
    for (const purpose of missing) await createKey(tx, tenantId, purpose, 1);
    rows = await tenantKeyRows(tx, tenantId);
    return rows;
  }

  async function forTenant(tx: Tx, tenantId: string): Promise<TenantCipher> {
    const rows = await loadRows(tx, tenantId);
    const dataKeys = new Map<number, Buffer>();
    for (const row of rows.filter((r) => r.purpose === 'data')) dataKeys.set(row.version, await unwrap(row));
    const active = rows.filter((r) => r.purpose === 'data' && r.state === 'active').at(-1);
    const indexRow = rows.filter((r) => r.purpose === 'index').at(-1);
    if (!active || !indexRow) throw new MasterKeyError(`tenant ${tenantId} has no active data key`);
    const version = active.version;
    const currentKey = dataKeys.get(version) as Buffer;
    const indexKey = await unwrap(indexRow);

    const keyFor = (v: number): Buffer => {
      const key = dataKeys.get(v);
      if (!key) throw new DecryptionFailed(`data key version ${v} of this tenant no longer exists`);
      return key;
    };
    const encryptBinary = (plaintext: Uint8Array, context: CipherContext) => {
      const header = Buffer.alloc(8);
      BINARY_MAGIC.copy(header, 0);
      header.writeUInt32BE(version, 4);
      return Buffer.concat([header, sealBytes(currentKey, plaintext, associatedData(tenantId, context, version))]);
    };
    const decrypt = (sealed: string, context: CipherContext) => {
      const v = envelopeVersion(sealed);
      const body = Buffer.from(sealed.slice(sealed.indexOf('.', TEXT_PREFIX.length + 1) + 1), 'base64url');
      return openBytes(keyFor(v), body, associatedData(tenantId, context, v));
    };
    return {
      tenantId,
      version,
      encrypt(plaintext, context) {
        const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
        const sealed = sealBytes(currentKey, bytes, associatedData(tenantId, context, version));
        return `${TEXT_PREFIX}.${version}.${sealed.toString('base64url')}`;
      },
      decrypt,
      decryptText: (sealed, context) => decrypt(sealed, context).toString('utf8'),
      encryptBinary,
      decryptBinary(sealed, context) {
        const v = envelopeVersion(sealed);
        return openBytes(keyFor(v), sealed.subarray(8), associatedData(tenantId, context, v), 'blob');
      },
      blindIndex: (value, purpose) => createHmac('sha256', indexKey).update(`${purpose}\0${value}`).digest('hex'),
    };
  }

  return {
    get master() {
      return current;
    },
    forTenant,
    encrypt: async (tx, tenantId, plaintext, context) => (await forTenant(tx, tenantId)).encrypt(plaintext, context),
    decrypt: async (tx, tenantId, sealed, context) => (await forTenant(tx, tenantId)).decrypt(sealed, context),
    decryptText: async (tx, tenantId, sealed, context) => (await forTenant(tx, tenantId)).decryptText(sealed, context),
    blindIndex: async (tx, tenantId, value, purpose) => (await forTenant(tx, tenantId)).blindIndex(value, purpose),
    describeTenantKeys: async (tx, tenantId) => (await tenantKeyRows(tx, tenantId)).map(infoOf),
    async rotateDataKey(tx, tenantId, now = clock.now()) {
      await lockTenantRotation(tx, tenantId); // two rotations at once would both pick the same version
      const rows = await loadRows(tx, tenantId);
      const next = Math.max(...rows.filter((r) => r.purpose === 'data').map((r) => r.version)) + 1;
      await retireActiveKeys(tx, tenantId, 'data', now);
      await createKey(tx, tenantId, 'data', next);
      return next;
    },
    destroyRetiredDataKeys: (tx, tenantId) => deleteRetiredKeys(tx, tenantId, 'data'),
    destroyTenantKeys: (tx, tenantId) => deleteTenantKeys(tx, tenantId),
    async rewrapAll(tx, next) {
      if (next.id === current.id) throw new MasterKeyError(`the new master key is the current one (id ${next.id})`);
      await lockMasterKeyChange(tx); // waits for key creations in flight; keeps new ones out until commit
      masters.set(next.id, next);
      const perTenant = new Map<string, number>();
      for (const row of await allTenantKeys(tx)) {
        const key = await unwrap(row).catch((error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          throw new DecryptionFailed(
            `tenant ${row.tenantId}'s ${row.purpose} key v${row.version}: ${reason}; nothing was re-wrapped`,
          );
        });
        const wrapped = await next.wrap(key, wrapContext(row.tenantId, row.purpose, row.version));
        await updateWrappedKey(tx, row, wrapped.toString('base64'), next.id);
        perTenant.set(row.tenantId, (perTenant.get(row.tenantId) ?? 0) + 1);
      }
      await recordMasterKey(tx, next);
      return [...perTenant].map(([tenantId, keys]) => ({ tenantId, keys }));
    },
    useMaster(next) {
      masters.set(next.id, next);
      current = next;
    },
    register(...added) {
      for (const holder of added) {
        if (holders.some((h) => h.name === holder.name)) throw new Error(`${holder.name} is registered twice`);
        holders.push(holder);
      }
    },
    reencryptables: holders,
  };
}

const PROOF_CONTEXT = 'master-key-check';
const PROOF_TEXT = 'candor master key check';

/**
 * Refuses a master key that is not the one this database's keys are wrapped by. A database without a
 * check row records one for this key (first start), unless it already holds wrapped keys.
 */
export async function verifyMasterKey(db: Database, master: MasterKeyProvider): Promise<void> {
  await db.withSystem(async (tx) => {
    const check = await readMasterKeyCheck(tx);
    if (!check) {
      if ((await countTenantKeys(tx)) > 0)
        throw new MasterKeyError('this database holds wrapped keys but no master key check; refusing to guess');
      await writeMasterKeyCheck(tx, master.id, (await master.wrap(Buffer.from(PROOF_TEXT), PROOF_CONTEXT)).toString('base64'));
      return;
    }
    if (check.masterKeyId !== master.id) {
      throw new MasterKeyError(
        `the master key from ${master.source} (id ${master.id}) is not the key this database was encrypted with (id ${check.masterKeyId}); Candor will not start with it`,
      );
    }
    try {
      await master.unwrap(Buffer.from(check.proof, 'base64'), PROOF_CONTEXT);
    } catch {
      throw new MasterKeyError(`the master key from ${master.source} does not open this database's key check`);
    }
  });
}

/** Records a new master key as the database's key (after every tenant key was re-wrapped under it). */
export async function recordMasterKey(tx: Tx, master: MasterKeyProvider): Promise<void> {
  await writeMasterKeyCheck(tx, master.id, (await master.wrap(Buffer.from(PROOF_TEXT), PROOF_CONTEXT)).toString('base64'));
}
