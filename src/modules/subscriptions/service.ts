import { timingSafeEqual } from 'node:crypto';
import { auditScope } from '../../platform/audit/audit.ts';
import { actorLabel, type RequestContext, type Runtime } from '../../platform/context.ts';
import type { TenantCipher } from '../../platform/crypto/keyring.ts';
import { encryptedTextColumn, type Reencryptable } from '../../platform/crypto/reencryption.ts';
import { newSecret, sha256Hex } from '../../platform/crypto/secrets.ts';
import type { Tx } from '../../platform/db/client.ts';
import { NotFound } from '../../platform/errors.ts';
import { postWebhook } from '../../platform/http/webhook.ts';
import { DEFAULT_LOCALE, type Locale } from '../../platform/i18n/locales.ts';
import { requirePermission } from '../access/service.ts';
import { tenantInTransaction } from '../tenants/service.ts';
import { canonicalPath } from '../trust-center/locale.ts';
import { liveItemsIn, publishedChange } from '../trust-center/service.ts';
import { type Change, changeMail, confirmationMail, type LocalizedChange } from './mails.tsx';
import { type NewWebhookInput, type SubscribeInput, TOPICS, type Topic } from './schema.ts';
import {
  confirmedSubscribersOf,
  type DeliveryRow,
  deleteEndpoint,
  deleteStaleSubscribers,
  type EndpointRow,
  endpointsFor,
  findDelivery,
  findEndpoint,
  findSubscriber,
  findSubscriberByConfirmHash,
  findSubscriberByIndex,
  insertDelivery,
  insertEndpoint,
  insertSubscriber,
  listEndpoints,
  listSubscribers,
  recentDeliveries,
  type SubscriberRow,
  updateDelivery,
  updateSubscriber,
} from './store.ts';
import { subscribers, webhookEndpoints } from './tables.ts';

/** How long a confirmation link works. */
export const CONFIRM_HOURS = 48;
/** A repeated request within this long sends no second confirmation mail (no mail bombing through us). */
const RESEND_AFTER_MS = 10 * 60_000;
/** Webhook attempts before a delivery is marked failed for good (the job retries with backoff in between). */
export const DELIVERY_ATTEMPTS = 8;

const subscriberEmail = encryptedTextColumn({
  table: subscribers,
  tenantId: subscribers.tenantId,
  rowId: subscribers.id,
  column: subscribers.email,
});
const endpointSecret = encryptedTextColumn({
  table: webhookEndpoints,
  tenantId: webhookEndpoints.tenantId,
  rowId: webhookEndpoints.id,
  column: webhookEndpoints.secret,
});

export const subscriptionEncryptedColumns: Reencryptable[] = [subscriberEmail, endpointSecret];

const EMAIL_INDEX = 'subscriber-email';
const UNSUBSCRIBE = 'subscriber-unsubscribe';

/**
 * The unsubscribe token of a subscriber: its id and an HMAC of it under the tenant's index key. Nothing is
 * stored, so every mail carries the same working link and a database leak yields no links.
 */
function unsubscribeToken(cipher: TenantCipher, id: string): string {
  return `${id}.${cipher.blindIndex(id, UNSUBSCRIBE).slice(0, 40)}`;
}

function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function subscriberTarget(id: string) {
  return { type: 'subscriber', id };
}

// --- visitors ---------------------------------------------------------------------------------------------

/**
 * A visitor asks for mail. The answer is the same whatever the address's state, so the form reveals nothing;
 * a confirmation mail goes out unless every topic is already confirmed or one was sent minutes ago.
 */
export async function requestSubscription(
  ctx: RequestContext,
  input: SubscribeInput,
  origin: string,
  locale: Locale,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
    const index = cipher.blindIndex(input.email, EMAIL_INDEX);
    const existing = await findSubscriberByIndex(tx, ctx.tenant.id, index);
    const confirmed = existing?.state === 'confirmed' ? existing.topics : [];
    if (input.topics.every((t) => confirmed.includes(t))) return;
    const lastSent = existing?.confirmExpiresAt ? existing.confirmExpiresAt.getTime() - CONFIRM_HOURS * 3_600_000 : 0;
    if (existing && now.getTime() - lastSent < RESEND_AFTER_MS) return;
    const token = newSecret();
    const change = {
      requestedTopics: [...new Set([...input.topics])],
      confirmTokenHash: sha256Hex(token),
      confirmExpiresAt: new Date(now.getTime() + CONFIRM_HOURS * 3_600_000),
      origin,
      // The latest request's language wins: it is the one the visitor reads now.
      locale,
      updatedAt: now,
    };
    let id = existing?.id;
    if (existing) {
      await updateSubscriber(tx, ctx.tenant.id, existing.id, {
        ...change,
        state: existing.state === 'confirmed' ? 'confirmed' : 'pending',
      });
    } else {
      id = crypto.randomUUID();
      await insertSubscriber(tx, {
        tenantId: ctx.tenant.id,
        id,
        email: subscriberEmail.seal(cipher, id, input.email),
        emailIndex: index,
        topics: [],
        state: 'pending',
        createdAt: now,
        ...change,
      });
    }
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'subscription.requested',
      target: subscriberTarget(id ?? ''),
      details: { topics: change.requestedTopics, locale },
    });
    await ctx.mail.enqueue(
      tx,
      ctx.tenant.id,
      confirmationMail({
        companyName: ctx.tenant.name,
        to: input.email,
        link: `${origin}${canonicalPath(locale, `/subscribe/confirm/${token}`)}`,
        topics: input.topics,
        locale,
      }),
    );
  });
}

/**
 * Whether a confirmation link is still good (for the page with the confirm button), and the language it was
 * asked for in, so the page speaks it.
 */
export async function confirmationState(ctx: RequestContext, token: string): Promise<{ valid: boolean; locale?: Locale }> {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await findSubscriberByConfirmHash(tx, ctx.tenant.id, sha256Hex(token));
    if (!row) return { valid: false };
    return { valid: Boolean(row.confirmExpiresAt && row.confirmExpiresAt > ctx.clock.now()), locale: row.locale };
  });
}

/** Spends a confirmation link: the requested topics become active. False when it is unknown, spent or expired. */
export async function confirmSubscription(ctx: RequestContext, token: string): Promise<boolean> {
  const now = ctx.clock.now();
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await findSubscriberByConfirmHash(tx, ctx.tenant.id, sha256Hex(token));
    if (!row?.confirmExpiresAt || row.confirmExpiresAt <= now) return false;
    const topics = [...new Set([...(row.state === 'confirmed' ? row.topics : []), ...row.requestedTopics])];
    await updateSubscriber(tx, ctx.tenant.id, row.id, {
      state: 'confirmed',
      topics,
      requestedTopics: [],
      confirmTokenHash: null,
      confirmExpiresAt: null,
      confirmedAt: now,
      updatedAt: now,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'subscription.confirmed',
      target: subscriberTarget(row.id),
      details: { topics },
    });
    return true;
  });
}

/** The outcome of an unsubscribe link: not ours, or ours with the language its subscriber reads (when still known). */
export type UnsubscribeOutcome = { known: false } | { known: true; locale: Locale | undefined };

/** The subscriber an unsubscribe token names, when the token is ours. */
async function subscriberOfToken(
  ctx: RequestContext,
  tx: Tx,
  token: string,
): Promise<{ id: string; row: SubscriberRow | undefined } | undefined> {
  const id = token.split('.')[0] ?? '';
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
  const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
  if (!sameText(token, unsubscribeToken(cipher, id))) return undefined;
  return { id, row: await findSubscriber(tx, ctx.tenant.id, id) };
}

/** The language of the subscriber an unsubscribe link belongs to, for the page that asks to confirm. */
export async function unsubscribeLocale(ctx: RequestContext, token: string): Promise<Locale | undefined> {
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => (await subscriberOfToken(ctx, tx, token))?.row?.locale);
}

/** One-click unsubscribe (RFC 8058). Idempotent; `known: false` only for a token that is not ours. */
export async function unsubscribe(ctx: RequestContext, token: string): Promise<UnsubscribeOutcome> {
  const now = ctx.clock.now();
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const found = await subscriberOfToken(ctx, tx, token);
    if (!found) return { known: false };
    const { id, row } = found;
    if (!row) return { known: true, locale: undefined };
    if (row.state === 'unsubscribed') return { known: true, locale: row.locale };
    await updateSubscriber(tx, ctx.tenant.id, id, {
      state: 'unsubscribed',
      topics: [],
      requestedTopics: [],
      confirmTokenHash: null,
      confirmExpiresAt: null,
      updatedAt: now,
    });
    await ctx.audit.record(tx, auditScope(ctx), { action: 'subscription.unsubscribed', target: subscriberTarget(id) });
    return { known: true, locale: row.locale };
  });
}

// --- notifications ----------------------------------------------------------------------------------------

/** What is new in a published version compared with the one before: only new entries notify. */
export function changeOf(
  topic: Topic,
  current: Record<string, string>[],
  previous: Record<string, string>[] | undefined,
): Change | undefined {
  if (topic === 'updates') {
    const known = new Set((previous ?? []).map((u) => u.slug));
    const added = current.filter((u) => !known.has(u.slug));
    return added.length > 0 ? { topic, updates: added } : undefined;
  }
  const before = new Set((previous ?? []).map((s) => s.name));
  const now = new Set(current.map((s) => s.name));
  const added = current.filter((s) => !before.has(s.name));
  const removed = (previous ?? []).filter((s) => !now.has(s.name));
  return added.length + removed.length > 0 ? { topic, added, removed } : undefined;
}

/** The key an entry keeps across languages: an update's slug, a sub-processor's name. */
function entryKey(topic: Topic, item: Record<string, string>): string {
  return (topic === 'updates' ? item.slug : item.name) ?? '';
}

/**
 * A change as a language reads it: each entry from that language's live list where it has the same entry
 * (same slug or name), else the English one. Only English publishes notify, so this is the translation as
 * far as it has been published by then.
 */
async function changeIn(tx: Tx, tenantId: string, locale: Locale, change: Change): Promise<LocalizedChange> {
  const translated = new Set<Record<string, string>>();
  if (locale === DEFAULT_LOCALE) return { change, translated };
  const own = new Map((await liveItemsIn(tx, tenantId, locale, change.topic)).map((i) => [entryKey(change.topic, i), i]));
  const local = (item: Record<string, string>) => {
    const found = own.get(entryKey(change.topic, item));
    if (!found) return item;
    translated.add(found);
    return found;
  };
  if (change.topic === 'updates') return { change: { topic: 'updates', updates: change.updates.map(local) }, translated };
  return { change: { topic: 'subprocessors', added: change.added.map(local), removed: change.removed.map(local) }, translated };
}

/**
 * Called from the audit hook in the publishing transaction: one mail per confirmed subscriber of the topic, in
 * the subscriber's language, and one signed delivery per endpoint, all committed with the publish itself (or
 * not at all). English is the source every language follows, so only its publishes notify: a translation
 * published afterwards sends nothing again.
 */
export async function notifyPublished(
  runtime: Runtime,
  tx: Tx,
  event: { tenant: string; section: string; locale: string; version: number },
  queueDelivery: (tenantId: string, deliveryId: string) => Promise<void>,
): Promise<number> {
  const topic = TOPICS.find((t) => t === event.section);
  if (!topic || event.locale !== DEFAULT_LOCALE) return 0;
  const versions = await publishedChange(tx, event.tenant, event.locale, event.section, event.version);
  if (!versions) return 0;
  const change = changeOf(topic, versions.current.document.items, versions.previous?.document.items);
  if (!change) return 0;
  const cipher = await runtime.keys.forTenant(tx, event.tenant);
  const companyName = (await tenantInTransaction(tx, event.tenant))?.name ?? 'Trust Center';
  let sent = 0;
  const inLocale = new Map<Locale, LocalizedChange>();
  for (const row of await confirmedSubscribersOf(tx, event.tenant, topic)) {
    const token = unsubscribeToken(cipher, row.id);
    let localized = inLocale.get(row.locale);
    if (!localized) {
      localized = await changeIn(tx, event.tenant, row.locale, change);
      inLocale.set(row.locale, localized);
    }
    const at = (path: string) => `${row.origin}${canonicalPath(row.locale, path)}`;
    await runtime.mail.enqueue(
      tx,
      event.tenant,
      changeMail({
        companyName,
        to: subscriberEmail.open(cipher, row.id, row.email),
        locale: row.locale,
        links: { updates: at('/updates'), subprocessors: at('/subprocessors') },
        change: localized,
        unsubscribeUrl: at(`/unsubscribe/${token}`),
      }),
    );
    sent++;
  }
  const body = JSON.stringify({ version: event.version, publishedAt: versions.current.publishedAt.toISOString(), ...change });
  for (const endpoint of await endpointsFor(tx, event.tenant, topic)) {
    const id = crypto.randomUUID();
    await insertDelivery(tx, {
      tenantId: event.tenant,
      id,
      endpointId: endpoint.id,
      topic,
      body,
      status: 'pending',
      createdAt: runtime.clock.now(),
    });
    await queueDelivery(event.tenant, id);
  }
  return sent;
}

/** Sends one webhook delivery; throws (so the job retries) until it is accepted or out of attempts. */
export async function deliverWebhook(runtime: Runtime, tenantId: string, deliveryId: string): Promise<void> {
  const work = await runtime.db.withTenant(tenantId, async (tx) => {
    const delivery = await findDelivery(tx, tenantId, deliveryId);
    if (!delivery || delivery.status === 'delivered' || delivery.status === 'failed') return undefined;
    const endpoint = await findEndpoint(tx, tenantId, delivery.endpointId);
    if (!endpoint) {
      await updateDelivery(tx, tenantId, deliveryId, { status: 'failed', lastError: 'the endpoint was removed' });
      return undefined;
    }
    const cipher = await runtime.keys.forTenant(tx, tenantId);
    return { delivery, url: endpoint.url, secret: endpointSecret.open(cipher, endpoint.id, endpoint.secret) };
  });
  if (!work) return;
  const attempts = work.delivery.attempts + 1;
  try {
    await postWebhook(work.url, work.secret, work.delivery.body, runtime.clock.now(), 'Candor-Subscriptions/1');
  } catch (error) {
    const last = attempts >= DELIVERY_ATTEMPTS;
    await runtime.db.withTenant(tenantId, (tx) =>
      updateDelivery(tx, tenantId, deliveryId, {
        status: last ? 'failed' : 'retrying',
        attempts,
        lastError: (error as Error).message.slice(0, 500),
      }),
    );
    if (!last) throw error;
    return;
  }
  await runtime.db.withTenant(tenantId, (tx) =>
    updateDelivery(tx, tenantId, deliveryId, {
      status: 'delivered',
      attempts,
      lastError: null,
      deliveredAt: runtime.clock.now(),
    }),
  );
}

// --- back office ------------------------------------------------------------------------------------------

/** `a…@example.com`: enough to recognise a subscriber, not to harvest addresses. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return `${email.slice(0, 1)}…${email.slice(at)}`;
}

export interface SubscriptionSummary {
  topics: { topic: Topic; confirmed: number; pending: number }[];
  subscribers: { email: string; state: SubscriberRow['state']; topics: string[]; createdAt: Date }[];
}

/** Counts per topic and the newest subscribers with masked addresses. Needs `content.read`. */
export async function subscriptionSummary(ctx: RequestContext): Promise<SubscriptionSummary> {
  requirePermission(ctx.actor, 'content.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
    const rows = await listSubscribers(tx, ctx.tenant.id, 500);
    return {
      topics: TOPICS.map((topic) => ({
        topic,
        confirmed: rows.filter((r) => r.state === 'confirmed' && r.topics.includes(topic)).length,
        pending: rows.filter((r) => r.state === 'pending' && r.requestedTopics.includes(topic)).length,
      })),
      subscribers: rows.map((r) => ({
        email: maskEmail(subscriberEmail.open(cipher, r.id, r.email)),
        state: r.state,
        topics: r.state === 'confirmed' ? r.topics : r.requestedTopics,
        createdAt: r.createdAt,
      })),
    };
  });
}

export type EndpointInfo = Omit<EndpointRow, 'secret' | 'tenantId'>;

function endpointInfo(row: EndpointRow): EndpointInfo {
  const { secret: _secret, tenantId: _tenant, ...info } = row;
  return info;
}

export async function listWebhooks(ctx: RequestContext): Promise<{ endpoints: EndpointInfo[]; deliveries: DeliveryRow[] }> {
  requirePermission(ctx.actor, 'content.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => ({
    endpoints: (await listEndpoints(tx, ctx.tenant.id)).map(endpointInfo),
    deliveries: await recentDeliveries(tx, ctx.tenant.id, 100),
  }));
}

/** Registers an endpoint and returns it with its secret, which is never shown again. Needs `content.publish`. */
export async function addWebhook(ctx: RequestContext, input: NewWebhookInput): Promise<EndpointInfo & { secret: string }> {
  requirePermission(ctx.actor, 'content.publish');
  const secret = newSecret();
  const id = crypto.randomUUID();
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
    const row: EndpointRow = {
      tenantId: ctx.tenant.id,
      id,
      url: input.url,
      secret: endpointSecret.seal(cipher, id, secret),
      topics: [...new Set(input.topics)],
      createdAt: ctx.clock.now(),
      createdBy: actorLabel(ctx.actor),
    };
    await insertEndpoint(tx, row);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'subscription.webhook_added',
      target: { type: 'subscription_webhook', id },
      details: { url: input.url, topics: row.topics },
    });
    return { ...endpointInfo(row), secret };
  });
}

export async function removeWebhook(ctx: RequestContext, id: string): Promise<void> {
  requirePermission(ctx.actor, 'content.publish');
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    if (!(await deleteEndpoint(tx, ctx.tenant.id, id))) throw new NotFound('webhook', id);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'subscription.webhook_removed',
      target: { type: 'subscription_webhook', id },
    });
  });
}

/** Retention: unconfirmed and unsubscribed records older than the cutoff. */
export function purgeStaleSubscribers(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  return deleteStaleSubscribers(tx, tenantId, cutoff, batchSize);
}
