import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';
import { registerAuditHooks } from './modules/hooks.ts';
import { moduleJobs } from './modules/jobs.ts';
import { createAudit } from './platform/audit/audit.ts';
import { type Clock, type Runtime, systemClock } from './platform/context.ts';
import { type Database, openDatabase } from './platform/db/client.ts';
import { migrate } from './platform/db/migrate.ts';
import { createJobs, type JobsOptions } from './platform/jobs/pgboss.ts';
import { createMailSystem } from './platform/mail/mailer.ts';

export interface RuntimeOptions {
  /** An already-open database (tests); otherwise one is opened from the config. */
  db?: Database;
  log?: Logger;
  clock?: Clock;
  jobs?: JobsOptions;
}

/** JSON logs to stdout (the server) or to another file descriptor (2 for CLI commands). */
export function createLogger(config: Config, fd = 1): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { pid: process.pid },
      redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
    },
    pino.destination(fd),
  );
}

/**
 * Opens the database, applies migrations and wires jobs and mail: everything a request, a job or a CLI
 * command needs. Jobs are registered here and started by the caller (`start`, `worker`) when it wants them.
 */
export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  const db = options.db ?? (await openDatabase({ engine: config.engine, url: config.databaseUrl, dataDir: config.dataDir }));
  try {
    await migrate(db);
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
  const audit = createAudit({ clock, log });
  const runtime: Runtime = { config, db, jobs, mail: mail.mailer, audit, log, clock };
  jobs.register(...mail.jobs, ...moduleJobs(runtime));
  registerAuditHooks(runtime);
  return runtime;
}

export async function closeRuntime(runtime: Runtime): Promise<void> {
  await runtime.jobs.stop();
  await runtime.db.close();
}
