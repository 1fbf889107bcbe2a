import { createPublicKey, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ed25519PublicKey, type VerifyResult, verifyLines } from '../../platform/audit/verify.ts';

// Verifying an exported file needs no database: this file imports nothing that opens one, so the CLI can run
// it in its own process even while a server holds the data directory.

const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The public key a person passes as `--public-key`: the base64 raw Ed25519 key (as published in the
 * checkpoints document), or the path of a file holding it (or a PEM public key).
 */
export async function trustedPublicKey(option: string): Promise<KeyObject> {
  const text = option.trim();
  if (BASE64_KEY.test(text)) return ed25519PublicKey(text);
  let content: string;
  try {
    content = (await readFile(path.resolve(text), 'utf8')).trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`--public-key is neither a base64 Ed25519 key nor a readable file (${code})`);
  }
  if (content.startsWith('-----BEGIN PUBLIC KEY-----')) {
    const key = createPublicKey(content);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('--public-key is not an Ed25519 key');
    return key;
  }
  if (!BASE64_KEY.test(content)) throw new Error(`--public-key file ${text} does not hold a base64 Ed25519 public key`);
  return ed25519PublicKey(content);
}

/** Verifies an exported trail (JSON Lines) read from a file, line by line, without holding it all in memory. */
export async function verifyTrailFile(file: string, publicKey?: string): Promise<VerifyResult> {
  const key = publicKey === undefined ? undefined : await trustedPublicKey(publicKey);
  const stream = createReadStream(path.resolve(file), { encoding: 'utf8' });
  // Surface "no such file" as itself rather than as an empty, truncated trail.
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    return await verifyLines(lines, key);
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Verifies an exported trail given as text (standard input). */
export async function verifyTrailText(text: string, publicKey?: string): Promise<VerifyResult> {
  const key = publicKey === undefined ? undefined : await trustedPublicKey(publicKey);
  return verifyLines(text.split('\n'), key);
}
