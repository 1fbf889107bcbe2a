import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Settings } from '../s3.ts';

const SERVER_SCRIPT = fileURLToPath(new URL('./s3-server-process.mjs', import.meta.url));
const START_TIMEOUT_MS = 20_000;

/** s3rver accepts any well-formed signature made with these. */
export const TEST_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3Server {
  endpoint: string;
  /** Where s3rver keeps its buckets on disk. */
  directory: string;
  /** Driver settings for this server: path-style, test credentials, `bucket` and no prefix unless overridden. */
  settings(overrides?: Partial<S3Settings>): S3Settings;
  stop(): Promise<void>;
}

/** Starts s3rver on a free port over a temp directory, with `buckets` created; for tests of S3 storage. */
export async function startTestS3Server(buckets: string[] = ['candor']): Promise<TestS3Server> {
  const directory = mkdtempSync(path.join(tmpdir(), 'candor-s3-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', SERVER_SCRIPT, JSON.stringify({ directory, buckets })], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`s3rver did not start within ${START_TIMEOUT_MS} ms\n${output}`)),
      START_TIMEOUT_MS,
    );
    let line = '';
    child.stdout.on('data', (chunk: Buffer) => {
      line += chunk.toString();
      const end = line.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      resolve((JSON.parse(line.slice(0, end)) as { port: number }).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code}\n${output}`));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    directory,
    settings: (overrides = {}) => ({
      bucket: buckets[0] ?? 'candor',
      prefix: '',
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      bucketPerTenant: undefined,
      credentials: TEST_S3_CREDENTIALS,
      ...overrides,
    }),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
