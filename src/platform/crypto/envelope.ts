import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256-GCM as used everywhere in Candor: 96-bit random IV, 128-bit tag, bound associated data. */
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Ciphertext that fails authentication: tampered, moved to another row, or under another key. */
export class DecryptionFailed extends Error {
  override name = 'DecryptionFailed';
}

/** iv ‖ ciphertext ‖ tag. */
export function sealBytes(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([iv, body, final, cipher.getAuthTag()]);
}

export function openBytes(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, what = 'ciphertext'): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DecryptionFailed(`${what} is truncated`);
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionFailed(`${what} failed authentication (altered, moved, or under another key)`);
  }
}
