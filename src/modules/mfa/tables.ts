import { sql } from 'drizzle-orm';
import { bigint, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/**
 * A person's confirmed TOTP factor (one per person). The secret is sealed with the tenant's data key; the
 * last accepted time step is kept so that no code (no step) is ever accepted twice.
 */
export const mfaTotp = pgTable(
  'mfa_totp',
  {
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    secret: text('secret').notNull(),
    lastUsedStep: bigint('last_used_step', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] })],
);

/** Recovery codes, stored as SHA-256 (they are long random strings); each works once. */
export const mfaRecoveryCodes = pgTable(
  'mfa_recovery_codes',
  {
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId, t.codeHash] })],
);

/** WebAuthn credentials (passkeys); several per person. */
export const mfaPasskeys = pgTable(
  'mfa_passkeys',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    userId: uuid('user_id').notNull(),
    name: text('name').notNull(),
    /** The credential id, base64url, as the authenticator reports it. */
    credentialId: text('credential_id').notNull(),
    /** The COSE public key, base64url. */
    publicKey: text('public_key').notNull(),
    signCount: bigint('sign_count', { mode: 'number' }).notNull().default(0),
    transports: text('transports').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex('mfa_passkeys_credential_idx').on(t.tenantId, t.credentialId)],
);

/**
 * WebAuthn challenges handed to a browser, kept server-side: each is deleted when it is answered (single use)
 * and refused after it expires. `userId` binds registration and second-factor challenges to their person.
 */
export const mfaChallenges = pgTable(
  'mfa_challenges',
  {
    tenantId: tenantId(),
    challenge: text('challenge').notNull(),
    /** `register`, `second-factor` or `sign-in`. */
    purpose: text('purpose').notNull(),
    userId: uuid('user_id'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.challenge] })],
);

/** The tenant's MFA policy: the roles whose holders must use a second factor (no row: the default). */
export const mfaPolicies = pgTable('mfa_policies', {
  tenantId: tenantId().primaryKey(),
  roles: text('roles').array().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
