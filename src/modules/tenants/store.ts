import { asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.ts';
import type { Tenant } from './schema.ts';
import { tenants } from './tables.ts';

export async function insertTenant(
  tx: Tx,
  tenant: { slug: string; name: string; hosts: string[]; contactEmail: string | null },
): Promise<Tenant> {
  const [row] = await tx.insert(tenants).values(tenant).returning();
  if (!row) throw new Error('tenant insert returned nothing');
  return row;
}

export async function findTenantBySlug(tx: Tx, slug: string): Promise<Tenant | undefined> {
  const [row] = await tx.select().from(tenants).where(eq(tenants.slug, slug));
  return row;
}

export async function findTenantById(tx: Tx, id: string): Promise<Tenant | undefined> {
  const [row] = await tx.select().from(tenants).where(eq(tenants.id, id));
  return row;
}

export async function findTenantByHost(tx: Tx, host: string): Promise<Tenant | undefined> {
  const [row] = await tx.select().from(tenants).where(sql`${tenants.hosts} @> array[${host}]::text[]`);
  return row;
}

/** Tenants that already claim any of these hosts. */
export async function tenantsClaimingHosts(tx: Tx, hosts: string[]): Promise<Tenant[]> {
  if (hosts.length === 0) return [];
  return tx
    .select()
    .from(tenants)
    .where(
      sql`${tenants.hosts} && ${sql`array[${sql.join(
        hosts.map((h) => sql`${h}`),
        sql`, `,
      )}]::text[]`}`,
    );
}

/** Tenants that name no host: the catch-all for host names nobody claims (at most one is allowed). */
export async function hostlessTenants(tx: Tx, limit = 2): Promise<Tenant[]> {
  return tx.select().from(tenants).where(sql`cardinality(${tenants.hosts}) = 0`).orderBy(asc(tenants.createdAt)).limit(limit);
}

export async function listTenants(tx: Tx, limit = 2): Promise<Tenant[]> {
  return tx.select().from(tenants).orderBy(asc(tenants.createdAt)).limit(limit);
}

export async function countTenants(tx: Tx): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(tenants);
  return row?.n ?? 0;
}

export async function deleteTenantRow(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx.delete(tenants).where(eq(tenants.id, id)).returning({ id: tenants.id });
  return rows.length > 0;
}

// Serializes tenant creation so two concurrent creates cannot claim the same slug or host.
const TENANT_WRITE_LOCK = 7_201_312;

/** Holds the tenant-creation lock until the transaction ends. */
export async function lockTenantWrites(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${TENANT_WRITE_LOCK}::bigint)`);
}

export async function setTenantHosts(tx: Tx, id: string, hosts: string[]): Promise<void> {
  await tx.update(tenants).set({ hosts }).where(eq(tenants.id, id));
}
