import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { Locale } from '../../platform/i18n/locales.ts';
import { tenants } from '../tenants/tables.ts';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });
const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * `unverified` (mail not confirmed: nothing happens), `nda` (verified, NDA to sign), `pending` (an approver
 * decides), then `approved`, `denied` (by a person, with a reason) or `refused` (a blocked mail domain).
 */
export type RequestState = 'unverified' | 'nda' | 'pending' | 'approved' | 'denied' | 'refused';

/**
 * A visitor's request for gated documents, from the form to the decision. The requester's personal data (name,
 * email, company, reason, IP, user agent) is sealed with the tenant's data key (`c1.` envelopes bound to table,
 * column and row id: see sealing.ts); `email_index` (an HMAC under the tenant's index key) finds a requester's
 * earlier requests. The mail domain stays in clear: the decision rules read it.
 */
export const documentRequests = pgTable(
  'document_requests',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    /** Blind index of the lower-cased email; null only on rows from before sealing, until the keys sweep fills it. */
    emailIndex: text('email_index'),
    /** Lower-cased part after the @: the decision rules read it. */
    emailDomain: text('email_domain').notNull(),
    company: text('company').notNull(),
    reason: text('reason').notNull(),
    documentIds: uuid('document_ids').array().notNull(),
    state: text('state').$type<RequestState>().notNull(),
    /** Which rule decided: `blocked_domain`, `allowed_domain`, `returning`, `approver`. */
    rule: text('rule'),
    locale: text('locale').$type<Locale>().notNull().default('en'),
    origin: text('origin').notNull(),
    /** SHA-256 of the single-use link that verifies the address and then opens the NDA page; cleared once done. */
    tokenHash: text('token_hash'),
    tokenExpiresAt: at('token_expires_at'),
    ip: text('ip').notNull(),
    userAgent: text('user_agent').notNull(),
    createdAt: at('created_at').notNull(),
    verifiedAt: at('verified_at'),
    decidedAt: at('decided_at'),
    decidedBy: text('decided_by'),
    decisionReason: text('decision_reason'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('document_requests_token_idx').on(t.tenantId, t.tokenHash),
    index('document_requests_email_index_idx').on(t.tenantId, t.emailIndex),
  ],
);

/** The NDA text, versioned: a signature names the version and the SHA-256 of its text. */
export const ndaVersions = pgTable(
  'nda_versions',
  {
    tenantId: tenantId(),
    version: integer('version').notNull(),
    text: text('text').notNull(),
    sha256: text('sha256').notNull(),
    createdAt: at('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.version] })],
);

/**
 * A click-through signature: who, from where, when, and exactly which text. Valid for `NDA_VALID_MONTHS`. The
 * signer's email, typed name, IP and user agent are sealed like the request's; `email_index` finds their signatures.
 */
export const ndaSignatures = pgTable(
  'nda_signatures',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    requestId: uuid('request_id').notNull(),
    email: text('email').notNull(),
    /** Blind index of the lower-cased email (see document_requests.email_index). */
    emailIndex: text('email_index'),
    typedName: text('typed_name').notNull(),
    ndaVersion: integer('nda_version').notNull(),
    ndaSha256: text('nda_sha256').notNull(),
    ip: text('ip').notNull(),
    userAgent: text('user_agent').notNull(),
    signedAt: at('signed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('nda_signatures_email_index_idx').on(t.tenantId, t.emailIndex)],
);

/** Access for one approved request to its documents until `expires_at`, through a magic link (hash only kept). */
export const documentGrants = pgTable(
  'document_grants',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    requestId: uuid('request_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** Document id → the version current when granted (served when the document keeps grants on theirs). */
    versions: jsonb('versions').$type<Record<string, number>>().notNull(),
    expiresAt: at('expires_at').notNull(),
    revokedAt: at('revoked_at'),
    revokedBy: text('revoked_by'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('document_grants_token_idx').on(t.tenantId, t.tokenHash)],
);

/** The tenant's domain rules: mail providers refused outright and company domains approved automatically. */
export const documentAccessSettings = pgTable('document_access_settings', {
  tenantId: tenantId().primaryKey(),
  blockedDomains: text('blocked_domains').array().notNull(),
  allowedDomains: text('allowed_domains').array().notNull(),
  updatedAt: at('updated_at').notNull(),
  updatedBy: text('updated_by').notNull(),
});

/** What happened to a gated document, for analytics: `denied` covers an approver's denial and a blocked domain. */
export type AccessEventKind = 'requested' | 'approved' | 'denied' | 'viewed' | 'downloaded';

/**
 * One row per document and occurrence (a request for two documents is two `requested` rows), written in the
 * transaction of the action itself, so the counts cannot drift from what happened. Views and downloads also keep
 * the client's address and user agent: the leak lookup lists them per grant.
 */
export const documentAccessEvents = pgTable(
  'document_access_events',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull().defaultRandom(),
    kind: text('kind').$type<AccessEventKind>().notNull(),
    documentId: uuid('document_id').notNull(),
    /** The version granted, viewed or downloaded; null for requests and denials. */
    version: integer('version'),
    grantId: uuid('grant_id'),
    requestId: uuid('request_id').notNull(),
    /** As the requester typed it. */
    company: text('company').notNull(),
    emailDomain: text('email_domain').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    at: at('at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('document_access_events_at_idx').on(t.tenantId, t.at),
    index('document_access_events_grant_idx').on(t.tenantId, t.grantId),
  ],
);
