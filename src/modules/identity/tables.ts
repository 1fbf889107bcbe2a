import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const users = pgTable(
  'users',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    passwordHash: text('password_hash'),
    /** Set when the person is offboarded: they can no longer sign in, and their sessions and tokens end. */
    deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex('users_email_idx').on(t.tenantId, sql`lower(${t.email})`)],
);

/** Server-side sessions; the cookie holds a random id and only its SHA-256 is stored. */
export const sessions = pgTable(
  'sessions',
  {
    tenantId: tenantId(),
    idHash: text('id_hash').notNull(),
    userId: uuid('user_id').notNull(),
    csrfToken: text('csrf_token').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    /** How the session was opened: `password`, `setup-link`, `passkey`, `sso` (see SessionMethod). */
    authMethod: text('auth_method').notNull().default('password'),
    /** When a second factor was proven in this session (null: not yet, or not needed for the method). */
    secondFactorAt: timestamp('second_factor_at', { withTimezone: true }),
    /**
     * A digest of what the session may do (roles, permissions, second factor) when its id was issued: when it
     * no longer matches, the privileges changed and the next request gets a new session id.
     */
    accessStamp: text('access_stamp'),
    createdAt: createdAt(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.idHash] }), index('sessions_user_idx').on(t.tenantId, t.userId)],
);

/** One-time links that create a tenant's first owner. */
export const setupTokens = pgTable(
  'setup_tokens',
  {
    tenantId: tenantId(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.tokenHash] })],
);

/** API tokens for services: shown once, stored as SHA-256. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** The first characters of the token, shown in lists so a person can tell tokens apart. */
    prefix: text('prefix').notNull(),
    /** The permissions the token acts with: a subset of its creator's when it was made. */
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
    /** The person who created it (null for the command line or another token), so offboarding finds their tokens. */
    createdById: uuid('created_by_id'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
    /** Canonical CIDR ranges the token may be used from; null means from anywhere. */
    allowedIps: text('allowed_ips').array(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex('api_tokens_hash_idx').on(t.tenantId, t.tokenHash)],
);

/**
 * Failed sign-ins counted per account (the email tried, whether or not it has an account) and per client
 * address, in the database so that every process of a PostgreSQL deployment sees the same counts.
 */
export const loginThrottle = pgTable(
  'login_throttle',
  {
    tenantId: tenantId(),
    /** `account:<email>` or `ip:<address>`. */
    key: text('key').notNull(),
    failures: integer('failures').notNull().default(0),
    lastFailureAt: timestamp('last_failure_at', { withTimezone: true }).notNull(),
    blockedUntil: timestamp('blocked_until', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] })],
);

/**
 * A person's open password-reset link, one per person: issuing a new link replaces the row (so only the
 * latest works) and spending it deletes the row (so it works once). Only the link's SHA-256 is stored.
 */
export const passwordResets = pgTable(
  'password_resets',
  {
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), uniqueIndex('password_resets_token_idx').on(t.tenantId, t.tokenHash)],
);

/**
 * A person's open invitation, one per person (sending it again replaces the link): accepting it sets their
 * first password and deletes the row, so a link works once. Only the link's SHA-256 is stored.
 */
export const invitations = pgTable(
  'invitations',
  {
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** Who sent it, as people read it (the inviter may leave before the invitation is used). */
    invitedBy: text('invited_by').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), uniqueIndex('invitations_token_idx').on(t.tenantId, t.tokenHash)],
);
