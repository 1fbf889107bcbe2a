import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createTenant } from '../../modules/tenants/service.ts';
import type { Database, Tx } from './client.ts';
import { PG, pgErrorCode } from './errors.ts';

let database: TestDatabase;
let db: Database;
let tenantA: string;
let tenantB: string;

async function rows(tx: Tx, query: ReturnType<typeof sql>): Promise<Record<string, unknown>[]> {
  const result = (await tx.execute(query)) as unknown as { rows: Record<string, unknown>[] };
  return result.rows;
}

async function insertUser(tenantId: string, email: string): Promise<void> {
  await db.withTenant(tenantId, (tx) =>
    tx.execute(sql`insert into users (tenant_id, email, name) values (${tenantId}, ${email}, ${email})`),
  );
}

beforeAll(async () => {
  database = await openTestDatabase();
  db = database.db;
  tenantA = (await createTenant(db, { slug: 'alpha', name: 'Alpha', hosts: ['alpha.test'] })).id;
  tenantB = (await createTenant(db, { slug: 'beta', name: 'Beta', hosts: ['beta.test'] })).id;
  await insertUser(tenantA, 'a1@alpha.test');
  await insertUser(tenantA, 'a2@alpha.test');
  await insertUser(tenantB, 'b1@beta.test');
});

afterAll(async () => {
  await database.drop();
});

describe('row-level security under withTenant', () => {
  it('shows a query with no tenant filter only the current tenant’s rows', async () => {
    const seen = await db.withTenant(tenantA, (tx) => rows(tx, sql`select email from users order by email`));
    expect(seen.map((r) => r.email)).toEqual(['a1@alpha.test', 'a2@alpha.test']);
    const tenants = await db.withTenant(tenantA, (tx) => rows(tx, sql`select slug from tenants`));
    expect(tenants.map((r) => r.slug)).toEqual(['alpha']);
  });

  it('refuses to insert a row into another tenant', async () => {
    expect(await failureCode(insertUserAs(tenantA, tenantB, 'intruder@alpha.test'))).toBe(PG.insufficientPrivilege);
    const beta = await db.withTenant(tenantB, (tx) => rows(tx, sql`select email from users`));
    expect(beta.map((r) => r.email)).toEqual(['b1@beta.test']);
  });

  it('lets an unfiltered update or delete touch only the current tenant', async () => {
    await db.withTenant(tenantA, (tx) => tx.execute(sql`update users set name = 'renamed'`));
    const moved = db.withTenant(tenantA, (tx) => tx.execute(sql`update users set tenant_id = ${tenantB}`));
    expect(await failureCode(moved)).toBe(PG.insufficientPrivilege);
    await db.withTenant(tenantB, (tx) => tx.execute(sql`delete from sessions`));
    const beta = await db.withTenant(tenantB, (tx) => rows(tx, sql`select name from users`));
    expect(beta).toEqual([{ name: 'b1@beta.test' }]);
    const deleted = await db.withTenant(tenantA, (tx) => rows(tx, sql`delete from users where email like 'nobody%' returning 1`));
    expect(deleted).toEqual([]);
  });

  it('shows nothing when no tenant is set for the application role', async () => {
    const seen = await db.withSystem(async (tx) => {
      await tx.execute(sql`select set_config('role', 'candor_app', true)`);
      return rows(tx, sql`select email from users`);
    });
    expect(seen).toEqual([]);
  });

  it('protects every table that has a tenant_id column', async () => {
    const unprotected = await db.withSystem((tx) =>
      rows(
        tx,
        sql`select c.relname from pg_class c
              join pg_namespace n on n.oid = c.relnamespace
              join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
             where n.nspname = 'public' and c.relkind = 'r'
               and (not c.relrowsecurity or not exists (select from pg_policies p where p.tablename = c.relname))`,
      ),
    );
    expect(unprotected).toEqual([]);
  });

  it('keeps tenant_id first in the primary key of every tenant-owned table', async () => {
    const offenders = await db.withSystem((tx) =>
      rows(
        tx,
        sql`select c.relname from pg_index i
              join pg_class c on c.oid = i.indrelid
              join pg_namespace n on n.oid = c.relnamespace
              join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
             where i.indisprimary and n.nspname = 'public'
               and exists (select from pg_attribute t where t.attrelid = c.oid and t.attname = 'tenant_id')
               and a.attname <> 'tenant_id'`,
      ),
    );
    expect(offenders).toEqual([]);
  });
});

async function insertUserAs(actingTenant: string, targetTenant: string, email: string) {
  return db.withTenant(actingTenant, (tx) =>
    tx.execute(sql`insert into users (tenant_id, email, name) values (${targetTenant}, ${email}, 'x')`),
  );
}

/** The SQLSTATE a statement failed with (row-level security refusals are 42501). */
async function failureCode(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return pgErrorCode(error);
  }
}
