import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { JsonValue } from './canonical.ts';

/**
 * The audit trail: append-only (migrations/policies/020-audit-append-only.sql), one hash chain per tenant.
 * Columns mirror the hashed event (docs/audit-log-format.md) so every row can be re-hashed.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    tenantId: uuid('tenant_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    actorLabel: text('actor_label'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    outcome: text('outcome').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    details: jsonb('details').$type<Record<string, JsonValue>>().notNull().default(sql`'{}'::jsonb`),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.seq] }),
    index('audit_events_time_idx').on(t.tenantId, t.occurredAt),
    index('audit_events_action_idx').on(t.tenantId, t.action, t.occurredAt),
    index('audit_events_actor_idx').on(t.tenantId, t.actorId, t.occurredAt),
    index('audit_events_target_idx').on(t.tenantId, t.targetType, t.targetId),
  ],
);

/** The end of each tenant's chain; locking this row serializes writers so the chain never forks or gaps. */
export const auditHeads = pgTable('audit_heads', {
  tenantId: uuid('tenant_id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
});

/** Signed statements "the chain had this hash at this sequence number", published for outsiders to keep. */
export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    tenantId: uuid('tenant_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
    signedAt: timestamp('signed_at', { withTimezone: true, precision: 3 }).notNull(),
    keyId: text('key_id').notNull(),
    signature: text('signature').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.seq] })],
);

/**
 * Per-tenant Ed25519 keys for checkpoints. The private key is stored as PKCS#8 DER (base64); the data
 * protection capability wraps it with the tenant's data key.
 */
export const auditSigningKeys = pgTable(
  'audit_signing_keys',
  {
    tenantId: uuid('tenant_id').notNull(),
    keyId: text('key_id').notNull(),
    publicKey: text('public_key').notNull(),
    privateKey: text('private_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.keyId] })],
);
