import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { checkChannelName, createPgListener, type Subscriber } from './listener.ts';

/** The handle every store receives: a drizzle transaction bound to one tenant (or to the system). */
export type Tx = PgDatabase<PgQueryResultHKT>;

export type Engine = 'pglite' | 'postgres';

/** The non-owner role whose every query is filtered by row-level security (see migrations/policies). */
export const APP_ROLE = 'candor_app';

export interface Rows<R> {
  rows: R[];
}

/** Plain SQL for the platform's own plumbing (migrations, the job queue, probes). */
export interface SqlClient {
  /** One statement with `$1` parameters, or (without parameters) a script of several; rows of the last. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Rows<R>>;
}

export interface Database extends SqlClient {
  readonly engine: Engine;
  /** Runs `work` in one transaction on one connection, with plain SQL (migrations). */
  transaction<T>(work: (client: SqlClient) => Promise<T>): Promise<T>;
  /**
   * Runs `work` in one transaction as the application role with the tenant set for row-level security:
   * a query that forgets its tenant filter still sees and writes only this tenant's rows.
   */
  withTenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `work` in one transaction as the schema owner, which row-level security does not filter.
   * Only code that must span tenants (tenant lookup by host, the mail worker, the CLI) uses it.
   */
  withSystem<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * LISTENs on a channel (see notify.ts for the typed API): PostgreSQL on one dedicated connection shared by
   * every channel, PGlite in-process. Resolves once listening; the answer stops it. Ends with `close()`.
   */
  listen(channel: string, subscriber: Subscriber): Promise<() => Promise<void>>;
  /** Embedded engine only: the whole data directory as an uncompressed tar (test templates, backups). */
  dumpEmbedded?: () => Promise<Blob>;
  close(): Promise<void>;
}

export interface OpenOptions {
  engine: Engine;
  /** PostgreSQL URL for the server engine. */
  url?: string | undefined;
  /** Data directory for the embedded engine; its database lives in `<dataDir>/pgdata`. */
  dataDir?: string | undefined;
  /** An embedded database image to start from (tests load a migrated template this way). */
  loadDataDir?: Blob | undefined;
  /** Keep the embedded database in memory only. */
  inMemory?: boolean;
  poolSize?: number;
}

export function openDatabase(options: OpenOptions): Promise<Database> {
  return options.engine === 'postgres' ? openPostgres(options) : openPglite(options);
}

function bindTenant(tenantId: string) {
  // set_config(..., true) is SET LOCAL: role and tenant both revert when the transaction ends.
  return sql`select set_config('role', ${APP_ROLE}, true), set_config('candor.tenant_id', ${tenantId}, true)`;
}

function tenantScoped(db: Tx) {
  return {
    withTenant<T>(tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
      return db.transaction(async (tx) => {
        await tx.execute(bindTenant(tenantId));
        return work(tx);
      });
    },
    withSystem<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
      return db.transaction((tx) => work(tx));
    },
  };
}

// Each engine's driver is loaded only when that engine is used: start-up time is a product feature.
async function openPostgres(options: OpenOptions): Promise<Database> {
  if (!options.url) throw new Error('a PostgreSQL URL is required');
  const [{ default: pg }, { drizzle: drizzleNodePg }] = await Promise.all([import('pg'), import('drizzle-orm/node-postgres')]);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
    application_name: 'candor',
  });
  // An idle client's error (a server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  await pool.query('select 1');
  const listener = createPgListener(pg.Client, options.url);
  const query = async <R>(text: string, params: unknown[] = []) => {
    const result = await pool.query(text, params);
    // A multi-statement script answers with one result per statement.
    const last = Array.isArray(result) ? result.at(-1) : result;
    return { rows: (last?.rows ?? []) as R[] };
  };
  return {
    engine: 'postgres',
    query,
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await work({
          query: async <R>(text: string, params: unknown[] = []) => {
            const r = await client.query(text, params);
            const last = Array.isArray(r) ? r.at(-1) : r;
            return { rows: (last?.rows ?? []) as R[] };
          },
        });
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    ...tenantScoped(drizzleNodePg(pool) as unknown as Tx),
    listen: (channel, subscriber) => listener.listen(channel, subscriber),
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}

type LiteQueryable = Pick<PGlite, 'query' | 'exec'>;

function liteQuery(lite: LiteQueryable) {
  return async <R>(text: string, params: unknown[] = []): Promise<Rows<R>> => {
    if (params.length > 0) return { rows: (await lite.query<R>(text, params)).rows };
    // Without parameters the text may be a script of several statements.
    const results = await lite.exec(text);
    return { rows: (results.at(-1)?.rows ?? []) as R[] };
  };
}

// PGlite's own start parameters, with a smaller buffer cache: a small company's data fits, and the
// process stays well under 400 MB instead of reserving PostgreSQL's default 128 MB of shared buffers.
const PGLITE_START_PARAMS = [
  '--single',
  '-F',
  '-O',
  '-j',
  ...['search_path=public', 'exit_on_error=false', 'log_checkpoints=false', 'max_worker_processes=0'],
  ...['max_parallel_workers=0', 'max_parallel_workers_per_gather=0', 'io_method=sync', 'max_parallel_maintenance_workers=0'],
  'shared_buffers=32MB',
].flatMap((param) => (param.startsWith('-') ? [param] : ['-c', param]));

const INIT_SCRIPT = fileURLToPath(new URL('./pglite-init.mjs', import.meta.url));

/** A new data directory is initialised in a child process, so its initdb memory is not kept here. */
async function initialiseDataDir(dataDir: string): Promise<void> {
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  await promisify(execFile)(process.execPath, [INIT_SCRIPT, dataDir]);
}

async function openPglite(options: OpenOptions): Promise<Database> {
  const dataDir = options.inMemory ? undefined : path.join(options.dataDir ?? './data', 'pgdata');
  if (dataDir && !options.loadDataDir) await initialiseDataDir(dataDir);
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
  ]);
  const lite = await PGlite.create(dataDir, {
    startParams: PGLITE_START_PARAMS,
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  return {
    engine: 'pglite',
    query: liteQuery(lite),
    transaction: (work) => lite.transaction((tx) => work({ query: liteQuery(tx) })),
    ...tenantScoped(drizzlePglite(lite) as unknown as Tx),
    // One process, one connection: nothing is ever missed, so there is no gap to report.
    async listen(channel, subscriber) {
      checkChannelName(channel);
      const callback = (payload: string) => subscriber.message(payload);
      await lite.listen(channel, callback);
      return () => lite.unlisten(channel, callback);
    },
    dumpEmbedded: () => lite.dumpDataDir('none'),
    close: () => lite.close(),
  };
}
