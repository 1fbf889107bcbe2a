// The public Trust Center's speed: the demo tenant's FAQ page served by the real `candor start --demo` beside
// nginx (Debian's nginx-light) serving the very same bytes from disk, both on loopback, measured taking turns
// (five rounds, median kept) by the same load generator (autocannon, 50 connections), for full 200 answers and
// for 304 revalidations (If-None-Match with the ETag each server gave). Targets: Candor at least 0.6 of nginx's rate, p99 under 10 ms.
//
// Fairness: Candor is one Node.js process, so nginx runs one worker (worker_processes 1). Neither writes an access
// log: nginx has access_log off, and Candor runs at LOG_LEVEL=warn (startCandor's default), where the one JSON
// line per request is skipped. Candor still sends every security header, as it would in production.

import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, startCandor } from '../test/cli.ts';
import { startReferenceServer } from './throughput.ts';

export const NGINX = '/usr/sbin/nginx';
export const TARGETS = { ratioToNginx: 0.6, p99Ms: 10 };
const CONNECTIONS = 50;
const WARM_UP_SECONDS = 2;
const MEASURE_SECONDS = 6;
const ROUNDS = 5;
const PAGE = '/faq';
const PAGE_REFERENCE = fileURLToPath(new URL('./page-reference-server.ts', import.meta.url));
// Set by Node per connection or per request, not part of what the page answer is made of.
const PER_REQUEST = new Set(['date', 'connection', 'keep-alive', 'x-request-id', 'content-length', 'transfer-encoding']);

export interface TrustCenterFigure {
  label: string;
  line: string;
  targetMet?: boolean;
}

interface Load {
  rps: number;
  p99Ms: number;
}

/** Answers per second and p99 latency under the fixed load; any error or unexpected status fails the bench. */
async function measure(url: string, expectedStatus: 200 | 304, etag?: string): Promise<Load> {
  const options = {
    url,
    connections: CONNECTIONS,
    ...(etag ? { headers: { 'if-none-match': etag } } : {}),
  };
  await autocannon({ ...options, duration: WARM_UP_SECONDS });
  const result = await autocannon({ ...options, duration: MEASURE_SECONDS });
  const expected = expectedStatus === 200 ? result['2xx'] : result['3xx'];
  if (result.errors > 0 || result.timeouts > 0 || expected !== result.requests.total) {
    throw new Error(
      `${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.requests.total - expected} answers other than ${expectedStatus}`,
    );
  }
  return { rps: expected / result.duration, p99Ms: result.latency.p99 };
}

function nginxConfig(dir: string, port: number): string {
  // Every path nginx would write to is in the temporary directory, so it runs without touching /var.
  const temp = (name: string) => path.join(dir, name);
  return `daemon off;
worker_processes 1;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  etag on;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  types { }
  default_type "text/html; charset=utf-8";
  server {
    listen 127.0.0.1:${port};
    root ${temp('www')};
  }
}
`;
}

interface Nginx {
  url: string;
  stop(): Promise<void>;
}

async function startNginx(dir: string, body: string): Promise<Nginx> {
  // Run as root, nginx's worker is `nobody`: it must be able to read the page (mkdtemp makes the directory 0700).
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'www'), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(dir, 'www', PAGE.slice(1)), body);
  const port = await freePort();
  const config = path.join(dir, 'nginx.conf');
  writeFileSync(config, nginxConfig(dir, port));
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', config], { stdio: 'inherit' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    await exited;
  };
  const url = `http://127.0.0.1:${port}${PAGE}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return { url, stop };
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      const log = existsSync(path.join(dir, 'error.log')) ? readFileSync(path.join(dir, 'error.log'), 'utf8') : '';
      throw new Error(`nginx did not serve ${url} within 10 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function recordedHeaders(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!PER_REQUEST.has(name)) headers[name] = value;
  });
  return headers;
}

async function etagOf(url: string): Promise<string> {
  const etag = (await fetch(url)).headers.get('etag');
  if (!etag) throw new Error(`${url} sent no ETag`);
  return etag;
}

function figures(label: string, loads: Loads): TrustCenterFigure {
  const { candor, nginx, node } = loads;
  const ratio = candor.rps / nginx.rps;
  const met = ratio >= TARGETS.ratioToNginx && candor.p99Ms < TARGETS.p99Ms;
  const rps = (value: number) => Math.round(value).toLocaleString('en-US');
  return {
    label,
    targetMet: met,
    line:
      `${label} (${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${MEASURE_SECONDS} s runs, autocannon): ` +
      `candor ${rps(candor.rps)}/s p99 ${candor.p99Ms} ms, nginx ${rps(nginx.rps)}/s p99 ${nginx.p99Ms} ms; ` +
      `candor/nginx = ${ratio.toFixed(2)} (target ≥ ${TARGETS.ratioToNginx}, p99 < ${TARGETS.p99Ms} ms) ${met ? 'PASS' : 'MISS'}; ` +
      `bare node:http with the same bytes and headers ${rps(node.rps)}/s p99 ${node.p99Ms} ms, candor/node:http = ${(candor.rps / node.rps).toFixed(2)}`,
  };
}

export async function trustCenterFigures(progress: (message: string) => void): Promise<TrustCenterFigure[]> {
  if (!existsSync(NGINX)) {
    const line = `public FAQ vs nginx: SKIPPED, ${NGINX} is missing (apt-get install nginx-light)`;
    progress(line);
    return [{ label: 'public FAQ vs nginx', line }];
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'candor-tc-bench-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    progress('trust center: candor start --demo');
    const candor = await startCandor({ args: ['--demo'], startTimeoutMs: 120_000 });
    stops.push(() => candor.stop());
    const candorUrl = `http://127.0.0.1:${candor.port}${PAGE}`;
    const { body, recorded } = await recordPage(candorUrl, dir);
    const nginx = await startNginx(dir, body);
    stops.push(() => nginx.stop());
    const node = await startReferenceServer(PAGE_REFERENCE, [recorded]);
    stops.push(() => node.stop());
    progress('trust center: waiting for candor to finish the demo’s start-up work');
    await quietProcess(candor.pid);
    const contenders: Contender[] = [
      { name: 'candor', url: candorUrl },
      { name: 'nginx', url: nginx.url },
      { name: 'node', url: `${node.url}${PAGE}` },
    ];
    const full = await interleaved(contenders, 200, progress);
    const revalidated = await interleaved(contenders, 304, progress);
    return [
      figures(`public FAQ page, 200 (${Buffer.byteLength(body)} bytes)`, full),
      figures('public FAQ page, 304 revalidation', revalidated),
    ];
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Candor's page, its ETag and headers, written down for the bare node:http server to answer with. */
async function recordPage(url: string, dir: string): Promise<{ body: string; recorded: string }> {
  const first = await fetch(url);
  if (first.status !== 200) throw new Error(`${url} answered ${first.status}`);
  const body = await first.text();
  const etag = first.headers.get('etag') ?? '';
  const revalidated = await fetch(url, { headers: { 'if-none-match': etag } });
  const recorded = path.join(dir, 'recorded.json');
  writeFileSync(
    recorded,
    JSON.stringify({ body, etag, full: recordedHeaders(first), notModified: recordedHeaders(revalidated) }),
  );
  return { body, recorded };
}

interface Contender {
  name: 'candor' | 'nginx' | 'node';
  url: string;
}

type Loads = Record<Contender['name'], Load>;

/**
 * Each server measured ROUNDS times, taking turns (the order rotating each round), and the median kept: on a
 * shared two-core machine the load of the moment drifts, and taking turns spreads that drift over all three.
 */
async function interleaved(contenders: Contender[], status: 200 | 304, progress: (m: string) => void): Promise<Loads> {
  const samples = new Map<Contender['name'], Load[]>();
  for (let round = 0; round < ROUNDS; round++) {
    progress(`trust center: ${status} round ${round + 1} of ${ROUNDS}`);
    const order = [...contenders.slice(round % contenders.length), ...contenders.slice(0, round % contenders.length)];
    for (const { name, url } of order) {
      const load = await measure(url, status, status === 304 ? await etagOf(url) : undefined);
      samples.set(name, [...(samples.get(name) ?? []), load]);
    }
  }
  const median = (name: Contender['name']): Load => {
    const loads = samples.get(name) ?? [];
    const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    return { rps: middle(loads.map((l) => l.rps)), p99Ms: middle(loads.map((l) => l.p99Ms)) };
  };
  return { candor: median('candor'), nginx: median('nginx'), node: median('node') };
}

/** Waits (at most 60 s) until a process uses under a tenth of a core, read from /proc; elsewhere, 5 s. */
async function quietProcess(pid: number): Promise<void> {
  const stat = `/proc/${pid}/stat`;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  if (!existsSync(stat)) return sleep(5_000);
  // utime and stime, in clock ticks (100 a second on Linux), after the command name's closing parenthesis.
  const ticks = () => {
    const fields = readFileSync(stat, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]);
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const before = ticks();
    await sleep(1_000);
    if (ticks() - before < 10) return;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const figure of await trustCenterFigures((m) => process.stderr.write(`bench: ${m}\n`))) console.log(figure.line);
}
