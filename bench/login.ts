// Password sign-in figures: the argon2id parameters, the time one hash takes on this machine (kept between
// 50 and 250 ms: slower makes guessing expensive, faster than 50 ms would make offline cracking cheap, slower
// than 250 ms makes people wait), and sign-in requests per second with 20 concurrent clients against the real
// `candor start`, beside the rate at which this machine can verify argon2id hashes at all (the ceiling).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { ARGON2, hashPassword } from '../src/modules/identity/service.ts';
import { runCandor, startCandor } from '../test/cli.ts';

export const TARGETS = { hashMinMs: 50, hashMaxMs: 250 };
const CLIENTS = 20;
const HASHES = 15;
const MEASURE_SECONDS = 10;
const EMAIL = 'bench@localhost.test';
const PASSWORD = 'a long bench passphrase nobody guesses';

export interface LoginFigure {
  label: string;
  line: string;
  targetMet?: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function hashTimesMs(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < HASHES; i++) {
    const started = performance.now();
    await hashPassword(`${PASSWORD} ${i}`);
    times.push(performance.now() - started);
  }
  return times;
}

/** argon2id verifications per second with CLIENTS running at once: what any sign-in path is bounded by. */
async function verifyRate(hash: string): Promise<number> {
  let done = 0;
  const until = performance.now() + MEASURE_SECONDS * 1000;
  const client = async () => {
    while (performance.now() < until) {
      if (!(await verify(hash, PASSWORD))) throw new Error('bench hash did not verify');
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return done / ((performance.now() - started) / 1000);
}

/** Successful sign-ins (303 to /admin) per second through HTTP against a real server. */
async function signInRate(progress: (message: string) => void): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'candor-login-bench-'));
  const dataDir = path.join(dir, 'data');
  try {
    progress('sign-in: first start creates the workspace');
    await (await startCandor({ dataDir, startTimeoutMs: 120_000 })).stop();
    const created = await runCandor(
      ['user', 'create', '--tenant', 'default', '--email', EMAIL, '--role', 'employee', '--password-stdin'],
      { CANDOR_DATA_DIR: dataDir },
      PASSWORD,
    );
    if (created.code !== 0) throw new Error(`user create failed: ${created.stderr}`);
    const candor = await startCandor({ dataDir, startTimeoutMs: 120_000 });
    try {
      const origin = `http://localhost:${candor.port}`;
      const options = {
        url: `http://127.0.0.1:${candor.port}/admin/login`,
        method: 'POST' as const,
        connections: CLIENTS,
        headers: { host: `localhost:${candor.port}`, origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: EMAIL, password: PASSWORD }).toString(),
      };
      progress(`sign-in: ${CLIENTS} clients, ${MEASURE_SECONDS} s`);
      await autocannon({ ...options, duration: 2 });
      const result = await autocannon({ ...options, duration: MEASURE_SECONDS });
      const refused = result.non2xx - result['3xx'];
      if (result.errors > 0 || refused > 0) {
        throw new Error(`sign-in under load: ${result.errors} errors, ${refused} responses other than the redirect`);
      }
      return result['3xx'] / result.duration;
    } finally {
      await candor.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function loginFigures(progress: (message: string) => void): Promise<LoginFigure[]> {
  progress(`argon2id: ${HASHES} hashes`);
  const times = await hashTimesMs();
  const hashMs = median(times);
  const met = hashMs >= TARGETS.hashMinMs && hashMs <= TARGETS.hashMaxMs;
  const params = `argon2id m=${ARGON2.memoryCost} KiB, t=${ARGON2.timeCost}, p=${ARGON2.parallelism}`;
  progress(`argon2id: verification rate with ${CLIENTS} at once`);
  const ceiling = await verifyRate(await hashPassword(PASSWORD));
  const signIns = await signInRate(progress);
  const rate = (value: number) => value.toFixed(1);
  return [
    {
      label: 'argon2id hash time',
      targetMet: met,
      line:
        `password hashing: ${params}; ${hashMs.toFixed(0)} ms per hash (median of ${HASHES}, ` +
        `${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)} ms; target ${TARGETS.hashMinMs}–${TARGETS.hashMaxMs} ms) ` +
        `${met ? 'PASS' : 'MISS'}`,
    },
    {
      label: 'sign-ins per second',
      line:
        `password sign-ins per second, ${CLIENTS} concurrent clients over HTTP: ${rate(signIns)}/s; argon2id verifications ` +
        `per second in-process with ${CLIENTS} at once: ${rate(ceiling)}/s; sign-in/verify = ${(signIns / ceiling).toFixed(2)}`,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const figure of await loginFigures((m) => process.stderr.write(`bench: ${m}\n`))) console.log(figure.line);
}
