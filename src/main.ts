import path from 'node:path';
import { parseArgs } from 'node:util';
import { DATABASE_COMMANDS, findCommand, parseCommandArgs, runDatabaseCommand } from './cli/commands.ts';
import { describeError, sendControlCommand } from './cli/control.ts';
import { type Config, ensureDataDir, loadConfig } from './config.ts';
import { withAbsolutePaths } from './platform/cli/command.ts';
import { type CommandIO, terminalIO, UsageError } from './platform/cli/io.ts';
import { liveLockOwner, lockDataDir } from './platform/db/lock.ts';
import { ensureSelfSignedCertificate } from './platform/http/tls.ts';
import { closeRuntime, createLogger, createRuntime } from './runtime.ts';
import { startServer, startWorker } from './server.ts';

const HELP = `candor — a self-hosted Trust Center and security & privacy program

Usage: candor <command> [options]

Commands:
  start [--demo] [--no-jobs] [--tls-self-signed]
                               serve the Trust Center, back office and API (port $PORT, default 3000)
  worker                       run background jobs only (PostgreSQL: beside one or more 'start --no-jobs')
${DATABASE_COMMANDS.map((c) => `  ${c.name.padEnd(29)}${c.summary.toLowerCase()}`).join('\n')}

Run 'candor <command> --help' for a command's options.

Environment:
  PORT               HTTP port (default 3000)
  CANDOR_HOST        address to listen on (default 0.0.0.0)
  CANDOR_DATA_DIR    data directory (default ./data)
  DATABASE_URL       postgres://... to use a PostgreSQL server instead of the embedded database
  CANDOR_PUBLIC_URL  the URL people use to reach Candor (default http(s)://localhost:$PORT)
  CANDOR_MASTER_KEY  base64 32-byte master key (or CANDOR_MASTER_KEY_FILE); embedded default: <data>/master.key,
                     generated on first start — back it up apart from the data
  CANDOR_TLS_CERT    certificate file (PEM, chain after it) to serve HTTPS; needs CANDOR_TLS_KEY
  CANDOR_TLS_KEY     private key file (PEM, unencrypted) of CANDOR_TLS_CERT
  CANDOR_TRUST_PROXY comma-separated proxy addresses/CIDR ranges whose X-Forwarded-* headers are believed
  SMTP_URL           smtp(s)://user:pass@host:port for outgoing mail (default: keep as .eml files)
  MAIL_FROM          sender address for outgoing mail
  CANDOR_BLOB_STORE  local|s3: where uploaded files are kept, encrypted (default local)
  CANDOR_BLOB_DIR    folder for files on local disk (default <data directory>/blobs)
  CANDOR_S3_BUCKET   bucket for files when CANDOR_BLOB_STORE=s3; credentials from AWS_ACCESS_KEY_ID and
                     AWS_SECRET_ACCESS_KEY (or the AWS SDK's usual profiles and roles)
  CANDOR_S3_PREFIX   key prefix inside the bucket (default none)
  CANDOR_S3_ENDPOINT URL of an S3-compatible server such as MinIO (default AWS)
  CANDOR_S3_REGION   S3 region (default us-east-1)
  CANDOR_S3_FORCE_PATH_STYLE  true|false: bucket in the URL path (default true with CANDOR_S3_ENDPOINT)
  CANDOR_S3_BUCKET_PER_TENANT bucket name template such as candor-{tenant}: one bucket per tenant
  CANDOR_JOBS        on|off: run background jobs in this process (default on)
  LOG_LEVEL          fatal|error|warn|info|debug|trace|silent (default info)`;

const START_HELP = `candor start [--demo] [--no-jobs] [--tls-self-signed]

Serves the public Trust Center at /, the back office at /admin and the JSON API at /api/v1.
On a fresh data directory it creates the first tenant and prints a one-time link that creates its owner.

  --demo              also create the demo tenant with sample content
  --no-jobs           do not run background jobs here (run 'candor worker' elsewhere; PostgreSQL only)
  --tls-self-signed   serve HTTPS with a generated self-signed certificate kept in <data>/tls (trials only:
                      browsers warn about it; use CANDOR_TLS_CERT and CANDOR_TLS_KEY for real use)

With CANDOR_TLS_CERT and CANDOR_TLS_KEY set, Candor serves HTTPS (TLS 1.2 and 1.3) and re-reads both
files on SIGHUP. Behind a reverse proxy, set CANDOR_TRUST_PROXY to its address instead.`;

async function main(argv: string[], io: CommandIO): Promise<number> {
  const [first] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    io.out(HELP);
    return first ? 0 : 1;
  }
  if (first === '--version' || first === '-v') {
    io.out('candor 0.1.0');
    return 0;
  }
  if (first === 'start') return runStart(argv.slice(1), io);
  if (first === 'worker') return runWorker(argv.slice(1), io);
  const found = findCommand(argv);
  if (!found) throw new UsageError(`unknown command "${argv.join(' ')}" (see candor --help)`);
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    io.out(found.command.usage);
    return 0;
  }
  const values = parseCommandArgs(found.command, found.rest); // reject bad flags before touching the database
  const config = loadConfig();
  // Work on files (verify a backup or an exported trail, restore into an empty place) runs here, with no database.
  if (found.command.standalone && (await found.command.standalone(values, io, config))) return 0;
  return runAgainstDatabase(config, withAbsolutePaths(found.command, argv), io);
}

/**
 * Runs a database command. On the embedded engine a running server owns the data directory, so the
 * command is handed to it over the control socket; otherwise this process opens the database itself.
 */
async function runAgainstDatabase(config: Config, argv: string[], io: CommandIO): Promise<number> {
  let lock: { release(): void } | undefined;
  if (config.engine === 'pglite') {
    ensureDataDir(config.dataDir);
    const owner = liveLockOwner(config.dataDir);
    if (owner !== undefined) {
      const response = await sendControlCommand(config.dataDir, argv, await io.stdin()).catch(() => {
        throw new Error(
          `data directory ${config.dataDir} is in use by process ${owner}, which does not answer on its control socket`,
        );
      });
      for (const line of response.stdout) io.out(line);
      for (const line of response.stderr) io.err(line);
      return response.code;
    }
    lock = lockDataDir(config.dataDir);
  }
  try {
    // Logs go to stderr: a command's standard output is its result (`candor audit export > trail.jsonl`).
    const runtime = await createRuntime(config, { log: createLogger({ ...config, logLevel: 'warn' }, 2) });
    try {
      await runtime.jobs.start({ work: false });
      await runDatabaseCommand(runtime, argv, io);
      return 0;
    } finally {
      await closeRuntime(runtime);
    }
  } finally {
    lock?.release();
  }
}

function onShutdownSignal(close: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`candor: ${signal} received, finishing in-flight work\n`);
      // A second signal means "now": skip the graceful path.
      process.once(signal, () => process.exit(130));
      close().then(
        () => resolve(0),
        (error: unknown) => {
          process.stderr.write(`candor: shutdown failed: ${describeError(error)}\n`);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

async function runStart(args: string[], io: CommandIO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(START_HELP);
    return 0;
  }
  const { values } = parseArgs({
    args,
    options: {
      demo: { type: 'boolean', default: false },
      'no-jobs': { type: 'boolean', default: false },
      'tls-self-signed': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const config = loadConfig(process.env, { tlsSelfSigned: values['tls-self-signed'] });
  if (values['no-jobs']) config.runJobs = false;
  if (config.tls?.selfSigned) await prepareSelfSignedCertificate(config, io);
  const server = await startServer(config, { demo: values.demo, io });
  if (config.tls) process.on('SIGHUP', server.reloadTls);
  return onShutdownSignal(server.close);
}

/** The names a trial certificate covers: loopback, and the host names this installation is configured with. */
function trialHostNames(config: Config): string[] {
  const names = ['localhost', '127.0.0.1', '::1', new URL(config.publicUrl).hostname.replace(/^\[(.*)\]$/, '$1')];
  if (!['0.0.0.0', '::'].includes(config.host)) names.push(config.host);
  return [...new Set(names)];
}

async function prepareSelfSignedCertificate(config: Config, io: CommandIO): Promise<void> {
  ensureDataDir(config.dataDir);
  const dir = path.join(config.dataDir, 'tls');
  const made = await ensureSelfSignedCertificate(dir, trialHostNames(config));
  io.err(
    [
      `TLS: ${made.created ? 'generated' : 'reusing'} a SELF-SIGNED certificate for ${made.names.join(', ')} (in ${dir}),`,
      `     valid until ${made.notAfter.toISOString().slice(0, 10)}, SHA-256 ${made.fingerprint}.`,
      '     It is for trials only: browsers will warn about it. For real use set CANDOR_TLS_CERT and CANDOR_TLS_KEY.',
    ].join('\n'),
  );
}

async function runWorker(args: string[], io: CommandIO): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out('candor worker\n\nRuns background jobs (mail delivery, schedules) without serving HTTP.');
    return 0;
  }
  if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]} (see candor worker --help)`);
  const worker = await startWorker(loadConfig());
  return onShutdownSignal(worker.close);
}

const io = terminalIO();
main(process.argv.slice(2), io).then(
  (code) => process.exit(code),
  (error: unknown) => {
    io.err(`candor: ${describeError(error)}`);
    process.exit(1);
  },
);
