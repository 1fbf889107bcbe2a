import { randomUUID } from 'node:crypto';
import { auditScope, chainedEventOf, type RecordedEvent } from '../../platform/audit/audit.ts';
import type { JsonValue } from '../../platform/audit/canonical.ts';
import { eventsAfter, readHead } from '../../platform/audit/store.ts';
import type { RequestContext, Runtime } from '../../platform/context.ts';
import { encryptedTextColumn, type Reencryptable } from '../../platform/crypto/reencryption.ts';
import { newSecret } from '../../platform/crypto/secrets.ts';
import type { Database, Tx } from '../../platform/db/client.ts';
import { Conflict, NotFound } from '../../platform/errors.ts';
import { requirePermission } from '../access/service.ts';
import { getTenant } from '../tenants/service.ts';
import { type DestinationInfo, NewDestination } from './schema.ts';
import {
  advanceCursor,
  claimDestination,
  type DestinationRow,
  deleteDestinationRow,
  destinationsBehind,
  enabledDestinationIds,
  findDestination,
  insertDestination,
  listDestinationRows,
  recordDeliveryFailure,
  releaseDestination,
  setDestinationEnabledRow,
} from './store.ts';
import { octetCountedFrame, sendSyslogFrames, syslogMessage } from './syslog.ts';
import { siemDestinations } from './tables.ts';
import { postWebhook, webhookBody } from './webhook.ts';

/** Events per delivery: one syslog connection or one webhook request. */
export const FORWARD_BATCH = 200;
/** Batches per job run; a longer backlog continues in a fresh job, so other queues get their turn. */
const BATCHES_PER_RUN = 25;
/** A run's hold on its destination; renewed with every delivered batch, longer than one delivery's timeout. */
const LEASE_SECONDS = 120;

/**
 * Webhook secrets are needed in clear to sign, so they are sealed with the tenant's data key and bound to
 * their destination. Rows from before encryption hold clear text, read as such until re-encrypted.
 */
const webhookSecret = encryptedTextColumn({
  table: siemDestinations,
  tenantId: siemDestinations.tenantId,
  rowId: siemDestinations.id,
  column: siemDestinations.secret,
});

export const siemEncryptedColumns: Reencryptable[] = [webhookSecret];

function toInfo(row: DestinationRow): DestinationInfo {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    host: row.host,
    port: row.port,
    tls: row.tls,
    servername: row.servername,
    hasCa: Boolean(row.caPem),
    url: row.url,
    enabled: row.enabled,
    cursor: row.cursor,
    lastSuccessAt: row.lastSuccessAt,
    lastErrorAt: row.lastErrorAt,
    lastError: row.lastError,
    failures: row.failures,
    createdAt: row.createdAt,
  };
}

/** What the trail says about a destination: where it sends, never its secret (nor a URL's path or query). */
function auditDetails(row: DestinationRow): Record<string, JsonValue> {
  if (row.kind === 'syslog') return { name: row.name, kind: row.kind, host: row.host, port: row.port, tls: row.tls };
  return { name: row.name, kind: row.kind, origin: row.url ? new URL(row.url).origin : null };
}

// The audit hook asks on every event which destinations to wake; the answer is kept briefly per process.
// A change made here is seen at once; one made by another process within DESTINATION_CACHE_MS is picked
// up by the sweep (every minute) at the latest, so no event is ever skipped, only forwarded later.
const DESTINATION_CACHE_MS = 10_000;
const destinationCache = new WeakMap<Database, Map<string, { ids: string[]; until: number }>>();

function forgetDestinations(db: Database, tenantId: string): void {
  destinationCache.get(db)?.delete(tenantId);
}

/** False only when this process knows, from a fresh answer, that the tenant forwards nowhere. */
export function mayHaveDestinations(db: Database, tenantId: string): boolean {
  const cached = destinationCache.get(db)?.get(tenantId);
  return !cached || cached.until <= Date.now() || cached.ids.length > 0;
}

/** The tenant's enabled destinations, read in the recording transaction when not known already. */
export async function destinationsToWake(db: Database, tx: Tx, tenantId: string): Promise<string[]> {
  let byTenant = destinationCache.get(db);
  if (!byTenant) {
    byTenant = new Map();
    destinationCache.set(db, byTenant);
  }
  const cached = byTenant.get(tenantId);
  if (cached && cached.until > Date.now()) return cached.ids;
  const ids = await enabledDestinationIds(tx, tenantId);
  byTenant.set(tenantId, { ids, until: Date.now() + DESTINATION_CACHE_MS });
  return ids;
}

export interface DestinationList {
  destinations: DestinationInfo[];
  /** The sequence number of the newest event in the tenant's trail. */
  head: number;
}

export async function listDestinations(ctx: RequestContext): Promise<DestinationList> {
  requirePermission(ctx.actor, 'siem.read');
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => ({
    destinations: (await listDestinationRows(tx, tenantId)).map(toInfo),
    head: (await readHead(tx, tenantId))?.seq ?? 0,
  }));
}

/**
 * Adds a destination and records `siem.destination_added`. Forwarding starts from the first event of the
 * trail, or (`startAt: 'now'`) from this very event. A webhook without a secret gets a generated one,
 * returned here once.
 */
export async function addDestination(
  ctx: RequestContext,
  input: NewDestination,
): Promise<{ destination: DestinationInfo; secret?: string }> {
  requirePermission(ctx.actor, 'siem.manage');
  const data = NewDestination.parse(input);
  const tenantId = ctx.tenant.id;
  const generated = data.kind === 'webhook' && !data.secret ? newSecret() : undefined;
  const row = await ctx.db.withTenant(tenantId, async (tx) => {
    const cursor = data.startAt === 'now' ? ((await readHead(tx, tenantId))?.seq ?? 0) : 0;
    const id = randomUUID(); // the secret is bound to the row's id, so the id comes first
    const common = { tenantId, id, name: data.name, kind: data.kind, cursor };
    const sealSecret = async (secret: string) => webhookSecret.seal(await ctx.keys.forTenant(tx, tenantId), id, secret);
    const row = await insertDestination(
      tx,
      data.kind === 'syslog'
        ? {
            ...common,
            host: data.host,
            port: data.port,
            tls: data.tls,
            servername: data.servername ?? null,
            caPem: data.caPem ?? null,
          }
        : { ...common, url: data.url, secret: await sealSecret(data.secret ?? (generated as string)) },
    );
    forgetDestinations(ctx.db, tenantId); // so the event below already wakes the new destination
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'siem.destination_added',
      target: { type: 'siem_destination', id: row.id },
      details: { ...auditDetails(row), startAt: data.startAt },
    });
    return row;
  });
  forgetDestinations(ctx.db, tenantId);
  return { destination: toInfo(row), ...(generated ? { secret: generated } : {}) };
}

/** Pauses or resumes forwarding; resuming continues from the cursor, so the paused stretch is sent too. */
export async function setDestinationEnabled(ctx: RequestContext, id: string, enabled: boolean): Promise<void> {
  requirePermission(ctx.actor, 'siem.manage');
  const tenantId = ctx.tenant.id;
  await ctx.db.withTenant(tenantId, async (tx) => {
    const row = await findDestination(tx, tenantId, id);
    if (!row) throw new NotFound('SIEM destination', id);
    if (row.enabled === enabled) return;
    await setDestinationEnabledRow(tx, tenantId, id, enabled);
    forgetDestinations(ctx.db, tenantId);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: enabled ? 'siem.destination_enabled' : 'siem.destination_disabled',
      target: { type: 'siem_destination', id },
      details: auditDetails(row),
    });
  });
  forgetDestinations(ctx.db, tenantId);
}

export async function removeDestination(ctx: RequestContext, id: string): Promise<void> {
  requirePermission(ctx.actor, 'siem.manage');
  const tenantId = ctx.tenant.id;
  await ctx.db.withTenant(tenantId, async (tx) => {
    const row = await deleteDestinationRow(tx, tenantId, id);
    if (!row) throw new NotFound('SIEM destination', id);
    forgetDestinations(ctx.db, tenantId);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'siem.destination_removed',
      target: { type: 'siem_destination', id },
      details: { ...auditDetails(row), forwardedThrough: row.cursor },
    });
  });
  forgetDestinations(ctx.db, tenantId);
}

/**
 * Records a `siem.test` event aimed at one destination. It is an ordinary event of the trail, so it is
 * forwarded like any other (to every enabled destination): seeing it arrive proves the whole path.
 */
export async function sendTestEvent(ctx: RequestContext, id: string): Promise<RecordedEvent> {
  requirePermission(ctx.actor, 'siem.manage');
  const tenantId = ctx.tenant.id;
  return ctx.db.withTenant(tenantId, async (tx) => {
    const row = await findDestination(tx, tenantId, id);
    if (!row) throw new NotFound('SIEM destination', id);
    if (!row.enabled) throw new Conflict('this destination is disabled; enable it to send it a test event');
    return ctx.audit.record(tx, auditScope(ctx), {
      action: 'siem.test',
      target: { type: 'siem_destination', id },
      details: { name: row.name, message: 'Test event from Candor: forwarding to this destination works.' },
    });
  });
}

/** A claimed destination with its webhook secret opened (it never leaves this process in clear). */
type ClaimedDestination = DestinationRow & { openSecret: string | null };

/** Sends one batch to the destination; resolves only once the receiver has accepted it. */
function deliver(
  row: ClaimedDestination,
  tenant: { id: string; slug: string },
  events: RecordedEvent[],
  now: Date,
): Promise<void> {
  if (row.kind === 'syslog') {
    if (!row.host || !row.port) throw new Error(`syslog destination ${row.id} has no host or port`);
    const frames = events.map((event) => octetCountedFrame(syslogMessage(event, tenant.slug)));
    return sendSyslogFrames(
      { host: row.host, port: row.port, tls: row.tls, caPem: row.caPem, servername: row.servername },
      frames,
    );
  }
  if (!row.url || !row.openSecret) throw new Error(`webhook destination ${row.id} has no URL or secret`);
  return postWebhook(row.url, row.openSecret, webhookBody(tenant, events), now);
}

/**
 * - `caught-up`: everything up to the head when the run looked was delivered;
 * - `more`: the run stopped after its share of batches and a continuation is needed;
 * - `busy`: another run holds the destination (try again shortly);
 * - `skipped`: the destination is gone or disabled.
 */
export type ForwardOutcome = 'caught-up' | 'more' | 'busy' | 'skipped';

/**
 * Forwards the events after the destination's cursor, a batch at a time, moving the cursor only after the
 * receiver accepted a batch. A failed delivery is recorded on the destination and thrown, so the job
 * retries with backoff from the same cursor: nothing is skipped, and a batch is sent again only when its
 * delivery was not confirmed (a receiver may then see part of it twice; seq identifies repeats).
 * No transaction stays open while a receiver takes its time (on PGlite every request needs the connection).
 */
export async function forwardEvents(runtime: Runtime, tenantId: string, destinationId: string): Promise<ForwardOutcome> {
  const owner = randomUUID();
  const claimed = await runtime.db.withTenant(tenantId, async (tx): Promise<ClaimedDestination | 'busy' | undefined> => {
    const row = await claimDestination(tx, tenantId, destinationId, owner, LEASE_SECONDS);
    if (row === undefined || row === 'busy') return row;
    if (!row.secret) return { ...row, openSecret: null };
    return { ...row, openSecret: webhookSecret.open(await runtime.keys.forTenant(tx, tenantId), row.id, row.secret) };
  });
  if (claimed === undefined) return 'skipped';
  if (claimed === 'busy') return 'busy';
  const tenantRow = await getTenant(runtime.db, tenantId);
  if (!tenantRow) return 'skipped';
  const tenant = { id: tenantRow.id, slug: tenantRow.slug };
  let cursor = claimed.cursor;
  try {
    for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
      const rows = await runtime.db.withTenant(tenantId, (tx) => eventsAfter(tx, tenantId, cursor, FORWARD_BATCH));
      const last = rows.at(-1);
      if (!last) return 'caught-up';
      const events = rows.map((row) => ({ ...chainedEventOf(row), hash: row.hash }));
      await deliver(claimed, tenant, events, runtime.clock.now());
      const moved = await runtime.db.withTenant(tenantId, (tx) =>
        advanceCursor(tx, tenantId, destinationId, {
          owner,
          from: cursor,
          to: last.seq,
          at: runtime.clock.now(),
          leaseSeconds: LEASE_SECONDS,
        }),
      );
      // The lease ran out and another run took over: it continues from the cursor it found.
      if (!moved) return 'busy';
      cursor = last.seq;
      if (rows.length < FORWARD_BATCH) return 'caught-up';
    }
    return 'more';
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    runtime.log.warn({ tenantId, destinationId, cursor, err: message }, 'SIEM delivery failed');
    await runtime.db.withTenant(tenantId, (tx) =>
      recordDeliveryFailure(tx, tenantId, destinationId, { owner, error: message, at: runtime.clock.now() }),
    );
    throw error;
  } finally {
    await runtime.db.withTenant(tenantId, (tx) => releaseDestination(tx, tenantId, destinationId, owner));
  }
}

/** Enabled destinations of every tenant with events past their cursor (what the periodic sweep wakes). */
export function destinationsToSweep(runtime: Runtime): Promise<{ tenantId: string; id: string }[]> {
  return runtime.db.withSystem((tx) => destinationsBehind(tx));
}
