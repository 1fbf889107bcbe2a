import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngine } from '../../../test/db.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKER = 'test/fixtures/cron-worker.ts';

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  stderr: string[];
}

/** A separate Node process running the job system with the `* * * * *` test job on `url`. */
function startWorker(url: string): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: ROOT,
    env: { ...process.env, CRON_DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`worker exited with ${code} before it was ready: ${stderr.join('')}`)));
  });
  return { child, ready, exited, stderr };
}

async function stopWorker(worker: Worker): Promise<number | null> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), 20_000);
  const code = await worker.exited;
  clearTimeout(timer);
  return code;
}

let database: TestDatabase | undefined;
const workers: Worker[] = [];

afterAll(async () => {
  for (const worker of workers) await stopWorker(worker);
  await database?.drop();
});

describe('cron across processes', () => {
  it.skipIf(testEngine !== 'postgres')(
    'runs each cron slot exactly once while two worker processes keep the schedule',
    async () => {
      database = await openTestDatabase();
      const { db, url } = database;
      if (!url) throw new Error('a PostgreSQL URL is expected');
      await db.query(
        'create table cron_runs (slot timestamptz not null, pid int not null, job_id uuid not null, ran_at timestamptz not null default now())',
      );

      workers.push(startWorker(url), startWorker(url));
      await Promise.all(workers.map((w) => w.ready));
      const { rows: started } = await db.query<{ at: Date }>('select now() as at');
      const bothReady = started[0]?.at ?? new Date();

      // Wait for two minute boundaries crossed while both processes were working, then a little more so
      // that a duplicate from the slower process would have had time to land.
      const deadline = Date.now() + 135_000;
      let slots: { slot: Date; runs: number; pids: number[] }[] = [];
      for (;;) {
        const { rows } = await db.query<{ slot: Date; runs: number; pids: number[] }>(
          'select slot, count(*)::int as runs, array_agg(distinct pid) as pids from cron_runs where slot > $1 group by slot order by slot',
          [bothReady],
        );
        slots = rows;
        if (slots.length >= 2 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      await new Promise((r) => setTimeout(r, 4000));

      const { rows: all } = await db.query<{ slot: Date; runs: number }>(
        'select slot, count(*)::int as runs from cron_runs group by slot order by slot',
      );
      expect(slots.length, `slots run after both workers were ready: ${JSON.stringify(all)}`).toBeGreaterThanOrEqual(2);
      // Every slot, including the one current when the processes started, ran once and only once.
      for (const { slot, runs } of all) expect({ slot: slot.toISOString(), runs }).toEqual({ slot: slot.toISOString(), runs: 1 });
      // Each run comes from a distinct job: no slot was both queued twice and deduplicated by accident.
      const { rows: jobs } = await db.query<{ n: number; distinct_jobs: number }>(
        'select count(*)::int as n, count(distinct job_id)::int as distinct_jobs from cron_runs',
      );
      expect(jobs[0]?.n).toBe(jobs[0]?.distinct_jobs);

      // Both processes stop cleanly (SIGTERM → jobs.stop → exit 0) and logged no error on the way
      // (pg-boss reports a failed cron check or a deadlocked queue setup as an 'error' event, not a crash).
      const codes = await Promise.all(workers.map(stopWorker));
      const logs = workers.flatMap((w) => w.stderr.join('').split('\n').filter(Boolean));
      expect(codes, logs.join('\n')).toEqual([0, 0]);
      const errors = logs.filter((line) => !line.startsWith('{') || (JSON.parse(line) as { level: number }).level >= 50);
      expect(errors).toEqual([]);
    },
    160_000,
  );
});
