import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext, Runtime, TenantRef } from '../../platform/context.ts';
import type { Keyring } from '../../platform/crypto/keyring.ts';
import type { MasterKeyProvider } from '../../platform/crypto/master-key.ts';
import { DEFAULT_REENCRYPT_BATCH } from '../../platform/crypto/reencryption.ts';
import type { Tx } from '../../platform/db/client.ts';
import { Conflict } from '../../platform/errors.ts';
import { requirePermission } from '../access/service.ts';
import { systemContext } from '../audit/service.ts';
import { listAllTenants } from '../tenants/service.ts';
import { reencryptJob } from './jobs.ts';
import type { HolderStatus, KeysOverview, TenantKeysStatus } from './schema.ts';

/** Tenants a command or the sweep walks through (a hosting install's whole list). */
const ALL_TENANTS = 1_000_000;

/** The status of a tenant's keys and of every registered holder, read in `tx` (tenant or system). */
export async function tenantKeysStatus(tx: Tx, keys: Keyring, tenantId: string): Promise<TenantKeysStatus> {
  const versions = await keys.describeTenantKeys(tx, tenantId);
  const active = versions.filter((k) => k.purpose === 'data' && k.state === 'active').at(-1);
  // Before the tenant's first key, every stored value is stale (clear text from before encryption).
  const current = active?.version ?? 0;
  const holders: HolderStatus[] = [];
  for (const holder of keys.reencryptables) {
    holders.push({
      name: holder.name,
      stale: await holder.countStale(tx, tenantId, current),
      total: await holder.countTotal(tx, tenantId),
    });
  }
  return {
    tenantId,
    activeVersion: active?.version ?? null,
    keys: versions,
    holders,
    stale: holders.reduce((sum, h) => sum + h.stale, 0),
  };
}

/** What /admin/keys and GET /api/v1/keys show: the master key's id and source, this tenant's keys. */
export async function keysOverview(ctx: RequestContext): Promise<KeysOverview> {
  requirePermission(ctx.actor, 'keys.read');
  const tenant = await ctx.db.withTenant(ctx.tenant.id, (tx) => tenantKeysStatus(tx, ctx.keys, ctx.tenant.id));
  return { master: { id: ctx.keys.master.id, source: ctx.keys.master.source }, tenant };
}

export interface Rotation {
  version: number;
  previousVersion: number;
  /** Values left under older versions, which re-encryption moves to the new one. */
  stale: number;
}

/**
 * Makes a new data-key version the one new writes use, records `keys.rotated`, and (unless the caller
 * re-encrypts inline) queues `keys.reencrypt` for the tenant, all in one transaction.
 */
async function rotate(ctx: RequestContext, options: { queue: boolean }): Promise<Rotation> {
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    // A tenant without keys gets its first ones here (v1), which the rotation then retires.
    const version = await ctx.keys.rotateDataKey(tx, tenantId, ctx.clock.now());
    const previousVersion = version - 1;
    const { stale } = await tenantKeysStatus(tx, ctx.keys, tenantId);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'keys.rotated',
      target: { type: 'tenant_key', id: `data/${version}` },
      details: { purpose: 'data', version, previousVersion, staleValues: stale },
    });
    if (options.queue && stale > 0) await ctx.jobs.enqueue(reencryptJob(ctx), { tenantId }, { tx, singletonKey: tenantId });
    return { version, previousVersion, stale };
  });
}

/** The back office's and the API's "Rotate data key". */
export function rotateTenantDataKey(ctx: RequestContext): Promise<Rotation> {
  requirePermission(ctx.actor, 'keys.manage');
  return rotate(ctx, { queue: true });
}

/** `candor keys rotate --tenant`: queues the re-encryption, or leaves it to the caller (`--wait`). */
export function rotateFromCommand(runtime: Runtime, tenant: TenantRef, options: { queue: boolean }): Promise<Rotation> {
  return rotate(systemContext(runtime, tenant, 'cli'), options);
}

export interface ReencryptionRun {
  /** Values this run moved to the active version. */
  reencrypted: number;
  /** Values still stale when the run ended (0: done). */
  remaining: number;
  version: number | null;
}

export interface ReencryptOptions {
  /** Stop after this many batches (a job run's share); unlimited by default. */
  maxBatches?: number;
  /** Called after each batch with the number of values it re-encrypted (progress bars). */
  onBatch?: (count: number) => void;
  /** Who the `keys.reencrypted` event names. */
  actorName?: string;
}

/**
 * Moves the tenant's stale values to its active data-key version, one batch of one holder per transaction,
 * so a crash loses at most a batch's work and nothing else waits long (PGlite has one connection). Runs as
 * the schema owner: some holders (audit signing keys) are not updatable by the application role; every
 * holder filters by tenant itself. Records `keys.reencrypted` when it changed anything.
 */
export async function reencryptTenant(
  runtime: Runtime,
  tenant: TenantRef,
  options: ReencryptOptions = {},
): Promise<ReencryptionRun> {
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  let batches = 0;
  let reencrypted = 0;
  for (const holder of runtime.keys.reencryptables) {
    for (;;) {
      if (batches >= maxBatches) break;
      const done = await runtime.db.withSystem(async (tx) => {
        const cipher = await runtime.keys.forTenant(tx, tenant.id);
        return holder.reencryptBatch(tx, cipher, holder.batchSize ?? DEFAULT_REENCRYPT_BATCH);
      });
      batches++;
      if (done === 0) break;
      reencrypted += done;
      options.onBatch?.(done);
    }
  }
  const ctx = systemContext(runtime, tenant, options.actorName ?? 'keys.reencrypt');
  return runtime.db.withTenant(tenant.id, async (tx) => {
    const status = await tenantKeysStatus(tx, runtime.keys, tenant.id);
    if (reencrypted > 0) {
      await runtime.audit.record(tx, auditScope(ctx), {
        action: 'keys.reencrypted',
        target: { type: 'tenant_key', id: `data/${status.activeVersion}` },
        details: { version: status.activeVersion, values: reencrypted, remaining: status.stale },
      });
    }
    return { reencrypted, remaining: status.stale, version: status.activeVersion };
  });
}

/**
 * `candor keys rotate --destroy-retired`: deletes the tenant's retired data-key versions once no registered
 * holder keeps a value under them, and records `keys.retired_destroyed`. Refused while anything is stale:
 * those values would become unreadable.
 */
export async function destroyRetiredKeys(runtime: Runtime, tenant: TenantRef): Promise<number[]> {
  const ctx = systemContext(runtime, tenant, 'cli');
  return runtime.db.withSystem(async (tx) => {
    const status = await tenantKeysStatus(tx, runtime.keys, tenant.id);
    if (status.stale > 0) {
      throw new Conflict(
        `${status.stale} value(s) of ${tenant.slug} are not yet re-encrypted under version ${status.activeVersion}; wait for the re-encryption (candor keys status) or run 'candor keys rotate --tenant ${tenant.slug} --destroy-retired --wait'`,
      );
    }
    const versions = await runtime.keys.destroyRetiredDataKeys(tx, tenant.id);
    if (versions.length > 0) {
      await runtime.audit.record(tx, auditScope(ctx), {
        action: 'keys.retired_destroyed',
        target: { type: 'tenant_key', id: `data/${versions.join(',')}` },
        details: { purpose: 'data', versions, activeVersion: status.activeVersion },
      });
    }
    return versions;
  });
}

/**
 * `candor keys rotate --new-master-key-file`: re-wraps every tenant key under `next` and records `next` as
 * the database's master key in one transaction, with `keys.master_rewrapped` in each affected tenant's
 * trail; then this process switches to `next`. Other processes on the same PostgreSQL database must be
 * restarted with the new key (they refuse to unwrap keys under a master they do not hold).
 */
export async function rewrapMasterKey(runtime: Runtime, next: MasterKeyProvider): Promise<{ tenants: number; keys: number }> {
  const from = runtime.keys.master.id;
  const tenants = await listAllTenants(runtime.db, ALL_TENANTS);
  const rewrapped = await runtime.db.withSystem(async (tx) => {
    const perTenant = await runtime.keys.rewrapAll(tx, next);
    for (const { tenantId, keys } of perTenant) {
      const tenant = tenants.find((t) => t.id === tenantId) ?? { id: tenantId, slug: tenantId, name: tenantId };
      await runtime.audit.record(tx, auditScope(systemContext(runtime, tenant, 'cli')), {
        action: 'keys.master_rewrapped',
        target: { type: 'master_key', id: next.id },
        details: { fromMasterKeyId: from, toMasterKeyId: next.id, keys },
      });
    }
    return perTenant;
  });
  runtime.keys.useMaster(next);
  return { tenants: rewrapped.length, keys: rewrapped.reduce((sum, t) => sum + t.keys, 0) };
}

/** Every tenant with its key status (`candor keys status`). */
export async function keysStatusOfAll(runtime: Runtime): Promise<{ tenant: TenantRef; status: TenantKeysStatus }[]> {
  const result: { tenant: TenantRef; status: TenantKeysStatus }[] = [];
  for (const tenant of await listAllTenants(runtime.db, ALL_TENANTS)) {
    const status = await runtime.db.withSystem((tx) => tenantKeysStatus(tx, runtime.keys, tenant.id));
    result.push({ tenant, status });
  }
  return result;
}

export function allTenants(runtime: Runtime): Promise<TenantRef[]> {
  return listAllTenants(runtime.db, ALL_TENANTS);
}

/** The hourly sweep: queues re-encryption for every tenant with stale values (lost jobs, clear legacy values). */
export async function queueStaleTenants(runtime: Runtime): Promise<number> {
  let queued = 0;
  for (const { tenant, status } of await keysStatusOfAll(runtime)) {
    if (status.stale === 0) continue;
    await runtime.jobs.enqueue(reencryptJob(runtime), { tenantId: tenant.id }, { singletonKey: tenant.id });
    queued++;
  }
  return queued;
}
