import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { TenantCipher } from '../../platform/crypto/keyring.ts';
import { encryptedTextColumn, type Reencryptable } from '../../platform/crypto/reencryption.ts';
import {
  emailIndexCounts,
  type IndexedTable,
  type RequestRow,
  rowsWithoutEmailIndex,
  type SignatureRow,
  setEmailIndex,
} from './store.ts';
import { documentRequests, ndaSignatures } from './tables.ts';

/**
 * The requester's personal data at rest: sealed with the tenant's data key, each value bound to its table, column
 * and row id, so a copied ciphertext opens nowhere else. A row's id is chosen before it is written (the binding
 * needs it). The email's blind index (HMAC under the tenant's index key) finds a requester's earlier requests and
 * signatures without opening them.
 */

const requestColumn = (column: AnyPgColumn) =>
  encryptedTextColumn({ table: documentRequests, tenantId: documentRequests.tenantId, rowId: documentRequests.id, column });
const signatureColumn = (column: AnyPgColumn) =>
  encryptedTextColumn({ table: ndaSignatures, tenantId: ndaSignatures.tenantId, rowId: ndaSignatures.id, column });

const REQUEST_COLUMNS = {
  name: requestColumn(documentRequests.name),
  email: requestColumn(documentRequests.email),
  company: requestColumn(documentRequests.company),
  reason: requestColumn(documentRequests.reason),
  ip: requestColumn(documentRequests.ip),
  userAgent: requestColumn(documentRequests.userAgent),
};
const SIGNATURE_COLUMNS = {
  email: signatureColumn(ndaSignatures.email),
  typedName: signatureColumn(ndaSignatures.typedName),
  ip: signatureColumn(ndaSignatures.ip),
  userAgent: signatureColumn(ndaSignatures.userAgent),
};

type RequestPersonal = Pick<RequestRow, keyof typeof REQUEST_COLUMNS>;
type SignaturePersonal = Pick<SignatureRow, keyof typeof SIGNATURE_COLUMNS>;

const EMAIL_INDEX = 'document-request-email';

/** The blind index of an address: the same for any spelling of its case. */
export function emailIndexOf(cipher: TenantCipher, email: string): string {
  return cipher.blindIndex(email.trim().toLowerCase(), EMAIL_INDEX);
}

function sealAll<K extends string>(
  columns: Record<K, { seal(c: TenantCipher, id: string, v: string): string }>,
  cipher: TenantCipher,
  id: string,
  clear: Record<K, string>,
): Record<K, string> {
  const sealed = {} as Record<K, string>;
  for (const key of Object.keys(columns) as K[]) sealed[key] = columns[key].seal(cipher, id, clear[key]);
  return sealed;
}

function openAll<K extends string, R extends Record<K, string> & { id: string }>(
  columns: Record<K, { open(c: TenantCipher, id: string, v: string): string }>,
  cipher: TenantCipher,
  row: R,
): R {
  const opened = { ...row };
  for (const key of Object.keys(columns) as K[]) (opened as Record<K, string>)[key] = columns[key].open(cipher, row.id, row[key]);
  return opened;
}

/** A new request's personal columns, sealed for row `id`, with the email's blind index. */
export function sealRequest(cipher: TenantCipher, id: string, clear: RequestPersonal) {
  return { ...sealAll(REQUEST_COLUMNS, cipher, id, clear), emailIndex: emailIndexOf(cipher, clear.email) };
}

/** A stored request with its personal columns opened (rows from before sealing pass through as they are). */
export function openRequest(cipher: TenantCipher, row: RequestRow): RequestRow {
  return openAll(REQUEST_COLUMNS, cipher, row);
}

export function sealSignature(cipher: TenantCipher, id: string, clear: SignaturePersonal) {
  return { ...sealAll(SIGNATURE_COLUMNS, cipher, id, clear), emailIndex: emailIndexOf(cipher, clear.email) };
}

export function openSignature(cipher: TenantCipher, row: SignatureRow): SignatureRow {
  return openAll(SIGNATURE_COLUMNS, cipher, row);
}

/**
 * Fills the email blind index of rows written before sealing existed, through the keys capability's sweep (which
 * also seals their clear columns through the holders above). "Stale" here means "not indexed yet".
 */
function emailIndexBackfill(which: IndexedTable, email: { open(c: TenantCipher, id: string, v: string): string }): Reencryptable {
  return {
    name: `${which === 'requests' ? 'document_requests' : 'nda_signatures'}.email_index`,
    countStale: async (tx, tenantId) => (await emailIndexCounts(tx, which, tenantId)).missing,
    countTotal: async (tx, tenantId) => (await emailIndexCounts(tx, which, tenantId)).total,
    async reencryptBatch(tx, cipher, limit) {
      const rows = await rowsWithoutEmailIndex(tx, which, cipher.tenantId, limit);
      for (const row of rows)
        await setEmailIndex(tx, which, cipher.tenantId, row.id, emailIndexOf(cipher, email.open(cipher, row.id, row.email)));
      return rows.length;
    },
  };
}

/** Registered with the keyring (modules/encrypted-columns.ts): rotation re-encrypts them, the sweep seals old rows. */
export const documentRequestEncryptedColumns: Reencryptable[] = [
  ...Object.values(REQUEST_COLUMNS),
  ...Object.values(SIGNATURE_COLUMNS),
  emailIndexBackfill('requests', REQUEST_COLUMNS.email),
  emailIndexBackfill('signatures', SIGNATURE_COLUMNS.email),
];
