import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip, createGzip } from 'node:zlib';
import { type Database, openDatabase } from '../../platform/db/client.ts';
import { startPgTool } from './pg-tools.ts';
import type { DatabaseFormat } from './schema.ts';
import { type BlobRef, blobRefs, countRowsPerTable, serverVersion } from './store.ts';

/** What a backup learns from the database at the moment of its dump. */
export interface DatabaseSnapshot {
  format: DatabaseFormat;
  serverVersion: string;
  rowCounts: Record<string, number>;
  blobs: BlobRef[];
}

/** Receives the dump's bytes (the archive writer's part). */
export type DumpConsumer = (dump: AsyncIterable<Uint8Array>) => Promise<unknown>;

/**
 * Dumps the whole database to `consume` and returns the row counts and blob list of the same instant, so a
 * restore can be checked against them and every blob the dump mentions is copied.
 */
export function dumpDatabase(db: Database, url: string | undefined, consume: DumpConsumer): Promise<DatabaseSnapshot> {
  if (db.engine === 'pglite') return dumpEmbedded(db, consume);
  if (!url) throw new Error('the PostgreSQL URL is needed to run pg_dump');
  return dumpPostgres(db, url, consume);
}

/**
 * PGlite: the data directory as a tar, taken inside a transaction. PGlite runs one transaction at a time,
 * so nothing commits between the counts and the image; the image is then compressed outside it.
 */
async function dumpEmbedded(db: Database, consume: DumpConsumer): Promise<DatabaseSnapshot> {
  const dumpImage = db.dumpEmbedded;
  if (!dumpImage) throw new Error('this database cannot dump its data directory');
  const { image, ...snapshot } = await db.transaction(async (client) => ({
    rowCounts: await countRowsPerTable(client),
    blobs: await blobRefs(client),
    serverVersion: await serverVersion(client),
    image: await dumpImage(),
  }));
  const gzip = createGzip({ level: 1 });
  const compressing = pipeline(Readable.fromWeb(image.stream() as WebReadableStream<Uint8Array>), gzip);
  await Promise.all([consume(gzip), compressing]);
  return { format: 'pglite-data-dir.tar.gz', ...snapshot };
}

/**
 * PostgreSQL: a repeatable-read transaction exports its snapshot, pg_dump dumps exactly that snapshot, and
 * the counts and blob list are read in it too. The transaction stays open until pg_dump is done.
 */
function dumpPostgres(db: Database, url: string, consume: DumpConsumer): Promise<DatabaseSnapshot> {
  return db.transaction(async (client) => {
    await client.query('set transaction isolation level repeatable read, read only');
    const { rows } = await client.query<{ snapshot: string }>('select pg_export_snapshot() as snapshot');
    const snapshotId = rows[0]?.snapshot;
    if (!snapshotId) throw new Error('PostgreSQL exported no snapshot');
    const snapshot = {
      rowCounts: await countRowsPerTable(client),
      blobs: await blobRefs(client),
      serverVersion: await serverVersion(client),
    };
    const tool = startPgTool('pg_dump', url, ['--format=custom', `--snapshot=${snapshotId}`], 'ignore');
    const stdout = tool.child.stdout;
    if (!stdout) throw new Error('pg_dump has no output');
    try {
      await Promise.all([consume(stdout), tool.done]);
    } catch (error) {
      tool.child.kill();
      throw error;
    }
    return { format: 'pg_dump-custom' as const, ...snapshot };
  });
}

/** Where a restore's database part goes: written as it is decrypted, then opened to be checked. */
export interface DatabaseTarget {
  write(plaintext: Buffer): Promise<void>;
  /** Completes the restore and returns the row counts of the restored database. */
  finish(): Promise<Record<string, number>>;
  abort(): Promise<void>;
}

/**
 * An embedded database rebuilt from the data-directory image: in `dataDir` (a restore) or in memory (a
 * drill). `after` runs on the opened database before it is closed (the restore's bookkeeping).
 */
export function embeddedTarget(
  place: { dataDir: string } | { inMemory: true },
  after?: (db: Database) => Promise<void>,
): DatabaseTarget {
  const gunzip = createGunzip();
  const pieces: Buffer[] = [];
  gunzip.on('data', (piece: Buffer) => pieces.push(piece));
  let failure: Error | undefined;
  gunzip.on('error', (error) => {
    failure = error;
  });
  return {
    async write(plaintext) {
      if (failure) throw failure;
      if (!gunzip.write(plaintext)) await once(gunzip, 'drain');
    },
    async finish() {
      gunzip.end();
      if (!gunzip.readableEnded && !failure) await once(gunzip, 'end');
      if (failure) throw new Error(`the database image does not decompress (${failure.message})`);
      const image = new Blob(pieces as Uint8Array<ArrayBuffer>[]);
      pieces.length = 0;
      const db = await openDatabase({
        engine: 'pglite',
        ...('inMemory' in place ? { inMemory: true } : { dataDir: place.dataDir }),
        loadDataDir: image,
      });
      try {
        const counts = await db.transaction((client) => countRowsPerTable(client));
        await after?.(db);
        return counts;
      } finally {
        await db.close();
      }
    },
    async abort() {
      gunzip.destroy();
      pieces.length = 0;
    },
  };
}

/**
 * A PostgreSQL database filled by pg_restore from the decrypted dump, in one transaction: a failure leaves
 * it empty. Objects are owned by the connecting user (`--no-owner`) and grants are left out
 * (`--no-privileges`; the restore re-applies Candor's role and policy scripts), so the dump restores into
 * any server, whether or not its cluster has Candor's role yet.
 */
export function postgresTarget(url: string, after?: (db: Database) => Promise<void>): DatabaseTarget {
  const tool = startPgTool(
    'pg_restore',
    url,
    ['--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error'],
    'pipe',
  );
  const stdin = tool.child.stdin;
  if (!stdin) throw new Error('pg_restore has no input');
  let failure: unknown;
  tool.done.catch((error: unknown) => {
    failure = error;
  });
  stdin.on('error', () => {}); // pg_restore exiting early closes the pipe; its exit status says why
  return {
    async write(plaintext) {
      if (failure) throw failure;
      if (!stdin.write(plaintext)) await Promise.race([once(stdin, 'drain'), tool.done]);
    },
    async finish() {
      stdin.end();
      await tool.done;
      const db = await openDatabase({ engine: 'postgres', url, poolSize: 1 });
      try {
        const counts = await db.transaction((client) => countRowsPerTable(client));
        await after?.(db);
        return counts;
      } finally {
        await db.close();
      }
    },
    async abort() {
      tool.child.kill();
      await tool.done.catch(() => {});
    },
  };
}

/** Differences between two sets of row counts, as lines naming each table. */
export function compareRowCounts(expected: Record<string, number>, actual: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const [table, count] of Object.entries(expected)) {
    const found = actual[table];
    if (found === undefined) problems.push(`table ${table} is missing (expected ${count} rows)`);
    else if (found !== count) problems.push(`table ${table} has ${found} rows, the backup had ${count}`);
  }
  for (const table of Object.keys(actual)) if (!(table in expected)) problems.push(`table ${table} is not in the backup`);
  return problems;
}
