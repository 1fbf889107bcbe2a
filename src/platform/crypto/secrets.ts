import { createHash, randomBytes } from 'node:crypto';

/** A URL-safe random secret with `bytes` bytes of entropy (256 bits by default). */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Secrets are stored only as this digest: a database leak does not leak working links or tokens. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
