import { z } from '@hono/zod-openapi';
import type { TenantKeyInfo } from '../../platform/crypto/keyring.ts';

/** One registered holder of ciphertexts (an encrypted column, the blob store) and how much of it is current. */
export interface HolderStatus {
  name: string;
  /** Values under an older data-key version, or still in clear from before encryption. */
  stale: number;
  total: number;
}

/** A tenant's keys as operators see them: versions and states, never key material. */
export interface TenantKeysStatus {
  tenantId: string;
  /** The data-key version new writes use; null before the tenant's first use of keys. */
  activeVersion: number | null;
  keys: TenantKeyInfo[];
  holders: HolderStatus[];
  /** Sum of `stale` over every holder: re-encryption is done when it is 0. */
  stale: number;
}

export interface KeysOverview {
  master: { id: string; source: string };
  tenant: TenantKeysStatus;
}

const KeyVersion = z
  .object({
    purpose: z
      .enum(['data', 'index'])
      .openapi({ description: '`data` encrypts values and files; `index` computes blind indexes' }),
    version: z.number().int(),
    state: z.enum(['active', 'retired']),
    masterKeyId: z.string().openapi({ description: 'The master key this version is wrapped by' }),
    createdAt: z.iso.datetime(),
    retiredAt: z.iso.datetime().nullable(),
  })
  .openapi('KeyVersion');

const Holder = z
  .object({
    name: z.string().openapi({ example: 'siem_destinations.secret' }),
    stale: z.number().int().openapi({ description: 'Values not yet under the active version (re-encryption pending)' }),
    total: z.number().int(),
  })
  .openapi('EncryptedHolder');

export const KeysOverviewSchema = z
  .object({
    master: z
      .object({
        id: z.string().openapi({ description: 'Fingerprint of the master key (never the key)' }),
        source: z.string().openapi({ description: 'Where the key comes from: CANDOR_MASTER_KEY, a file, a KMS' }),
      })
      .openapi({ description: 'The install’s master key, which wraps every tenant key' }),
    activeVersion: z.number().int().nullable(),
    keys: z.array(KeyVersion),
    holders: z.array(Holder),
    stale: z.number().int(),
  })
  .openapi('KeysOverview');

export const RotationResult = z
  .object({
    version: z.number().int().openapi({ description: 'The new active data-key version' }),
    previousVersion: z.number().int(),
    stale: z.number().int().openapi({ description: 'Values queued for re-encryption under the new version' }),
  })
  .openapi('KeyRotation');

export function overviewToApi(overview: KeysOverview): z.infer<typeof KeysOverviewSchema> {
  const { tenant } = overview;
  return {
    master: overview.master,
    activeVersion: tenant.activeVersion,
    keys: tenant.keys.map((k) => ({
      purpose: k.purpose,
      version: k.version,
      state: k.state,
      masterKeyId: k.masterKeyId,
      createdAt: k.createdAt.toISOString(),
      retiredAt: k.retiredAt?.toISOString() ?? null,
    })),
    holders: tenant.holders,
    stale: tenant.stale,
  };
}
