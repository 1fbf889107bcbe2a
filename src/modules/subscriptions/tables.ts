import { index, integer, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import type { Locale } from '../../platform/i18n/locales.ts';
import { tenants } from '../tenants/tables.ts';

export type SubscriberState = 'pending' | 'confirmed' | 'unsubscribed';

/**
 * A visitor who asked for mail about Trust Center changes. The address is sealed with the tenant's data key and
 * found again through its blind index; nothing but the confirmation mail goes out until `state` is `confirmed`.
 */
export const subscribers = pgTable(
  'subscribers',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull().defaultRandom(),
    email: text('email').notNull(),
    emailIndex: text('email_index').notNull(),
    /** `updates`, `subprocessors`. */
    topics: text('topics').array().notNull(),
    /** Topics asked for and not confirmed yet; confirming adds them to `topics`. */
    requestedTopics: text('requested_topics').array().notNull(),
    state: text('state').$type<SubscriberState>().notNull(),
    /** The language the visitor subscribed in: every mail and the unsubscribe page speak it. */
    locale: text('locale').$type<Locale>().notNull().default('en'),
    /** The site the visitor subscribed on: links in mails go back to it. */
    origin: text('origin').notNull(),
    /** SHA-256 of the single-use confirmation token; cleared once spent. */
    confirmTokenHash: text('confirm_token_hash'),
    confirmExpiresAt: timestamp('confirm_expires_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
    /** When the state last changed: retention counts unconfirmed and unsubscribed records from here. */
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('subscribers_email_index').on(t.tenantId, t.emailIndex),
    index('subscribers_confirm_idx').on(t.tenantId, t.confirmTokenHash),
  ],
);

/** An endpoint the tenant registered to receive signed JSON about Trust Center changes. */
export const webhookEndpoints = pgTable(
  'subscription_webhooks',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull().defaultRandom(),
    url: text('url').notNull(),
    /** The HMAC key, sealed; shown once when the endpoint is added. */
    secret: text('secret').notNull(),
    topics: text('topics').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

export type DeliveryStatus = 'pending' | 'delivered' | 'retrying' | 'failed';

/** One notification to one endpoint, with what became of it (the delivery log). */
export const webhookDeliveries = pgTable(
  'subscription_webhook_deliveries',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull().defaultRandom(),
    endpointId: uuid('endpoint_id').notNull(),
    topic: text('topic').notNull(),
    body: text('body').notNull(),
    status: text('status').$type<DeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('subscription_deliveries_created_idx').on(t.tenantId, t.createdAt)],
);
