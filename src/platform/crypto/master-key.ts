import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEY_BYTES, openBytes, sealBytes } from './envelope.ts';

/**
 * What wraps tenant data keys. The local provider holds a 32-byte key in memory; a cloud KMS plugs in by
 * implementing the same two calls (its `wrap`/`unwrap` become Encrypt/Decrypt requests).
 */
export interface MasterKeyProvider {
  /** A stable, non-secret fingerprint recorded beside every wrapped key. */
  readonly id: string;
  /** Where the key came from, for messages: "CANDOR_MASTER_KEY", a file path, a KMS key name. */
  readonly source: string;
  wrap(plaintext: Uint8Array, context: string): Promise<Buffer>;
  unwrap(wrapped: Uint8Array, context: string): Promise<Buffer>;
}

/** A master key that cannot be used: main.ts prints the message as the process's one-line reason. */
export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

export function masterKeyId(key: Uint8Array): string {
  return createHmac('sha256', key).update('candor master key id').digest('hex').slice(0, 16);
}

export function localMasterKey(key: Uint8Array, source: string): MasterKeyProvider {
  if (key.length !== KEY_BYTES) throw new MasterKeyError(`${source}: a master key is ${KEY_BYTES} bytes (got ${key.length})`);
  const secret = Buffer.from(key);
  const aad = (context: string) => Buffer.from(`candor/master/${context}`);
  return {
    id: masterKeyId(secret),
    source,
    wrap: async (plaintext, context) => sealBytes(secret, plaintext, aad(context)),
    unwrap: async (wrapped, context) => openBytes(secret, wrapped, aad(context), 'wrapped key'),
  };
}

/** Parses base64 (standard or URL-safe) text holding exactly 32 bytes. */
export function parseMasterKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw new MasterKeyError(`${source}: the master key must be base64 (32 bytes)`);
  const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new MasterKeyError(`${source}: the master key must be ${KEY_BYTES} bytes of base64 (got ${key.length} bytes)`);
  }
  return key;
}

export const GENERATED_KEY_FILE = 'master.key';

export interface MasterKeySettings {
  /** CANDOR_MASTER_KEY: base64 text. */
  key?: string | undefined;
  /** CANDOR_MASTER_KEY_FILE: a file holding base64 text. */
  file?: string | undefined;
  engine: 'pglite' | 'postgres';
  dataDir: string;
}

export interface ResolvedMasterKey {
  provider: MasterKeyProvider;
  /** True when this call created the key file: the caller must warn that it needs a separate backup. */
  generated: boolean;
}

/**
 * Finds the master key: the environment, a file, or (embedded mode only) `<data>/master.key`, generated
 * on first start. `dataExists` says the database already holds data: then a missing key is an error,
 * never a reason to make a new one.
 */
export function resolveMasterKey(settings: MasterKeySettings, dataExists: boolean): ResolvedMasterKey {
  if (settings.key)
    return { provider: localMasterKey(parseMasterKey(settings.key, 'CANDOR_MASTER_KEY'), 'CANDOR_MASTER_KEY'), generated: false };
  if (settings.file) return { provider: readKeyFile(settings.file, 'CANDOR_MASTER_KEY_FILE'), generated: false };
  if (settings.engine === 'postgres') {
    throw new MasterKeyError(
      'CANDOR_MASTER_KEY or CANDOR_MASTER_KEY_FILE is required with DATABASE_URL (see docs/encryption.md)',
    );
  }
  const file = path.join(settings.dataDir, GENERATED_KEY_FILE);
  if (existsSync(file)) return { provider: readKeyFile(file, file), generated: false };
  if (dataExists) {
    throw new MasterKeyError(
      `no master key: ${file} is missing and CANDOR_MASTER_KEY is not set, but the data directory holds data; restore the key you backed up`,
    );
  }
  const key = randomBytes(KEY_BYTES);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { provider: localMasterKey(key, file), generated: true };
}

/** A master key kept in a file of base64 text (`candor keys rotate --new-master-key-file`). */
export function masterKeyFromFile(file: string): MasterKeyProvider {
  return readKeyFile(file, file);
}

function readKeyFile(file: string, source: string): MasterKeyProvider {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MasterKeyError(`${source}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return localMasterKey(parseMasterKey(text, source), source);
}
