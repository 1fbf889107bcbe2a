import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

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
}

/** Reads the environment once; blank values count as unset so `PORT= npm start` keeps the default. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'environment';
    throw new ConfigError(`${name}: ${issue?.message ?? 'invalid'} (got ${JSON.stringify(present[name] ?? '')})`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.CANDOR_HOST,
    dataDir: path.resolve(e.CANDOR_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    publicUrl: (e.CANDOR_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    logLevel: e.LOG_LEVEL,
    runJobs: e.CANDOR_JOBS === 'on',
    engine: e.DATABASE_URL ? 'postgres' : 'pglite',
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
