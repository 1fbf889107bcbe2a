import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../src/platform/db/client.ts';

export const testEngine = (process.env.CANDOR_TEST_ENGINE ?? 'pglite') as 'pglite' | 'postgres';

export interface TestDatabase {
  db: Database;
  /** PostgreSQL only: the URL of this file's own database (for tests that start other processes). */
  url: string | undefined;
  drop(): Promise<void>;
}

/** A migrated database of this file's own: a PGlite clone, or a copy of the PostgreSQL template. */
export async function openTestDatabase(): Promise<TestDatabase> {
  if (testEngine === 'postgres') {
    const base = process.env.TEST_DATABASE_URL;
    if (!base) throw new Error('TEST_DATABASE_URL is not set');
    const template = inject('postgresTemplate');
    const name = `${template}_f${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name} template ${template}`);
    await admin.end();
    const url = databaseUrl(base, name);
    const db = await openDatabase({ engine: 'postgres', url, poolSize: 5 });
    return {
      db,
      url,
      async drop() {
        await db.close().catch(() => {}); // already closed by the runtime that used it
        const dropper = new pg.Client({ connectionString: base });
        await dropper.connect();
        await dropper.query(`drop database if exists ${name} with (force)`);
        await dropper.end();
      },
    };
  }
  const image = new Blob([readFileSync(inject('pgliteTemplate'))]);
  const db = await openDatabase({ engine: 'pglite', inMemory: true, loadDataDir: image });
  return { db, url: undefined, drop: () => db.close().catch(() => {}) };
}

export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
