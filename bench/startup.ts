import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type RunningCandor, sleep, startCandor } from '../test/browser.ts';

/** How long a server sits idle before its memory is read: start-up garbage has had time to be collected. */
const IDLE_BEFORE_RSS_MS = 2_000;

export interface StartSample {
  /** Spawn to first 200 on /healthz. */
  readyMs: number;
  /** Resident memory after sitting idle, in MiB. */
  idleRssMiB: number;
}

export interface StartupRound {
  firstStart: StartSample;
  restart: StartSample;
}

/**
 * One round: start on a fresh data directory (initdb, migrations, first tenant), stop, and start again on
 * the directory that is now there. `dataDir` must not exist yet.
 */
export async function measureStartupRound(dataDir: string): Promise<StartupRound> {
  const firstStart = await sampleStart(dataDir);
  const restart = await sampleStart(dataDir);
  return { firstStart, restart };
}

async function sampleStart(dataDir: string): Promise<StartSample> {
  const candor = await startCandor({ dataDir });
  try {
    await sleep(IDLE_BEFORE_RSS_MS);
    return { readyMs: candor.readyAfterMs, idleRssMiB: residentMiB(candor) };
  } finally {
    await candor.stop();
  }
}

/** VmRSS of the server process itself (not the bench), from /proc. */
function residentMiB(candor: RunningCandor): number {
  const status = readFileSync(path.join('/proc', String(candor.pid), 'status'), 'utf8');
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (!kib) throw new Error(`no VmRSS in /proc/${candor.pid}/status`);
  return Number(kib) / 1024;
}
