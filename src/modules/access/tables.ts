import { sql } from 'drizzle-orm';
import { boolean, foreignKey, index, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../identity/tables.ts';
import { tenants } from '../tenants/tables.ts';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

/**
 * A tenant's own roles: a name and a chosen set of permissions. Built-in roles live in code (roles.ts) and are
 * never stored; a custom role's slug can never be a built-in one.
 */
export const customRoles = pgTable(
  'custom_roles',
  {
    tenantId: tenantId(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.slug] }),
    uniqueIndex('custom_roles_name_idx').on(t.tenantId, sql`lower(${t.name})`),
  ],
);

/**
 * Who holds which role. `role` is a built-in slug or a custom role's slug (no foreign key: built-in roles are
 * not rows); deleting a custom role that is still held is refused by the service.
 */
export const roleGrants = pgTable(
  'role_grants',
  {
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    role: text('role').notNull(),
    /** The person who granted it (null when the system or an API token did; the label says who). */
    grantedById: uuid('granted_by_id'),
    grantedByLabel: text('granted_by_label').notNull(),
    grantedAt: timestamp('granted_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId, t.role] }),
    index('role_grants_role_idx').on(t.tenantId, t.role),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete('cascade'),
  ],
);

/**
 * A tenant's own separation-of-duties rules: two sides, each a set of roles and permissions; a person who
 * meets both sides (holds at least one role or permission of each) violates the rule. The default rules live
 * in code (sod-rules.ts) and only their on/off state is stored, in `sod_default_rule_states`, so a tenant can
 * switch one off but never lose it.
 */
export const sodRules = pgTable(
  'sod_rules',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    sideARoles: text('side_a_roles').array().notNull().default(sql`'{}'::text[]`),
    sideAPermissions: text('side_a_permissions').array().notNull().default(sql`'{}'::text[]`),
    sideBRoles: text('side_b_roles').array().notNull().default(sql`'{}'::text[]`),
    sideBPermissions: text('side_b_permissions').array().notNull().default(sql`'{}'::text[]`),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex('sod_rules_name_idx').on(t.tenantId, sql`lower(${t.name})`)],
);

/** Whether a default rule is on in a tenant; no row means on. */
export const sodDefaultRuleStates = pgTable(
  'sod_default_rule_states',
  {
    tenantId: tenantId(),
    ruleKey: text('rule_key').notNull(),
    enabled: boolean('enabled').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.ruleKey] })],
);

/**
 * A privileged grant waiting for a second administrator. `approver_ids` are the people who could decide it
 * when it was asked (they were mailed); offboarding lists the requests still waiting on someone leaving.
 */
export const grantRequests = pgTable(
  'grant_requests',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    userId: uuid('user_id').notNull(),
    role: text('role').notNull(),
    requestedById: uuid('requested_by_id'),
    requestedByLabel: text('requested_by_label').notNull(),
    approverIds: uuid('approver_ids').array().notNull().default(sql`'{}'::uuid[]`),
    /** `pending`, `approved`, `denied`, `cancelled`, `expired`. */
    status: text('status').notNull().default('pending'),
    reason: text('reason'),
    decidedById: uuid('decided_by_id'),
    decidedByLabel: text('decided_by_label'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('grant_requests_status_idx').on(t.tenantId, t.status),
    uniqueIndex('grant_requests_pending_idx').on(t.tenantId, t.userId, t.role).where(sql`${t.status} = 'pending'`),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete('cascade'),
  ],
);
