import http, { type RequestListener, type Server } from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createApp } from './app.tsx';
import { printSetupLink } from './cli/commands.ts';
import { serveControlSocket } from './cli/control.ts';
import { type Config, ConfigError, ensureDataDir, loadTlsCredentials } from './config.ts';
import { createDemo } from './modules/demo/service.ts';
import { needsOwner } from './modules/identity/service.ts';
import { ensureFirstTenant, listAllTenants } from './modules/tenants/service.ts';
import { publicPageFastPath } from './modules/trust-center/fast-path.ts';
import type { CommandIO } from './platform/cli/io.ts';
import type { Actor, Runtime } from './platform/context.ts';
import { type DataDirLock, lockDataDir } from './platform/db/lock.ts';
import { type TlsCredentials, tlsServerOptions } from './platform/http/tls.ts';
import { closeRuntime, createRuntime } from './runtime.ts';

export interface RunningServer {
  runtime: Runtime;
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish, stops jobs, closes the database, frees the lock. */
  close(): Promise<void>;
  /** Re-reads the TLS certificate and key (SIGHUP) for new connections; keeps the old pair if they are bad. */
  reloadTls(): void;
}

export interface StartOptions {
  demo?: boolean;
  io: CommandIO;
}

/** Who acts in the trail for what `start` does on its own: the first tenant, the demo, setup links. */
const STARTUP_ACTOR: Actor = { kind: 'system', name: 'startup' };

// Setup links are printed for at most this many tenants; a hosting install lists the rest with the CLI.
const SETUP_LINKS_AT_START = 20;

/** `candor start`: the whole product in one process. */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  ensureDataDir(config.dataDir);
  const lock: DataDirLock | undefined = config.engine === 'pglite' ? lockDataDir(config.dataDir) : undefined;
  let runtime: Runtime | undefined;
  try {
    runtime = await createRuntime(config);
    const startJobs = once(() => (runtime as Runtime).jobs.start({ work: config.runJobs }));
    // The demo queues mail, so it needs the queue; a plain restart starts it after listening instead.
    if (options.demo) {
      await startJobs();
      await createDemo(runtime, STARTUP_ACTOR);
    }
    await ensureFirstTenant(runtime.db, { audit: runtime.audit, actor: STARTUP_ACTOR });
    const tls = config.tls ? loadTlsCredentials(config.tls) : undefined;
    const server = await listen(requestListener(runtime, createApp(runtime)), config, tls);
    await startJobs().catch(async (error: unknown) => {
      await closeHttp(server);
      throw error;
    });
    const control = config.engine === 'pglite' ? await serveControlSocket(runtime, config.dataDir) : undefined;
    const port = (server.address() as net.AddressInfo).port;
    const url = config.publicUrl;
    runtime.log.info({ port, engine: config.engine, dataDir: config.dataDir }, 'candor is serving');
    options.io.err(
      `Candor is serving on port ${port} (${config.engine === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'}): ${url}/`,
    );
    if (tls) warnIfExpiring(tls, runtime.clock.now(), options.io);
    await printPendingSetupLinks(runtime, options.io);
    const open = runtime;
    return {
      runtime: open,
      url,
      port,
      close: once(async () => {
        control?.close();
        await closeHttp(server);
        await closeRuntime(open);
        lock?.release();
      }),
      reloadTls: () => reloadTls(server, config, open),
    };
  } catch (error) {
    if (runtime) await closeRuntime(runtime).catch(() => {});
    lock?.release();
    throw error;
  }
}

async function printPendingSetupLinks(runtime: Runtime, io: CommandIO): Promise<void> {
  for (const tenant of await listAllTenants(runtime.db, SETUP_LINKS_AT_START)) {
    if (await needsOwner(runtime.db, tenant.id)) await printSetupLink(runtime, tenant, io, STARTUP_ACTOR);
  }
}

// Clients that stall the handshake must not hold connections open either.
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
// An operator is told at start when the certificate runs out within this many days.
const CERT_WARNING_DAYS = 14;

/**
 * Node's request handler: cached public pages straight from the render cache, everything else through the
 * application (see trust-center/fast-path.ts for what the two share).
 */
export function requestListener(runtime: Runtime, app: Pick<ReturnType<typeof createApp>, 'fetch'>): RequestListener {
  const full = getRequestListener(app.fetch);
  const fast = publicPageFastPath(runtime);
  return (request, response) => {
    if (!fast(request, response)) void full(request, response);
  };
}

function listen(listener: RequestListener, config: Config, tls: TlsCredentials | undefined): Promise<Server> {
  const server = tls
    ? https.createServer({ ...tlsServerOptions(tls), handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, listener)
    : http.createServer(listener);
  // Slow clients must not hold connections open forever.
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new ConfigError(`PORT: ${config.port} is already in use on ${config.host}`));
      else if (error.code === 'EACCES') reject(new ConfigError(`PORT: not allowed to listen on ${config.port}`));
      else reject(error);
    });
    server.listen(config.port, config.host, () => resolve(server));
  });
}

function warnIfExpiring(tls: TlsCredentials, now: Date, io: CommandIO): void {
  const daysLeft = Math.floor((tls.notAfter.getTime() - now.getTime()) / 86_400_000);
  if (daysLeft < 0) io.err(`Warning: the TLS certificate expired on ${tls.notAfter.toISOString()}; browsers will refuse it`);
  else if (daysLeft < CERT_WARNING_DAYS)
    io.err(`Warning: the TLS certificate expires in ${daysLeft} days (${tls.notAfter.toISOString()})`);
}

/** New connections get the re-read pair; established ones keep theirs. A bad pair is logged and ignored. */
function reloadTls(server: Server, config: Config, runtime: Runtime): void {
  if (!config.tls || !(server instanceof https.Server)) return;
  try {
    const tls = loadTlsCredentials(config.tls);
    server.setSecureContext(tlsServerOptions(tls));
    runtime.log.info({ fingerprint: tls.fingerprint, notAfter: tls.notAfter.toISOString() }, 'TLS certificate reloaded');
  } catch (error) {
    runtime.log.error(
      { reason: error instanceof Error ? error.message : String(error) },
      'TLS certificate not reloaded; keeping the previous one',
    );
  }
}

/** Resolves when every in-flight request has been answered; idle keep-alive connections close at once. */
function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= fn();
    return running;
  };
}

/** `candor worker`: jobs only, no HTTP. Several may run beside `start --no-jobs` on PostgreSQL. */
export async function startWorker(config: Config): Promise<{ runtime: Runtime; close(): Promise<void> }> {
  ensureDataDir(config.dataDir);
  const lock = config.engine === 'pglite' ? lockDataDir(config.dataDir) : undefined;
  const runtime = await createRuntime(config).catch((error: unknown) => {
    lock?.release();
    throw error;
  });
  await runtime.jobs.start({ work: true });
  runtime.log.info({ engine: config.engine }, 'candor worker is running jobs');
  return {
    runtime,
    close: once(async () => {
      await closeRuntime(runtime);
      lock?.release();
    }),
  };
}
