import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/platform/db/client.ts';
import { migrate } from '../src/platform/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** PGlite: a migrated data directory image (tar) every test file starts from. */
    pgliteTemplate: string;
    /** PostgreSQL: a migrated template database every test file copies. */
    postgresTemplate: string;
  }
}

/** Migrates once per run; each test file then clones the result instead of migrating again. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Global setup runs in the main process, where the project's `env` is not applied: go by its name.
  if (project.name === 'postgres') return setupPostgresTemplate(project);
  return setupPgliteTemplate(project);
}

async function setupPgliteTemplate(project: TestProject): Promise<() => Promise<void>> {
  const db = await openDatabase({ engine: 'pglite', inMemory: true });
  await migrate(db);
  if (!db.dumpEmbedded) throw new Error('embedded database expected');
  const image = await db.dumpEmbedded();
  const file = path.join(tmpdir(), `candor-template-${process.pid}-${randomBytes(4).toString('hex')}.tar`);
  writeFileSync(file, Buffer.from(await image.arrayBuffer()));
  await db.close();
  project.provide('pgliteTemplate', file);
  project.provide('postgresTemplate', '');
  return async () => rmSync(file, { force: true });
}

async function setupPostgresTemplate(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set');
  const name = `candor_tpl_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const templateUrl = withDatabase(url, name);
  const db = await openDatabase({ engine: 'postgres', url: templateUrl, poolSize: 1 });
  await migrate(db);
  await db.close();
  project.provide('postgresTemplate', name);
  project.provide('pgliteTemplate', '');
  return async () => {
    const leftovers = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like $1 or datname = $2`,
      [`${name}_f%`, name],
    );
    for (const { datname } of leftovers.rows) await admin.query(`drop database if exists ${datname} with (force)`);
    await admin.end();
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
