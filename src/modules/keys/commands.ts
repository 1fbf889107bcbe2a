import path from 'node:path';
import { type CommandValues, type DatabaseCommand, optionText } from '../../platform/cli/command.ts';
import { type CommandIO, UsageError } from '../../platform/cli/io.ts';
import { startProgress } from '../../platform/cli/progress.ts';
import type { Runtime, TenantRef } from '../../platform/context.ts';
import { GENERATED_KEY_FILE, masterKeyFromFile } from '../../platform/crypto/master-key.ts';
import { requireTenant } from '../tenants/service.ts';
import type { TenantKeysStatus } from './schema.ts';
import {
  allTenants,
  destroyRetiredKeys,
  keysStatusOfAll,
  reencryptTenant,
  rewrapMasterKey,
  rotateFromCommand,
  tenantKeysStatus,
} from './service.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function versionsLine(status: TenantKeysStatus): string {
  const data = status.keys.filter((k) => k.purpose === 'data');
  if (data.length === 0) return 'no keys yet (made on first use)';
  return data.map((k) => `v${k.version} ${k.state}`).join(', ');
}

/** Re-encrypts inline, with a progress bar when a person watches a terminal. */
async function reencryptNow(runtime: Runtime, tenant: TenantRef, io: CommandIO): Promise<void> {
  const before = await runtime.db.withSystem((tx) => tenantKeysStatus(tx, runtime.keys, tenant.id));
  if (before.stale === 0) {
    io.out(`${tenant.slug}: nothing to re-encrypt.`);
    return;
  }
  const progress = startProgress(io, `re-encrypting ${tenant.slug}`, before.stale, 'items');
  const run = await reencryptTenant(runtime, tenant, { onBatch: (n) => progress.advance(n), actorName: 'cli' });
  progress.finish(`re-encrypted ${plural(run.reencrypted, 'value')} of ${tenant.slug}`);
  if (run.remaining > 0) throw new Error(`${tenant.slug}: ${plural(run.remaining, 'value')} could not be re-encrypted`);
  io.out(
    `${tenant.slug}: re-encrypted ${plural(run.reencrypted, 'value')} under data key v${run.version}; nothing is left on older versions.`,
  );
}

async function rotateTenant(runtime: Runtime, tenant: TenantRef, wait: boolean, io: CommandIO): Promise<void> {
  const rotation = await rotateFromCommand(runtime, tenant, { queue: !wait });
  io.out(`${tenant.slug}: new writes now use data key v${rotation.version} (from v${rotation.previousVersion}).`);
  if (wait) return reencryptNow(runtime, tenant, io);
  if (rotation.stale > 0) {
    io.out(
      `${tenant.slug}: ${plural(rotation.stale, 'value')} will be re-encrypted in the background (job keys.reencrypt); follow it with 'candor keys status'.`,
    );
  }
}

async function destroyRetired(runtime: Runtime, tenant: TenantRef, wait: boolean, io: CommandIO): Promise<void> {
  if (wait) await reencryptNow(runtime, tenant, io);
  const versions = await destroyRetiredKeys(runtime, tenant);
  io.out(
    versions.length === 0
      ? `${tenant.slug}: no retired data key versions to destroy.`
      : `${tenant.slug}: destroyed retired data key ${versions.map((v) => `v${v}`).join(', ')}.`,
  );
}

async function rewrap(runtime: Runtime, file: string, io: CommandIO): Promise<void> {
  // The command may run inside the server (control socket), whose working directory is not the caller's.
  if (!path.isAbsolute(file)) throw new UsageError('--new-master-key-file needs an absolute path (the server may read it)');
  const next = masterKeyFromFile(file);
  const from = runtime.keys.master;
  const { tenants, keys } = await rewrapMasterKey(runtime, next);
  const generated = path.join(runtime.config.dataDir, GENERATED_KEY_FILE);
  const replaceGenerated = from.source === generated ? `,\n  or replace ${generated} with the new key` : '';
  io.out(
    `Re-wrapped ${plural(keys, 'tenant key')} of ${plural(tenants, 'tenant')} under master key ${next.id} (was ${from.id}).`,
  );
  io.err(
    [
      'The database now needs the new master key. Before Candor next starts:',
      `  set CANDOR_MASTER_KEY_FILE=${file} (or CANDOR_MASTER_KEY) for every Candor process${replaceGenerated};`,
      '  back up the new key apart from the data; the old key no longer opens anything.',
      'A running server that ran this command has switched already; other processes must be restarted with the new key.',
    ].join('\n'),
  );
}

type RotateMode = 'tenant' | 'all-tenants' | 'master';

function rotateMode(values: CommandValues): RotateMode {
  const tenant = optionText(values, 'tenant', false) !== undefined;
  const all = values['all-tenants'] === true;
  const master = optionText(values, 'new-master-key-file', false) !== undefined;
  if ([tenant, all, master].filter(Boolean).length !== 1) {
    throw new UsageError('give exactly one of --tenant SLUG, --all-tenants or --new-master-key-file FILE');
  }
  if (master && (values.wait === true || values['destroy-retired'] === true)) {
    throw new UsageError('--wait and --destroy-retired go with --tenant or --all-tenants, not with --new-master-key-file');
  }
  return tenant ? 'tenant' : all ? 'all-tenants' : 'master';
}

const keysRotate: DatabaseCommand = {
  name: 'keys rotate',
  summary: 'Rotate tenant data keys, or re-wrap every key under a new master key',
  usage: `candor keys rotate --tenant SLUG [--wait] [--destroy-retired]
candor keys rotate --all-tenants [--wait] [--destroy-retired]
candor keys rotate --new-master-key-file FILE

  --tenant SLUG               rotate this tenant's data key: new writes use a new version at once and
                              older values are re-encrypted by the keys.reencrypt job
  --all-tenants               the same for every tenant
  --wait                      re-encrypt here and now (with a progress bar on a terminal) instead of
                              in the background
  --destroy-retired           instead of rotating, destroy the retired data key versions; refused
                              while any value still uses one (with --wait, finish re-encrypting first)
  --new-master-key-file FILE  re-wrap every tenant key under the master key in FILE (base64 of 32
                              bytes, absolute path) in one transaction, and make it the database's
                              master key; then start Candor with CANDOR_MASTER_KEY_FILE=FILE

Every change is recorded in the affected tenants' audit trails (keys.rotated, keys.reencrypted,
keys.retired_destroyed, keys.master_rewrapped). See docs/encryption.md.`,
  options: {
    tenant: { type: 'string' },
    'all-tenants': { type: 'boolean' },
    'new-master-key-file': { type: 'string' },
    wait: { type: 'boolean' },
    'destroy-retired': { type: 'boolean' },
  },
  async run(runtime, values, io) {
    const mode = rotateMode(values);
    if (mode === 'master') return rewrap(runtime, optionText(values, 'new-master-key-file') ?? '', io);
    const tenants =
      mode === 'tenant' ? [await requireTenant(runtime.db, optionText(values, 'tenant') ?? '')] : await allTenants(runtime);
    const wait = values.wait === true;
    for (const tenant of tenants) {
      if (values['destroy-retired'] === true) await destroyRetired(runtime, tenant, wait, io);
      else await rotateTenant(runtime, tenant, wait, io);
    }
  },
};

const keysStatus: DatabaseCommand = {
  name: 'keys status',
  summary: 'Show the master key id, each tenant’s key versions and what is left to re-encrypt',
  usage: `candor keys status

Prints the master key's id and source (never the key), then one tenant a line: slug, data key versions,
and the number of values not yet under the active version (re-encryption pending), per encrypted column.`,
  options: {},
  async run(runtime, _values, io) {
    io.out(`master key ${runtime.keys.master.id} from ${runtime.keys.master.source}`);
    for (const { tenant, status } of await keysStatusOfAll(runtime)) {
      const pending = status.holders.filter((h) => h.stale > 0).map((h) => `${h.name} ${h.stale}`);
      io.out(
        `${tenant.slug}\tdata key ${versionsLine(status)}\t${status.stale === 0 ? 'up to date' : `stale ${status.stale} (${pending.join(', ')})`}`,
      );
    }
  },
};

export const keysCommands: DatabaseCommand[] = [keysRotate, keysStatus];
