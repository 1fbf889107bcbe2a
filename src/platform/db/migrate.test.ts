import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { databaseUrl, openTestDatabase, testEngine } from '../../../test/db.ts';
import { openDatabase } from './client.ts';
import { migrate, migrationsApplied } from './migrate.ts';

describe('migrations', () => {
  it('migrates an empty database, reports readiness, and is a no-op the second time', async () => {
    const db = await openDatabase({ engine: 'pglite', inMemory: true });
    try {
      expect(await migrationsApplied(db)).toBe(false);
      const first = await migrate(db);
      expect(first.applied.length).toBe(first.total);
      expect(await migrationsApplied(db)).toBe(true);
      const second = await migrate(db);
      expect(second.applied).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('re-applies the idempotent policy scripts on an already migrated database', async () => {
    const { db, drop } = await openTestDatabase();
    try {
      await migrate(db);
      await migrate(db);
      const policies = await db.query<{ n: number }>(
        "select count(*)::int as n from pg_policies where schemaname = 'public' and policyname = 'tenant_isolation'",
      );
      expect(policies.rows[0]?.n).toBeGreaterThan(0);
    } finally {
      await drop();
    }
  });

  it.skipIf(testEngine !== 'postgres')('migrates two databases of one cluster at the same time', async () => {
    const base = process.env.TEST_DATABASE_URL ?? '';
    const names = [0, 1].map(() => `candor_mig_${randomBytes(4).toString('hex')}`);
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      for (const name of names) await admin.query(`create database ${name}`);
      const dbs = await Promise.all(
        names.map((name) => openDatabase({ engine: 'postgres', url: databaseUrl(base, name), poolSize: 2 })),
      );
      try {
        const reports = await Promise.all(dbs.map((db) => migrate(db)));
        for (const report of reports) expect(report.applied.length).toBe(report.total);
        for (const db of dbs) expect(await migrationsApplied(db)).toBe(true);
      } finally {
        await Promise.all(dbs.map((db) => db.close()));
      }
    } finally {
      for (const name of names) await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
