// `npm run bench`: start-up time, idle memory and /healthz throughput of the real `candor start`, the audit
// trail's append and verification rates (bench/audit.ts), envelope encryption (bench/crypto.ts), backups
// (bench/backup.ts), password sign-in (bench/login.ts), PDF watermarking (bench/watermark.ts) and the public
// Trust Center against nginx (bench/trust-center.ts), each
// printed beside its target or a reference measured in the same run (absolute numbers drift on shared machines).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCandor } from '../test/browser.ts';
import { auditFigures } from './audit.ts';
import { backupFigures } from './backup.ts';
import { cryptoFigures } from './crypto.ts';
import { loginFigures } from './login.ts';
import { measureStartupRound, type StartupRound } from './startup.ts';
import { healthzRequestsPerSecond, LOAD, startReferenceServer } from './throughput.ts';
import { trustCenterFigures } from './trust-center.ts';
import { watermarkFigures } from './watermark.ts';

const ROUNDS = 3;
const TARGETS = { firstStartMs: 8_000, restartMs: 2_000, idleRssMiB: 400 };

interface Figure {
  line: string;
  /** Absent for figures that are only compared with a reference. */
  targetMet?: boolean;
  label: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** A figure with a "lower is better" target: median, spread, the ratio to the target and PASS/MISS. */
function againstTarget(label: string, samples: number[], target: number, unit: 's' | 'MiB'): Figure {
  const show = (value: number) => (unit === 's' ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} MiB`);
  const value = median(samples);
  const met = value < target;
  const spread = `median of ${samples.length}, ${show(Math.min(...samples))}–${show(Math.max(...samples))}`;
  const ratio = (value / target).toFixed(2);
  return {
    label,
    targetMet: met,
    line: `${label}: ${show(value)} (${spread}; target < ${show(target)}, ${ratio}× target) ${met ? 'PASS' : 'MISS'}`,
  };
}

function startupFigures(rounds: StartupRound[]): Figure[] {
  const first = rounds.map((r) => r.firstStart);
  const restart = rounds.map((r) => r.restart);
  return [
    againstTarget(
      'first start (fresh data dir) to first /healthz 200',
      first.map((s) => s.readyMs),
      TARGETS.firstStartMs,
      's',
    ),
    againstTarget(
      'restart (existing data dir) to first /healthz 200',
      restart.map((s) => s.readyMs),
      TARGETS.restartMs,
      's',
    ),
    againstTarget(
      'idle RSS 2 s after first start',
      first.map((s) => s.idleRssMiB),
      TARGETS.idleRssMiB,
      'MiB',
    ),
    againstTarget(
      'idle RSS 2 s after restart',
      restart.map((s) => s.idleRssMiB),
      TARGETS.idleRssMiB,
      'MiB',
    ),
  ];
}

/** Candor (restarted on an existing data directory) and bare node:http under the same load, one after the other. */
async function throughputFigure(dataDir: string): Promise<Figure> {
  const reference = await startReferenceServer();
  let nodeRps: number;
  try {
    nodeRps = await healthzRequestsPerSecond(reference.url);
  } finally {
    await reference.stop();
  }
  const candor = await startCandor({ dataDir });
  let candorRps: number;
  try {
    candorRps = await healthzRequestsPerSecond(`http://127.0.0.1:${candor.port}`);
  } finally {
    await candor.stop();
  }
  const rps = (value: number) => Math.round(value).toLocaleString('en-US');
  return {
    label: '/healthz requests per second',
    line:
      `/healthz requests per second: candor ${rps(candorRps)}, node:http ${rps(nodeRps)} (${LOAD}, autocannon): ` +
      `candor/node:http = ${(candorRps / nodeRps).toFixed(2)}`,
  };
}

function summary(figures: Figure[]): string {
  const judged = figures.filter((f) => f.targetMet !== undefined);
  const missed = judged.filter((f) => !f.targetMet).map((f) => f.label);
  const met = judged.length - missed.length;
  return `summary: ${met} of ${judged.length} targets met${missed.length ? `; missed: ${missed.join('; ')}` : ''}`;
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function runBench(workDir: string): Promise<Figure[]> {
  const rounds: StartupRound[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    progress(`start-up round ${i} of ${ROUNDS} (fresh data dir, then restart)`);
    rounds.push(await measureStartupRound(path.join(workDir, `round-${i}`, 'data')));
  }
  progress(`/healthz throughput: node:http, then candor (${LOAD})`);
  const throughput = await throughputFigure(path.join(workDir, `round-${ROUNDS}`, 'data'));
  const audit = await auditFigures(progress);
  const crypto = await cryptoFigures(progress);
  const backup = await backupFigures(progress);
  const login = await loginFigures(progress);
  const watermark = await watermarkFigures(progress);
  const trustCenter = await trustCenterFigures(progress);
  return [...startupFigures(rounds), throughput, ...audit, ...crypto, ...backup, ...login, ...watermark, ...trustCenter];
}

async function main(): Promise<number> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'candor-bench-'));
  const removeWorkDir = () => rmSync(workDir, { recursive: true, force: true });
  // Runs after the helpers' own exit hooks have killed any server still running (listeners run in order).
  process.once('exit', removeWorkDir);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const startedAt = performance.now();
  try {
    const figures = await runBench(workDir);
    for (const figure of figures) console.log(figure.line);
    console.log(`${summary(figures)} (bench took ${Math.round((performance.now() - startedAt) / 1000)} s)`);
    return 0;
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    removeWorkDir();
  }
}

process.exitCode = await main();
