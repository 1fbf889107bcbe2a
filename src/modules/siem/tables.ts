import { sql } from 'drizzle-orm';
import { bigint, boolean, check, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tables.ts';

/**
 * Where a tenant's audit trail is forwarded (docs/siem-forwarding.md). Forwarding is driven by `cursor`,
 * the last sequence number the receiver accepted: it only moves after a successful delivery, so a
 * restart, a crash or a receiver that is down loses nothing; the job just starts again from the cursor.
 */
export const siemDestinations = pgTable(
  'siem_destinations',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    kind: text('kind').$type<'syslog' | 'webhook'>().notNull(),
    // syslog: RFC 5424 over TCP (RFC 6587 octet counting), optionally TLS.
    host: text('host'),
    port: integer('port'),
    tls: boolean('tls').notNull().default(false),
    /** PEM certificates to trust instead of the system's CAs (a private syslog CA). */
    caPem: text('ca_pem'),
    /** TLS server name to check instead of `host` (when connecting by IP address). */
    servername: text('servername'),
    // webhook: HTTPS (or HTTP) POST signed with HMAC-SHA256.
    url: text('url'),
    /** The webhook's HMAC key; needed in clear to sign, so it is never shown again, logged or audited. */
    secret: text('secret'),
    enabled: boolean('enabled').notNull().default(true),
    /** The last sequence number the receiver accepted (0: nothing yet). */
    cursor: bigint('cursor', { mode: 'number' }).notNull().default(0),
    lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    lastError: text('last_error'),
    /** Consecutive failed deliveries since the last success. */
    failures: integer('failures').notNull().default(0),
    /**
     * Which forwarding run owns the destination, until when: with several workers, two runs for one
     * destination would send the same batch twice.
     */
    leaseOwner: uuid('lease_owner'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    check(
      'siem_destinations_target',
      sql`(${t.kind} = 'syslog' and ${t.host} is not null and ${t.port} between 1 and 65535)
        or (${t.kind} = 'webhook' and ${t.url} is not null and ${t.secret} is not null)`,
    ),
  ],
);
