import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const CONNECTIONS = 10;
const WARM_UP_SECONDS = 1;
const MEASURE_SECONDS = 5;
const EXPECTED_BODY = JSON.stringify({ status: 'ok' });

export const LOAD = `${CONNECTIONS} connections, ${MEASURE_SECONDS} s each`;

/**
 * Successful /healthz responses per second under a fixed load. A warm-up run first lets V8 optimise the hot
 * path, so the figure describes a running server rather than its first second.
 */
export async function healthzRequestsPerSecond(baseUrl: string): Promise<number> {
  const url = `${baseUrl}/healthz`;
  await load(url, WARM_UP_SECONDS);
  const result = await load(url, MEASURE_SECONDS);
  if (result.errors > 0 || result.non2xx > 0 || result.mismatches > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.mismatches} wrong bodies under load`);
  }
  return result['2xx'] / result.duration;
}

function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: seconds, expectBody: EXPECTED_BODY });
}

const REFERENCE_SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference-server.ts');

export interface ReferenceServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts a bare node:http reference (by default /healthz's) in its own process and waits for it to report its port. */
export async function startReferenceServer(script = REFERENCE_SERVER, args: string[] = []): Promise<ReferenceServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const port = await reportedPort(child, exited);
    return { url: `http://127.0.0.1:${port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function reportedPort(child: ChildProcess, exited: Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const port = /listening on (\d+)/.exec(seen)?.[1];
      if (port) resolve(Number(port));
    });
    void exited.then(() => reject(new Error(`the node:http reference server exited before listening: ${seen}`)));
    setTimeout(() => reject(new Error('the node:http reference server did not start within 15 s')), 15_000).unref();
  });
}
