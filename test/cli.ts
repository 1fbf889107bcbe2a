import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_MASTER_KEY_BASE64 } from './keys.ts';

// Helpers that run the real `candor` executable, for CLI tests, browser tests and the benchmark.

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CANDOR_BIN = path.join(REPO_ROOT, 'bin', 'candor.js');

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The test runner's environment minus Candor's own settings, plus `env`: a spawned candor sees only what a test says. */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(CANDOR_|DATABASE_URL$|PORT$|SMTP_URL$|MAIL_FROM$|LOG_LEVEL$)/.test(k)),
  );
  // A PostgreSQL database has no data directory to keep a generated key in: give it the tests' key.
  const masterKey = env.DATABASE_URL && !env.CANDOR_MASTER_KEY_FILE ? { CANDOR_MASTER_KEY: TEST_MASTER_KEY_BASE64 } : {};
  return { ...inherited, LOG_LEVEL: 'warn', ...masterKey, ...env };
}

/** Runs one `candor` command to completion. */
export function runCandor(args: string[], env: Record<string, string>, stdin = ''): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CANDOR_BIN, ...args], { cwd: REPO_ROOT, env: cleanEnv(env), stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A fresh data directory path (not yet created) inside a new temporary folder. */
export function tempDataDir(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'candor-cli-')), 'data');
}

/** Asks the OS for a port nobody is listening on, so test files running in parallel never collide. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface CandorOptions {
  /** An existing data directory to start on; by default a fresh temporary one, removed on stop. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Extra arguments after `start`, such as `--demo`. */
  args?: string[];
  /** How long to wait for the first 200 on /healthz. */
  startTimeoutMs?: number;
  /** Serve HTTPS: with these certificate and key files (CANDOR_TLS_CERT/KEY), or `--tls-self-signed`. */
  tls?: { certFile: string; keyFile: string } | 'self-signed';
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningCandor {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  /** Milliseconds from spawning the process to its first 200 on /healthz. */
  readyAfterMs: number;
  /** Everything the process wrote to stdout and stderr so far (capped; the start of the output is kept). */
  output(): string;
  /** The one-time owner setup link printed on a fresh data directory. */
  setupLink(): string;
  /** Sends `signal` (SIGTERM by default), waits for the exit, and removes the data directory if it was created here. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

// Request logs can run to megabytes under load; the start of the output (setup link, errors) is what matters.
const OUTPUT_CAP_BYTES = 256 * 1024;
const HEALTH_POLL_MS = 20;
const STOP_TIMEOUT_MS = 15_000;

/** Spawns the real CLI (`node bin/candor.js start`) on a free port and waits for /healthz to answer 200. */
export async function startCandor(options: CandorOptions = {}): Promise<RunningCandor> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? tempDataDir();
  const port = await freePort();
  const started = performance.now();
  const { tls } = options;
  const tlsArgs = tls === 'self-signed' ? ['--tls-self-signed'] : [];
  const tlsEnv: Record<string, string> =
    tls && tls !== 'self-signed' ? { CANDOR_TLS_CERT: tls.certFile, CANDOR_TLS_KEY: tls.keyFile } : {};
  const scheme = tls ? 'https' : 'http';
  const child = spawn(process.execPath, [CANDOR_BIN, 'start', ...tlsArgs, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    // Loopback only: a test server has no business on the machine's other interfaces.
    env: cleanEnv({ CANDOR_DATA_DIR: dataDir, PORT: String(port), CANDOR_HOST: '127.0.0.1', ...tlsEnv, ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  const output = captureOutput(child);
  const exited = exitOf(child);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const exit = await stopProcess(child, exited, signal);
    if (ownDataDir) rmSync(path.dirname(dataDir), { recursive: true, force: true });
    return exit;
  };
  try {
    await waitForHealthy(`${scheme}://127.0.0.1:${port}`, exited, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${reason}\n--- candor output ---\n${output()}`);
  }
  return {
    // localhost, as the setup link says: it is also where the session cookie may be Secure (__Host-).
    url: `${scheme}://localhost:${port}`,
    port,
    pid: child.pid ?? -1,
    dataDir,
    readyAfterMs: performance.now() - started,
    output,
    setupLink: () => findSetupLink(output()),
    stop,
  };
}

// Servers still running when this process exits (a test file crashed before afterAll) would otherwise
// outlive it, holding their port and data directory.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

function captureOutput(child: ChildProcess): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  const keep = (chunk: Buffer) => {
    if (size >= OUTPUT_CAP_BYTES) return;
    chunks.push(chunk);
    size += chunk.length;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => Buffer.concat(chunks).toString('utf8');
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A process that cannot be spawned at all never emits 'exit'.
    child.once('error', () => resolve({ code: null, signal: null }));
  });
}

function findSetupLink(output: string): string {
  const link = /https?:\/\/localhost:\d+\/setup\/[\w-]+/.exec(output)?.[0];
  if (!link) throw new Error(`no setup link in the output:\n${output}`);
  return link;
}

async function waitForHealthy(origin: string, exited: Promise<Exit>, timeoutMs: number): Promise<void> {
  let exit: Exit | undefined;
  void exited.then((e) => {
    exit = e;
  });
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (exit) throw new Error(`candor exited before it was healthy (code ${exit.code}, signal ${exit.signal})`);
    if (await answersHealthy(origin)) return;
    await sleep(HEALTH_POLL_MS);
  }
  throw new Error(`candor did not answer 200 on /healthz within ${timeoutMs} ms`);
}

async function answersHealthy(origin: string): Promise<boolean> {
  try {
    // 127.0.0.1 rather than localhost: the server listens on IPv4 loopback, and ::1 would only add a refusal.
    const response = await requestIgnoringCertificate(`${origin}/healthz`, { timeoutMs: 1_000 });
    return response.status === 200;
  } catch {
    return false; // not listening yet
  }
}

export interface PlainResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * An HTTP(S) request that accepts any certificate (test servers use self-signed ones). Node's fetch cannot
 * be told to, without the undici package; node:https can.
 */
export function requestIgnoringCertificate(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(
      target,
      {
        method: init.method ?? 'GET',
        headers: init.headers,
        rejectUnauthorized: false,
        agent: false,
        timeout: init.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

async function stopProcess(child: ChildProcess, exited: Promise<Exit>, signal: NodeJS.Signals): Promise<Exit> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  }
  return exited;
}

/** Waits until the process output matches `pattern`. */
export async function waitForOutput(running: RunningCandor, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(running.output());
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${running.output()}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
