import { BlobKeyRefused } from './blob-store.ts';

// A segment may not start with a dot: that refuses `.` and `..`, and keeps the local driver's temp files
// (`.name.tmp`) outside the key space. The character set is safe on every file system and in S3 URLs.
const SEGMENT = /^[A-Za-z0-9_=+:@-][A-Za-z0-9._=+:@-]*$/;
const MAX_KEY_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 255;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The segments of a valid object key; throws BlobKeyRefused for anything that could escape a root. */
export function keySegments(key: string): string[] {
  if (key.length === 0) throw new BlobKeyRefused(key, 'empty');
  if (key.length > MAX_KEY_LENGTH) throw new BlobKeyRefused(key.slice(0, 64), `longer than ${MAX_KEY_LENGTH} characters`);
  if (key.includes('\0')) throw new BlobKeyRefused(key, 'contains NUL');
  if (key.startsWith('/') || key.includes('\\')) throw new BlobKeyRefused(key, 'absolute paths and backslashes are not keys');
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '..' || segment === '.') throw new BlobKeyRefused(key, 'contains a relative path segment');
    if (segment.length === 0) throw new BlobKeyRefused(key, 'contains an empty segment');
    if (segment.length > MAX_SEGMENT_LENGTH) throw new BlobKeyRefused(key, `a segment is longer than ${MAX_SEGMENT_LENGTH}`);
    if (!SEGMENT.test(segment)) throw new BlobKeyRefused(key, 'only letters, digits and . _ - + = : @ are allowed');
  }
  return segments;
}

/** A valid listing prefix: '' (everything), or a key's beginning; a trailing `/` means "inside this folder". */
export function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  keySegments(trimmed);
  return prefix;
}

/** `<tenantId>/<blobId>` for a new blob; `.v<N>` once re-encrypted under data-key version N. */
export function blobObjectKey(tenantId: string, blobId: string, reencryptedTo?: number): string {
  return reencryptedTo === undefined ? `${tenantId}/${blobId}` : `${tenantId}/${blobId}.v${reencryptedTo}`;
}

/** The tenant folder/prefix of every blob of a tenant. */
export function tenantPrefix(tenantId: string): string {
  return `${tenantId}/`;
}

const BLOB_OBJECT_KEY = /^([0-9a-f-]{36})\/([0-9a-f-]{36})(?:\.v\d+)?$/;

/**
 * The tenant and blob of a key the BlobStore wrote, or undefined for any other key (backups or others
 * may share the driver under other keys; the sweep never touches those).
 */
export function parseBlobObjectKey(key: string): { tenantId: string; blobId: string } | undefined {
  const match = BLOB_OBJECT_KEY.exec(key);
  if (!match?.[1] || !match[2] || !isUuid(match[1]) || !isUuid(match[2])) return undefined;
  return { tenantId: match[1], blobId: match[2] };
}
