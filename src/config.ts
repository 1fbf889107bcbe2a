import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type CidrBlock, parseCidrList } from './platform/http/client-ip.ts';
import { readTlsCredentials, selfSignedFiles, type TlsCredentials, TlsFileError, type TlsFiles } from './platform/http/tls.ts';
import type { BlobStoreSettings } from './platform/storage/drivers.ts';
import { keySegments } from './platform/storage/keys.ts';

/** A setting that cannot be used; main.ts prints its message as the process's one-line reason. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.pathname.length > 1;
    } catch {
      return false;
    }
  }, 'must be a postgres://user@host:port/database URL');

const smtpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      return ['smtp:', 'smtps:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'must be an smtp:// or smtps:// URL');

const port = z
  .string()
  .trim()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .refine((n) => n >= 0 && n <= 65535, 'must be between 0 and 65535');

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const bucketName = z
  .string()
  .trim()
  .regex(BUCKET_NAME, 'must be a bucket name: 3-63 lower-case letters, digits, dots and dashes');

// Checked with a sample tenant id in place: every tenant's bucket name must be valid.
const bucketTemplate = z
  .string()
  .trim()
  .refine((value) => value.split('{tenant}').length === 2, 'must contain {tenant} exactly once, e.g. candor-{tenant}')
  .refine(
    (value) => BUCKET_NAME.test(value.replace('{tenant}', '00000000-0000-0000-0000-000000000000')),
    'must give a valid bucket name with a 36-character tenant id in place of {tenant} (lower-case, at most 63 characters)',
  );

const s3Prefix = z
  .string()
  .trim()
  .transform((value) => value.replace(/^\/+|\/+$/g, ''))
  .refine((value) => {
    if (value === '') return true;
    try {
      keySegments(value);
      return true;
    } catch {
      return false;
    }
  }, 'must be /-separated segments of letters, digits and . _ - + = : @ (no "..")');

const EnvSchema = z.object({
  PORT: port.default(3000),
  CANDOR_HOST: z.string().trim().min(1).default('0.0.0.0'),
  CANDOR_DATA_DIR: z.string().trim().min(1).default('./data'),
  DATABASE_URL: postgresUrl.optional(),
  CANDOR_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' }).optional(),
  SMTP_URL: smtpUrl.optional(),
  MAIL_FROM: z.string().trim().min(3).default('Candor <no-reply@candor.localhost>'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CANDOR_JOBS: z.enum(['on', 'off']).default('on'),
  CANDOR_MASTER_KEY: z.string().trim().optional(),
  CANDOR_MASTER_KEY_FILE: z.string().trim().optional(),
  CANDOR_BLOB_STORE: z.enum(['local', 's3']).default('local'),
  CANDOR_BLOB_DIR: z.string().trim().optional(),
  CANDOR_S3_BUCKET: bucketName.optional(),
  CANDOR_S3_PREFIX: s3Prefix.optional(),
  CANDOR_S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' }).optional(),
  CANDOR_S3_REGION: z
    .string()
    .trim()
    .regex(/^[a-z0-9-]+$/, 'must be a region name such as eu-west-1')
    .default('us-east-1'),
  CANDOR_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).optional(),
  CANDOR_S3_BUCKET_PER_TENANT: bucketTemplate.optional(),
  CANDOR_TLS_CERT: z.string().trim().optional(),
  CANDOR_TLS_KEY: z.string().trim().optional(),
  CANDOR_TRUST_PROXY: z.string().trim().optional(),
  CANDOR_DOMAIN_CHECK_VIA: z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' }).optional(),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Base URL used in links that leave the process (mail, setup link). */
  publicUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  runJobs: boolean;
  engine: 'pglite' | 'postgres';
  /** Base64 master key (CANDOR_MASTER_KEY); never logged. */
  masterKey: string | undefined;
  /** A file holding the base64 master key (CANDOR_MASTER_KEY_FILE). */
  masterKeyFile: string | undefined;
  /** Where files (blobs) are stored: local disk under the data directory by default, or S3. */
  blobs: BlobStoreSettings;
  /** HTTPS served by Candor itself (CANDOR_TLS_CERT / CANDOR_TLS_KEY, or `start --tls-self-signed`). */
  tls: TlsSettings | undefined;
  /** Peers whose X-Forwarded-* headers are believed (CANDOR_TRUST_PROXY); empty: none. */
  trustedProxies: CidrBlock[];
  /**
   * Where custom-domain checks connect (CANDOR_DOMAIN_CHECK_VIA, e.g. `http://127.0.0.1:3000`), sending the
   * domain as Host: for split-horizon DNS and tests. Unset: the domain itself, over HTTPS then HTTP.
   */
  domainCheckVia: string | undefined;
}

export interface TlsSettings extends TlsFiles {
  /** A trial certificate Candor generates and keeps in `<data>/tls`. */
  selfSigned: boolean;
}

export interface LoadConfigOptions {
  /** `start --tls-self-signed`: serve HTTPS with a generated certificate. */
  tlsSelfSigned?: boolean;
}

/** Reads the environment once; blank values count as unset so `PORT= npm start` keeps the default. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'environment';
    throw new ConfigError(`${name}: ${issue?.message ?? 'invalid'} (got ${JSON.stringify(present[name] ?? '')})`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.CANDOR_DATA_DIR);
  const tls = tlsSettings(e, dataDir, options);
  if (tls && e.CANDOR_PUBLIC_URL && new URL(e.CANDOR_PUBLIC_URL).protocol === 'http:') {
    throw new ConfigError(`CANDOR_PUBLIC_URL: must be https:// when Candor serves TLS itself (got "${e.CANDOR_PUBLIC_URL}")`);
  }
  return {
    port: e.PORT,
    host: e.CANDOR_HOST,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    publicUrl: (e.CANDOR_PUBLIC_URL ?? `${tls ? 'https' : 'http'}://localhost:${e.PORT}`).replace(/\/+$/, ''),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    logLevel: e.LOG_LEVEL,
    runJobs: e.CANDOR_JOBS === 'on',
    engine: e.DATABASE_URL ? 'postgres' : 'pglite',
    masterKey: e.CANDOR_MASTER_KEY,
    masterKeyFile: e.CANDOR_MASTER_KEY_FILE ? path.resolve(e.CANDOR_MASTER_KEY_FILE) : undefined,
    blobs: blobSettings(e),
    tls,
    trustedProxies: trustedProxies(e.CANDOR_TRUST_PROXY),
    domainCheckVia: e.CANDOR_DOMAIN_CHECK_VIA?.replace(/\/+$/, ''),
  };
}

/** Both TLS files or neither, or the self-signed trial; given files must hold a usable certificate and key. */
function tlsSettings(e: z.infer<typeof EnvSchema>, dataDir: string, options: LoadConfigOptions): TlsSettings | undefined {
  const { CANDOR_TLS_CERT: cert, CANDOR_TLS_KEY: key } = e;
  if (options.tlsSelfSigned) {
    if (cert || key)
      throw new ConfigError('--tls-self-signed: cannot be combined with CANDOR_TLS_CERT/CANDOR_TLS_KEY; use one or the other');
    return { ...selfSignedFiles(path.join(dataDir, 'tls')), selfSigned: true };
  }
  if (!cert && !key) return undefined;
  if (!cert) throw new ConfigError('CANDOR_TLS_CERT: must be set with CANDOR_TLS_KEY (the certificate file, PEM)');
  if (!key) throw new ConfigError('CANDOR_TLS_KEY: must be set with CANDOR_TLS_CERT (the private key file, PEM)');
  const files = { certFile: path.resolve(cert), keyFile: path.resolve(key) };
  loadTlsCredentials(files);
  return { ...files, selfSigned: false };
}

/** Reads the certificate and key (at start and on SIGHUP); a bad file is a one-line ConfigError naming it. */
export function loadTlsCredentials(files: TlsFiles): TlsCredentials {
  try {
    return readTlsCredentials(files);
  } catch (error) {
    if (error instanceof TlsFileError) throw new ConfigError(`CANDOR_TLS_${error.file.toUpperCase()}: ${error.message}`);
    throw error;
  }
}

function trustedProxies(list: string | undefined): CidrBlock[] {
  if (list === undefined) return [];
  const parsed = parseCidrList(list);
  if (!parsed.ok) throw new ConfigError(`CANDOR_TRUST_PROXY: ${parsed.error}; give comma-separated addresses or CIDR ranges`);
  return parsed.blocks;
}

/** Local disk or S3; settings of the store not chosen are refused, so a half-done switch is not silent. */
function blobSettings(e: z.infer<typeof EnvSchema>): BlobStoreSettings {
  if (e.CANDOR_BLOB_STORE === 'local') {
    const stray = (['CANDOR_S3_BUCKET', 'CANDOR_S3_BUCKET_PER_TENANT', 'CANDOR_S3_ENDPOINT', 'CANDOR_S3_PREFIX'] as const).find(
      (name) => e[name] !== undefined,
    );
    if (stray)
      throw new ConfigError(`${stray}: is set but CANDOR_BLOB_STORE is not s3 (set CANDOR_BLOB_STORE=s3 to store files in S3)`);
    return { kind: 'local', dir: e.CANDOR_BLOB_DIR ? path.resolve(e.CANDOR_BLOB_DIR) : undefined };
  }
  if (e.CANDOR_BLOB_DIR) throw new ConfigError('CANDOR_BLOB_DIR: is set but CANDOR_BLOB_STORE is s3; unset one of them');
  if (!e.CANDOR_S3_BUCKET) throw new ConfigError('CANDOR_S3_BUCKET: is required when CANDOR_BLOB_STORE=s3');
  return {
    kind: 's3',
    bucket: e.CANDOR_S3_BUCKET,
    prefix: e.CANDOR_S3_PREFIX ?? '',
    endpoint: e.CANDOR_S3_ENDPOINT,
    region: e.CANDOR_S3_REGION,
    // Self-hosted servers (MinIO and others) rarely have wildcard DNS for bucket host names.
    forcePathStyle: e.CANDOR_S3_FORCE_PATH_STYLE ? e.CANDOR_S3_FORCE_PATH_STYLE === 'true' : e.CANDOR_S3_ENDPOINT !== undefined,
    bucketPerTenant: e.CANDOR_S3_BUCKET_PER_TENANT,
  };
}

/** Creates the data directory (owner-only) and proves it is writable before anything depends on it. */
export function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.W_OK | constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`CANDOR_DATA_DIR: ${dataDir} is not writable (${code})`);
  }
}
