import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { databaseUrl, testEngine } from '../../../test/db.ts';
import { type Database, openDatabase } from '../../platform/db/client.ts';
import { MIGRATIONS_DIR } from '../../platform/db/migrate.ts';
import { builtInRole } from './roles.ts';

/**
 * The move from one `users.role` per person to grants, and from a token's role to its permissions, keeps what
 * every existing person and token could do. (When the migrations are squashed before a release, this data
 * migration and its test go with them.)
 */

const DATA_MIGRATION = 'access_grants_from_user_role';

/** The generated migrations in journal order, each with its tag. */
function migrations(): { tag: string; statements: string[] }[] {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  };
  return readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR }).map((file, i) => ({
    tag: journal.entries[i]?.tag ?? '',
    statements: file.sql.map((s) => s.trim()).filter(Boolean),
  }));
}

async function apply(db: Database, list: { statements: string[] }[]): Promise<void> {
  for (const m of list) for (const statement of m.statements) await db.query(statement);
}

/** An empty database of this engine, dropped afterwards. */
async function withEmptyDatabase(work: (db: Database) => Promise<void>): Promise<void> {
  if (testEngine === 'pglite') {
    const db = await openDatabase({ engine: 'pglite', inMemory: true });
    try {
      await work(db);
    } finally {
      await db.close();
    }
    return;
  }
  const base = process.env.TEST_DATABASE_URL ?? '';
  const name = `candor_datamig_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const db = await openDatabase({ engine: 'postgres', url: databaseUrl(base, name), poolSize: 2 });
  try {
    await work(db);
  } finally {
    await db.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

describe('the migration from single roles to grants', () => {
  it('turns each person’s role into a grant and each token’s role into that role’s permissions', async () => {
    const all = migrations();
    const at = all.findIndex((m) => m.tag.endsWith(DATA_MIGRATION));
    expect(at, 'the data migration is in the journal').toBeGreaterThan(0);
    await withEmptyDatabase(async (db) => {
      await apply(db, all.slice(0, at));
      const tenant = (await db.query<{ id: string }>("insert into tenants (slug, name) values ('acme', 'Acme') returning id"))
        .rows[0]?.id;
      const insertUser = async (email: string, role: string) =>
        (
          await db.query<{ id: string }>(
            'insert into users (tenant_id, email, name, role, password_hash) values ($1, $2, $3, $4, null) returning id',
            [tenant, email, email, role],
          )
        ).rows[0]?.id;
      const ownerId = await insertUser('olivia@acme.test', 'owner');
      const auditorId = await insertUser('aldo@acme.test', 'auditor');
      await db.query(
        "insert into api_tokens (tenant_id, name, token_hash, prefix, role) values ($1, 'siem', 'h1', 'cnd_aaaaaa', 'auditor'), ($1, 'ci', 'h2', 'cnd_bbbbbb', 'owner')",
        [tenant],
      );

      await apply(db, all.slice(at));

      const grants = await db.query<{ user_id: string; role: string; granted_by_label: string }>(
        'select user_id, role, granted_by_label from role_grants order by role',
      );
      expect(grants.rows).toEqual([
        { user_id: auditorId, role: 'auditor', granted_by_label: 'migration' },
        { user_id: ownerId, role: 'owner', granted_by_label: 'migration' },
      ]);
      const tokens = await db.query<{ name: string; permissions: string[] }>(
        'select name, permissions from api_tokens order by name',
      );
      // The migration's lists are frozen at the catalog of its day; permissions added since are not in them.
      const [ci, siem] = tokens.rows;
      expect(ci?.permissions).toEqual(
        expect.arrayContaining(['users.manage', 'roles.manage', 'tokens.manage', 'settings.manage']),
      );
      expect(builtInRole('owner')?.permissions).toEqual(expect.arrayContaining(ci?.permissions ?? ['none']));
      expect(siem?.permissions).toEqual(expect.arrayContaining(['audit.read', 'audit.export', 'audit.verify', 'outbox.read']));
      expect(builtInRole('auditor')?.permissions).toEqual(expect.arrayContaining(siem?.permissions ?? ['none']));
      const columns = await db.query<{ table_name: string }>(
        "select table_name from information_schema.columns where column_name = 'role' and table_name in ('users', 'api_tokens')",
      );
      expect(columns.rows).toEqual([]);
    });
  });
});
