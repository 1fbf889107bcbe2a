import type { Audit } from '../../platform/audit/audit.ts';
import type { Actor, Runtime } from '../../platform/context.ts';
import type { Database, Tx } from '../../platform/db/client.ts';
import { Conflict, NotFound } from '../../platform/errors.ts';
import { NewTenant, type Tenant } from './schema.ts';
import {
  countTenants,
  deleteTenantRow,
  findTenantByHost,
  findTenantById,
  findTenantBySlug,
  hostlessTenants,
  insertTenant,
  listTenants,
  lockTenantWrites,
  setTenantHosts,
  tenantsClaimingHosts,
} from './store.ts';

/** Who creates a tenant and the trail that records it: the first event of the new tenant's own chain. */
export interface TenantCreator {
  audit: Audit;
  actor: Actor;
}

/**
 * Creates a tenant, and records `tenant.created` as the first event of its own trail in the same
 * transaction. Every caller in the product passes `creator`; only tests of the database and the audit core
 * themselves, which need a tenant with an empty trail, leave it out.
 */
export async function createTenant(db: Database, input: NewTenant, creator?: TenantCreator): Promise<Tenant> {
  const data = NewTenant.parse(input);
  const hosts = [...new Set(data.hosts)];
  const tenant = await db.withSystem(async (tx) => {
    await lockTenantWrites(tx);
    if (await findTenantBySlug(tx, data.slug)) throw new Conflict(`a tenant with slug "${data.slug}" already exists`);
    if (hosts.length === 0) {
      const [catchAll] = await hostlessTenants(tx, 1);
      if (catchAll) {
        throw new Conflict(`tenant "${catchAll.slug}" already serves every unclaimed host name; give this tenant a host`);
      }
    }
    const [claimed] = await tenantsClaimingHosts(tx, hosts);
    if (claimed) {
      const host = claimed.hosts.find((h) => hosts.includes(h));
      throw new Conflict(`host ${host} already belongs to tenant "${claimed.slug}"`);
    }
    const created = await insertTenant(tx, { slug: data.slug, name: data.name, hosts, contactEmail: data.contactEmail ?? null });
    // The audit record needs only the transaction, so it works here as the schema owner too.
    if (creator) {
      await creator.audit.record(
        tx,
        { tenantId: created.id, actor: creator.actor },
        {
          action: 'tenant.created',
          target: { type: 'tenant', id: created.id },
          details: { slug: created.slug, name: created.name, hosts: created.hosts, contactEmail: created.contactEmail },
        },
      );
    }
    return created;
  });
  forgetResolvedHosts(db);
  return tenant;
}

export function findTenant(db: Database, slug: string): Promise<Tenant | undefined> {
  return db.withSystem((tx) => findTenantBySlug(tx, slug));
}

export async function requireTenant(db: Database, slug: string): Promise<Tenant> {
  const tenant = await findTenant(db, slug);
  if (!tenant) throw new NotFound('tenant', slug);
  return tenant;
}

export function getTenant(db: Database, id: string): Promise<Tenant | undefined> {
  return db.withSystem((tx) => findTenantById(tx, id));
}

/** The tenant a transaction works for, read in that transaction (row-level security lets it see only itself). */
export function tenantInTransaction(tx: Tx, id: string): Promise<Tenant | undefined> {
  return findTenantById(tx, id);
}

/**
 * A fresh install has no tenant: create one so `npm start` works with no configuration at all.
 * Returns the tenant that was created, or undefined when tenants already exist.
 */
export async function ensureFirstTenant(db: Database, creator: TenantCreator): Promise<Tenant | undefined> {
  const existing = await db.withSystem((tx) => countTenants(tx));
  if (existing > 0) return undefined;
  try {
    return await createTenant(db, { slug: 'default', name: 'Your Company' }, creator);
  } catch (error) {
    if (error instanceof Conflict) return undefined; // another process created it first
    throw error;
  }
}

/**
 * Deletes a tenant and, in the same transaction, destroys its keys: whatever was encrypted for it (fields,
 * files, backups) can never be decrypted again, wherever copies of it are (crypto-shredding).
 */
export async function deleteTenant(runtime: Pick<Runtime, 'db' | 'keys' | 'blobs'>, slug: string): Promise<void> {
  const { db, keys, blobs } = runtime;
  const tenant = await requireTenant(db, slug);
  await db.withSystem(async (tx) => {
    await deleteTenantRow(tx, tenant.id);
    await keys.destroyTenantKeys(tx, tenant.id);
    // Rows now; the tenant's folder, prefix or bucket once this commits (a job queued in tx).
    await blobs.deleteTenantBlobs(tx, tenant.id);
  });
  forgetResolvedHosts(db);
}

// Host → tenant answers are kept briefly: every request resolves its tenant, and tenants rarely move.
const HOST_CACHE_MS = 5_000;
type HostCache = Map<string, { tenant: Tenant | undefined; until: number }>;
// One cache per database: a process (a test run) may hold several, whose tenants must never mix.
const resolvedByDatabase = new WeakMap<Database, HostCache>();

function hostCache(db: Database): HostCache {
  let cache = resolvedByDatabase.get(db);
  if (!cache) {
    cache = new Map();
    resolvedByDatabase.set(db, cache);
  }
  return cache;
}

function forgetResolvedHosts(db: Database): void {
  hostCache(db).clear();
}

/** The tenant for a Host header when this process resolved it within the last few seconds; no database. */
export function cachedTenantForHost(db: Database, hostHeader: string, now = Date.now()): Tenant | undefined {
  return cachedTenantForHostName(db, normalizeHost(hostHeader), now);
}

/** As `cachedTenantForHost`, for a host already put through `normalizeHost` (the fast path keeps it so). */
export function cachedTenantForHostName(db: Database, hostName: string, now = Date.now()): Tenant | undefined {
  const cached = hostCache(db).get(hostName);
  return cached && cached.until > now ? cached.tenant : undefined;
}

/**
 * The tenant a request's Host header names. A host no tenant claims goes to the one tenant that names no
 * hosts (the first tenant of an install, unless given hosts), so a single-tenant install needs no setup.
 */
export async function resolveTenantForHost(db: Database, hostHeader: string): Promise<Tenant | undefined> {
  const host = normalizeHost(hostHeader);
  const now = Date.now();
  const resolved = hostCache(db);
  const cached = resolved.get(host);
  if (cached && cached.until > now) return cached.tenant;
  const tenant = await db.withSystem(async (tx) => {
    const byHost = await findTenantByHost(tx, host);
    if (byHost) return byHost;
    const [catchAll] = await hostlessTenants(tx, 1);
    return catchAll;
  });
  if (resolved.size > 10_000) resolved.clear(); // bounded: Host headers are attacker-chosen
  resolved.set(host, { tenant, until: now + HOST_CACHE_MS });
  return tenant;
}

/** Lower-cases and strips the port: `Trust.Example.com:8443` → `trust.example.com`. */
export function normalizeHost(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.replace(/:\d+$/, '');
}

/** The base URL people use for this tenant: its first host name, else the configured public URL. */
export function tenantBaseUrl(publicUrl: string, tenant: { hosts: string[] }): string {
  const host = tenant.hosts[0];
  if (!host) return publicUrl;
  const url = new URL(publicUrl);
  url.hostname = host;
  return url.toString().replace(/\/+$/, '');
}

export function listAllTenants(db: Database, limit = 1000): Promise<Tenant[]> {
  return db.withSystem((tx) => listTenants(tx, limit));
}

/**
 * Adds a host name to a tenant's hosts, unless another tenant has it (then false). Serialized with tenant
 * creation; the host cache is cleared so the name routes at once.
 */
export async function claimTenantHost(db: Database, tenantId: string, host: string): Promise<boolean> {
  const claimed = await db.withSystem(async (tx) => {
    await lockTenantWrites(tx);
    const holders = await tenantsClaimingHosts(tx, [host]);
    if (holders.some((t) => t.id !== tenantId)) return false;
    const tenant = await findTenantById(tx, tenantId);
    if (!tenant) return false;
    // A tenant without hosts is the install's catch-all: it already answers this name, and must stay so.
    if (tenant.hosts.length > 0 && !tenant.hosts.includes(host)) await setTenantHosts(tx, tenantId, [...tenant.hosts, host]);
    return true;
  });
  forgetResolvedHosts(db);
  return claimed;
}

/** Removes a host name from a tenant's hosts (its last host stays: the tenant must remain reachable). */
export async function releaseTenantHost(db: Database, tenantId: string, host: string): Promise<void> {
  await db.withSystem(async (tx) => {
    await lockTenantWrites(tx);
    const tenant = await findTenantById(tx, tenantId);
    if (!tenant?.hosts.includes(host) || tenant.hosts.length === 1) return;
    await setTenantHosts(
      tx,
      tenantId,
      tenant.hosts.filter((h) => h !== host),
    );
  });
  forgetResolvedHosts(db);
}

/** Whether any tenant serves this host name (read in the caller's system transaction). */
export async function hostInUse(tx: Tx, host: string): Promise<boolean> {
  return (await tenantsClaimingHosts(tx, [host])).length > 0;
}
