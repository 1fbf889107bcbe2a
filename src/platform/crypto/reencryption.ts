import { and, asc, count, eq, getTableName, isNotNull, notLike, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Tx } from '../db/client.ts';
import { DecryptionFailed } from './envelope.ts';
import type { CipherContext, TenantCipher } from './keyring.ts';

/**
 * Something that holds ciphertexts made with a tenant's data key: an encrypted column, the blob store.
 * Capabilities register one per encrypted store at assembly (`runtime.keys.register(...)`, see
 * src/runtime.ts). After a data-key rotation, the `keys.reencrypt` job (and `candor keys rotate --wait`)
 * calls `reencryptBatch` until every registered store reports no stale ciphertext; only then may the
 * retired key versions be destroyed. The admin page and `candor keys status` show the counts.
 *
 * Contract:
 * - `countStale` counts the tenant's values NOT made with `currentVersion`: older versions, and values
 *   still stored in clear from before encryption existed (the upgrade path). Null/absent values do not count.
 * - `reencryptBatch` re-encrypts at most `limit` stale values of `cipher.tenantId` under `cipher.version`
 *   in `tx` (decrypt with the old version, encrypt with the current one; clear values are encrypted), and
 *   returns how many it changed. 0 means nothing is left. It must never drop a value it cannot decrypt: it
 *   throws instead (the batch's transaction rolls back). Re-encryption runs as the schema owner
 *   (`withSystem`: the application role may not update some holders, such as audit signing keys), while
 *   the counts also run in request transactions under row-level security: always filter by tenant.
 * - `countTotal` counts the tenant's values (progress: total − stale are up to date).
 * - `batchSize` (optional): values per transaction; default 200. Stores doing I/O per value (blobs) pick less.
 *
 * The blob store implements it by reading `blobs.key_version`: stale = `key_version <> currentVersion`;
 * a batch reads each object, `cipher.decryptBinary`s it, `cipher.encryptBinary`s it again and rewrites it.
 */
export interface Reencryptable {
  /** Unique and stable, shown to operators: `siem_destinations.secret`, `blobs`. */
  readonly name: string;
  readonly batchSize?: number;
  countStale(tx: Tx, tenantId: string, currentVersion: number): Promise<number>;
  countTotal(tx: Tx, tenantId: string): Promise<number>;
  reencryptBatch(tx: Tx, cipher: TenantCipher, limit: number): Promise<number>;
}

export const DEFAULT_REENCRYPT_BATCH = 200;

/** Every text envelope starts so (see keyring.ts); a value without it is legacy clear text. */
const ENVELOPE_PREFIX = 'c1.';

/** True when a stored value is an envelope; false for clear text written before encryption existed. */
export function isEnvelope(stored: string): boolean {
  return stored.startsWith(ENVELOPE_PREFIX);
}

/** A text column holding `c1.` envelopes, bound to its table, column and row id. */
export interface EncryptedTextColumn extends Reencryptable {
  /** The associated data for a row: encrypt and decrypt must use the same one. */
  context(rowId: string): CipherContext;
  /** Encrypts a value for the row. */
  seal(cipher: TenantCipher, rowId: string, plaintext: string): string;
  /**
   * Decrypts the row's stored value. A value without the envelope prefix is clear text from before the
   * column was encrypted: it is returned as it is (re-encryption turns it into an envelope).
   */
  open(cipher: TenantCipher, rowId: string, stored: string): string;
}

export interface EncryptedTextColumnDefinition {
  table: PgTable;
  /** The table's tenant_id column. */
  tenantId: AnyPgColumn;
  /** The column that identifies the row within the tenant (bound into the associated data). */
  rowId: AnyPgColumn;
  /** The encrypted text column (nullable or not). */
  column: AnyPgColumn;
}

/**
 * Declares an encrypted text column: the helpers a capability's service uses to seal and open values, and
 * the Reencryptable that keeps the column on the tenant's current data-key version.
 */
export function encryptedTextColumn(definition: EncryptedTextColumnDefinition): EncryptedTextColumn {
  const { table, tenantId, rowId, column } = definition;
  const tableName = getTableName(table);
  const name = `${tableName}.${column.name}`;
  const context = (id: string): CipherContext => ({ table: tableName, column: column.name, rowId: id });
  // Stale: any value not starting with the current version's prefix (older versions and clear text).
  const stale = (tenant: string, version: number) =>
    and(eq(tenantId, tenant), isNotNull(column), notLike(column, `${ENVELOPE_PREFIX}${version}.%`));

  const open = (cipher: TenantCipher, id: string, stored: string): string =>
    isEnvelope(stored) ? cipher.decryptText(stored, context(id)) : stored;

  return {
    name,
    context,
    seal: (cipher, id, plaintext) => cipher.encrypt(plaintext, context(id)),
    open,
    async countStale(tx, tenant, version) {
      const [row] = await tx.select({ n: count() }).from(table).where(stale(tenant, version));
      return row?.n ?? 0;
    },
    async countTotal(tx, tenant) {
      const [row] = await tx
        .select({ n: count() })
        .from(table)
        .where(and(eq(tenantId, tenant), isNotNull(column)));
      return row?.n ?? 0;
    },
    async reencryptBatch(tx, cipher, limit) {
      const rows = await tx
        .select({ id: rowId, value: column })
        .from(table)
        .where(stale(cipher.tenantId, cipher.version))
        .orderBy(asc(rowId))
        .limit(limit)
        .for('update');
      for (const row of rows) {
        const id = String(row.id);
        let plaintext: string;
        try {
          plaintext = open(cipher, id, String(row.value));
        } catch (error) {
          if (error instanceof DecryptionFailed) throw new DecryptionFailed(`${name} of row ${id}: ${error.message}`);
          throw error;
        }
        await tx.execute(
          sql`update ${table} set ${sql.identifier(column.name)} = ${cipher.encrypt(plaintext, context(id))}
              where ${tenantId} = ${cipher.tenantId} and ${rowId} = ${row.id}`,
        );
      }
      return rows.length;
    },
  };
}
