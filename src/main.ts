import { parseArgs } from 'node:util';
import { DATABASE_COMMANDS, findCommand, parseCommandArgs, runDatabaseCommand } from './cli/commands.ts';
import { describeError, sendControlCommand } from './cli/control.ts';
import { type Config, ensureDataDir, loadConfig } from './config.ts';
import { verifyExportedTrail } from './modules/audit/commands.ts';
import { type CommandIO, terminalIO, UsageError } from './platform/cli/io.ts';
import { liveLockOwner, lockDataDir } from './platform/db/lock.ts';
import { closeRuntime, createLogger, createRuntime } from './runtime.ts';
import { startServer, startWorker } from './server.ts';

const HELP = `candor — a self-hosted Trust Center and security & privacy program

Usage: candor <command> [options]

Commands:
  start [--demo] [--no-jobs]   serve the Trust Center, back office and API (port $PORT, default 3000)
  worker                       run background jobs only (PostgreSQL: beside one or more 'start --no-jobs')
${DATABASE_COMMANDS.map((c) => `  ${c.name.padEnd(29)}${c.summary.toLowerCase()}`).join('\n')}

Run 'candor <command> --help' for a command's options.

Environment:
  PORT               HTTP port (default 3000)
  CANDOR_HOST        address to listen on (default 0.0.0.0)
  CANDOR_DATA_DIR    data directory (default ./data)
  DATABASE_URL       postgres://... to use a PostgreSQL server instead of the embedded database
  CANDOR_PUBLIC_URL  the URL people use to reach Candor (default http://localhost:$PORT)
  SMTP_URL           smtp(s)://user:pass@host:port for outgoing mail (default: keep as .eml files)
  MAIL_FROM          sender address for outgoing mail
  CANDOR_JOBS        on|off: run background jobs in this process (default on)
  LOG_LEVEL          fatal|error|warn|info|debug|trace|silent (default info)`;

const START_HELP = `candor start [--demo] [--no-jobs]

Serves the public Trust Center at /, the back office at /admin and the JSON API at /api/v1.
On a fresh data directory it creates the first tenant and prints a one-time link that creates its owner.

  --demo      also create the demo tenant with sample content
  --no-jobs   do not run background jobs here (run 'candor worker' elsewhere; PostgreSQL only)`;

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
  if (found.command.name === 'audit verify' && typeof values.file === 'string') {
    // A file is checked here, with no database: relative paths mean this shell's working directory.
    const key = values['public-key'];
    await verifyExportedTrail(values.file, typeof key === 'string' ? key : undefined, io);
    return 0;
  }
  return runAgainstDatabase(loadConfig(), argv, io);
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
    options: { demo: { type: 'boolean', default: false }, 'no-jobs': { type: 'boolean', default: false } },
    strict: true,
  });
  const config = loadConfig();
  if (values['no-jobs']) config.runJobs = false;
  const server = await startServer(config, { demo: values.demo, io });
  return onShutdownSignal(server.close);
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
