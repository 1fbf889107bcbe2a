import { existsSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';
import { registerDutySources } from './modules/duty-sources.ts';
import { moduleEncryptedColumns } from './modules/encrypted-columns.ts';
import { registerAuditHooks } from './modules/hooks.ts';
import { moduleJobs } from './modules/jobs.ts';
import { createAudit, signingKeyColumn } from './platform/audit/audit.ts';
import { type Clock, type Runtime, systemClock } from './platform/context.ts';
import { createKeyring, verifyMasterKey } from './platform/crypto/keyring.ts';
import { type MasterKeyProvider, resolveMasterKey } from './platform/crypto/master-key.ts';
import { type Database, openDatabase } from './platform/db/client.ts';
import { migrate } from './platform/db/migrate.ts';
import { createJobs, type JobsOptions } from './platform/jobs/pgboss.ts';
import { createMailSystem } from './platform/mail/mailer.ts';
import type { BlobDriver } from './platform/storage/blob-store.ts';
import { createBlobSystem } from './platform/storage/blobs.ts';
import { openBlobDriver } from './platform/storage/drivers.ts';

export interface RuntimeOptions {
  /** An already-open database (tests); otherwise one is opened from the config. */
  db?: Database;
  log?: Logger;
  clock?: Clock;
  jobs?: JobsOptions;
  /** A master key given directly (tests); otherwise it comes from the config or the data directory. */
  masterKey?: MasterKeyProvider;
}

/** JSON logs to stdout (the server) or to another file descriptor (2 for CLI commands). */
export function createLogger(config: Config, fd = 1): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { pid: process.pid },
      redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
    },
    // Written asynchronously: lines logged while a write is in flight go out together in the next one, instead
    // of one blocking write per request (a third of a busy server's time). Nothing waits for a buffer to fill,
    // and pino flushes what is pending when the process exits.
    pino.destination({ dest: fd, sync: false }),
  );
}

/**
 * Opens the database, applies migrations and wires jobs and mail: everything a request, a job or a CLI
 * command needs. Jobs are registered here and started by the caller (`start`, `worker`) when it wants them.
 */
export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  const master = options.masterKey ?? masterKeyFromConfig(config, log);
  const db = options.db ?? (await openDatabase({ engine: config.engine, url: config.databaseUrl, dataDir: config.dataDir }));
  let blobDriver: BlobDriver;
  try {
    await migrate(db);
    await verifyMasterKey(db, master);
    blobDriver = await openBlobDriver(config.blobs, config.dataDir);
  } catch (error) {
    if (!options.db) await db.close();
    throw error;
  }
  const jobs = createJobs(db, log, options.jobs);
  const mail = createMailSystem(
    db,
    jobs,
    { smtpUrl: config.smtpUrl, from: config.mailFrom, keepDir: path.join(config.dataDir, 'mail') },
    log,
    clock,
  );
  const keys = createKeyring(master, clock);
  keys.register(signingKeyColumn, ...moduleEncryptedColumns());
  const audit = createAudit({ clock, log, keys });
  const blobs = createBlobSystem({ db, driver: blobDriver, keys, jobs, clock, log });
  keys.register(blobs.reencryptable);
  const runtime: Runtime = { config, db, jobs, mail: mail.mailer, audit, keys, blobs: blobs.store, log, clock };
  jobs.register(...mail.jobs, ...blobs.jobs, ...moduleJobs(runtime));
  registerAuditHooks(runtime);
  registerDutySources();
  return runtime;
}

/** The master key must be found before the database opens: a new embedded database has no data yet. */
function masterKeyFromConfig(config: Config, log: Logger): MasterKeyProvider {
  const dataExists = config.engine === 'pglite' && existsSync(path.join(config.dataDir, 'pgdata', 'PG_VERSION'));
  const { provider, generated } = resolveMasterKey(
    { key: config.masterKey, file: config.masterKeyFile, engine: config.engine, dataDir: config.dataDir },
    dataExists,
  );
  if (generated) {
    log.warn(
      { file: provider.source },
      'generated a new master key: back it up apart from the data directory; without it no backup or encrypted field can be read',
    );
    process.stderr.write(
      `${[
        '',
        `  !!! Candor generated a new master key: ${provider.source}`,
        '  !!! Copy it somewhere safe, apart from the data directory and its backups.',
        '  !!! Without it, encrypted fields, files and backups can never be read again.',
        '',
      ].join('\n')}\n`,
    );
  }
  return provider;
}

export async function closeRuntime(runtime: Runtime): Promise<void> {
  await runtime.jobs.stop();
  await runtime.db.close();
}
