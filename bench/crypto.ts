// Envelope encryption figure: AES-256-GCM encrypt + decrypt of 1 KiB records through the keyring's API
// (a TenantCipher obtained once, text envelopes bound to their row) beside a bare node:crypto loop doing the
// same cipher work on the same records in the same run.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { createTenant } from '../src/modules/tenants/service.ts';
import type { TenantCipher } from '../src/platform/crypto/keyring.ts';
import { localMasterKey } from '../src/platform/crypto/master-key.ts';
import { openDatabase } from '../src/platform/db/client.ts';
import { closeRuntime, createRuntime } from '../src/runtime.ts';

export const TARGETS = { apiToBareNode: 0.5 };
const RECORD_BYTES = 1024;
const RECORDS = 256;
const ROUNDS = 5;
const ROUND_MS = 600;

export interface CryptoFigure {
  label: string;
  line: string;
  targetMet?: boolean;
}

/** Runs `step` over the records for ROUND_MS after a warm-up; returns records per second. */
function recordsPerSecond(step: (record: Buffer, i: number) => void, records: Buffer[]): number {
  for (let i = 0; i < records.length; i++) step(records[i] as Buffer, i); // warm-up
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < ROUND_MS) {
    for (let i = 0; i < records.length; i++) step(records[i] as Buffer, i);
    done += records.length;
  }
  return done / ((performance.now() - started) / 1000);
}

/** What the API does per record, minus everything but the cipher: random IV, associated data, tag. */
function bareNode(key: Buffer): (record: Buffer, i: number) => void {
  return (record, i) => {
    const aad = Buffer.from(`row-${i}`);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(record), cipher.final()]);
    const tag = cipher.getAuthTag();
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(body), decipher.final()]);
    if (plain.length !== record.length) throw new Error('bare round trip lost bytes');
  };
}

function throughApi(cipher: TenantCipher): (record: Buffer, i: number) => void {
  return (record, i) => {
    const context = { table: 'bench_records', column: 'body', rowId: `row-${i}` };
    const plain = cipher.decrypt(cipher.encrypt(record, context), context);
    if (plain.length !== record.length) throw new Error('API round trip lost bytes');
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** A TenantCipher from a real runtime on a scratch embedded database. */
async function tenantCipher(): Promise<{ cipher: TenantCipher; close(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'candor-bench-crypto-'));
  const db = await openDatabase({ engine: 'pglite', inMemory: true });
  const config = { ...loadConfig({}), dataDir, engine: 'pglite' as const, logLevel: 'silent' as const };
  const runtime = await createRuntime(config, {
    db,
    log: pino({ level: 'silent' }),
    masterKey: localMasterKey(randomBytes(32), 'bench'),
  });
  const tenant = await createTenant(db, { slug: 'bench', name: 'Bench', hosts: ['bench.test'] });
  const cipher = await db.withTenant(tenant.id, (tx) => runtime.keys.forTenant(tx, tenant.id));
  return {
    cipher,
    async close() {
      await closeRuntime(runtime);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function cryptoFigures(progress: (message: string) => void): Promise<CryptoFigure[]> {
  progress('envelope encryption: 1 KiB records through the keyring and through bare node:crypto');
  const { cipher, close } = await tenantCipher();
  try {
    const records = Array.from({ length: RECORDS }, () => randomBytes(RECORD_BYTES));
    const bare = bareNode(randomBytes(32));
    const api = throughApi(cipher);
    const nodeRates: number[] = [];
    const apiRates: number[] = [];
    // Interleaved rounds: a neighbour's burst on a shared machine hits both sides alike.
    for (let round = 0; round < ROUNDS; round++) {
      nodeRates.push(recordsPerSecond(bare, records));
      apiRates.push(recordsPerSecond(api, records));
    }
    const nodeRate = median(nodeRates);
    const apiRate = median(apiRates);
    const ratio = apiRate / nodeRate;
    const met = ratio >= TARGETS.apiToBareNode;
    const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
    return [
      {
        label: 'envelope encryption',
        targetMet: met,
        line:
          `AES-256-GCM encrypt+decrypt of 1 KiB records: keyring API (text envelopes bound to their row) ${rate(apiRate)}; ` +
          `bare node:crypto ${rate(nodeRate)}; api/node:crypto = ${ratio.toFixed(2)} (target ≥ ${TARGETS.apiToBareNode}) ${met ? 'PASS' : 'MISS'}`,
      },
    ];
  } finally {
    await close();
  }
}

// `node --import tsx bench/crypto.ts` runs this figure alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const figure of await cryptoFigures((message) => process.stderr.write(`bench: ${message}\n`))) console.log(figure.line);
}
