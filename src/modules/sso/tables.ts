import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

/** A tenant's OpenID Connect provider: one per tenant, absent until someone saves the settings. */
export const ssoSettings = pgTable(
  'sso_settings',
  {
    tenantId: tenantId(),
    displayName: text('display_name').notNull(),
    issuer: text('issuer').notNull(),
    clientId: text('client_id').notNull(),
    /** Sealed with the tenant's data key (bound to this row); null for a public client. */
    clientSecret: text('client_secret'),
    scopes: text('scopes').notNull().default('openid email profile'),
    /** Lower-case email domains allowed to sign in; empty allows any. */
    allowedDomains: text('allowed_domains').array().notNull().default(sql`'{}'::text[]`),
    jitEnabled: boolean('jit_enabled').notNull().default(false),
    defaultRole: text('default_role'),
    providerEnforcesMfa: boolean('provider_enforces_mfa').notNull().default(false),
    ssoOnly: boolean('sso_only').notNull().default(false),
    enabled: boolean('enabled').notNull().default(false),
    /**
     * When a sign-in through this provider last succeeded with the current issuer, client id and secret
     * (cleared when any of them changes): SSO-only may only be turned on once the provider is proven to work.
     */
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId] })],
);

/**
 * Sign-ins under way: what /admin/sso/start promised the provider (state, nonce, PKCE verifier), kept in the
 * database so any process can finish it, and deleted when the callback spends it (single use).
 */
export const ssoLoginStates = pgTable(
  'sso_login_states',
  {
    tenantId: tenantId(),
    /** SHA-256 of the state sent to the provider; the state itself is not kept. */
    stateHash: text('state_hash').notNull(),
    /** SHA-256 of the browser-binding cookie: a callback URL carried to another browser is refused. */
    browserHash: text('browser_hash').notNull(),
    nonce: text('nonce').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    nextPath: text('next_path').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.stateHash] }), index('sso_login_states_expiry_idx').on(t.tenantId, t.expiresAt)],
);

/** Which person a provider's (issuer, subject) is: set on first use, and what later sign-ins match on. */
export const ssoIdentities = pgTable(
  'sso_identities',
  {
    tenantId: tenantId(),
    issuer: text('issuer').notNull(),
    subject: text('subject').notNull(),
    userId: uuid('user_id').notNull(),
    /** The email the provider reported when the link was made (for people reading the trail). */
    email: text('email').notNull(),
    linkedAt: timestamp('linked_at', { withTimezone: true }).notNull().defaultNow(),
    lastSignInAt: timestamp('last_sign_in_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.issuer, t.subject] }), index('sso_identities_user_idx').on(t.tenantId, t.userId)],
);
