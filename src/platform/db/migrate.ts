import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Database, SqlClient } from './client.ts';
import { PG, pgErrorCode } from './errors.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));
const POLICIES_DIR = path.join(MIGRATIONS_DIR, 'policies');

// One lock id for every Candor process on a database: migrations never run twice at once.
const MIGRATION_LOCK = 7_201_311;

export interface MigrationReport {
  applied: string[];
  total: number;
}

interface Migration {
  tag: string;
  hash: string;
  statements: string[];
}

/** The generated migrations (drizzle-kit journal order), named by their file tag. */
function generatedMigrations(): Migration[] {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  };
  const files = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR });
  return files.map((file, i) => ({
    tag: journal.entries[i]?.tag ?? `migration-${i}`,
    hash: file.hash,
    statements: file.sql.map((s) => s.trim()).filter(Boolean),
  }));
}

/** Hand-written SQL for roles and row-level security: idempotent, so it is re-applied on every migrate. */
function policyScripts(): string[] {
  return readdirSync(POLICIES_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => readFileSync(path.join(POLICIES_DIR, f), 'utf8'));
}

// The policy scripts' state is recorded as one row under this tag, keyed by a hash of their text.
const POLICIES_TAG = 'policies';

function policiesHash(scripts: string[]): string {
  return createHash('sha256').update(scripts.join('\n-- next script --\n')).digest('hex');
}

/** Hashes recorded in candor_migrations; empty for a database that was never migrated. */
async function recordedHashes(db: SqlClient): Promise<Set<string>> {
  try {
    return new Set((await db.query<{ hash: string }>('select hash from candor_migrations')).rows.map((r) => r.hash));
  } catch (error) {
    if (pgErrorCode(error) === PG.undefinedTable) return new Set();
    throw error;
  }
}

export interface MigrateOptions {
  /** Re-apply the policy scripts even when they have not changed (`candor migrate` does). */
  reapplyPolicies?: boolean;
}

/**
 * Applies pending generated migrations, then every policy script, in one transaction under an advisory
 * lock, so a crash leaves the schema as it was and concurrent starts wait for each other. When nothing
 * is pending and the policies are unchanged, it only reads: a restart should not redo DDL.
 */
export async function migrate(db: Database, options: MigrateOptions = {}): Promise<MigrationReport> {
  const migrations = generatedMigrations();
  const scripts = policyScripts();
  const policies = policiesHash(scripts);
  if (!options.reapplyPolicies) {
    const recorded = await recordedHashes(db);
    if (recorded.has(policies) && migrations.every((m) => recorded.has(m.hash))) return { applied: [], total: migrations.length };
  }
  return db.transaction(async (client) => {
    await client.query('select pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
    await client.query(`create table if not exists candor_migrations (
      hash text primary key,
      tag text not null,
      applied_at timestamptz not null default now()
    )`);
    const done = new Set((await client.query<{ hash: string }>('select hash from candor_migrations')).rows.map((r) => r.hash));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.hash)) continue;
      for (const statement of migration.statements) await client.query(statement);
      await client.query('insert into candor_migrations (hash, tag) values ($1, $2)', [migration.hash, migration.tag]);
      applied.push(migration.tag);
    }
    for (const script of scripts) await client.query(script);
    await client.query('delete from candor_migrations where tag = $1', [POLICIES_TAG]);
    await client.query('insert into candor_migrations (hash, tag) values ($1, $2)', [policies, POLICIES_TAG]);
    return { applied, total: migrations.length };
  });
}

let expectedHashes: string[] | undefined;

/** True when every generated migration has been applied (what /readyz reports). */
export async function migrationsApplied(db: SqlClient): Promise<boolean> {
  expectedHashes ??= generatedMigrations().map((m) => m.hash);
  const have = await recordedHashes(db);
  return expectedHashes.every((h) => have.has(h));
}
