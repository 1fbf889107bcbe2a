import { createHash } from 'node:crypto';
import type { Database, Tx } from '../../platform/db/client.ts';
import { defineChannel, listen, notify } from '../../platform/db/notify.ts';
import { LOCALES } from '../../platform/i18n/locales.ts';

/** A rendered public page: its exact bytes and their strong ETag. */
export interface RenderedPage {
  body: string;
  contentType: string;
  etag: string;
  /** The UTC day it was rendered: certification statuses and "expiring soon" change with the date. */
  day: string;
}

// Keyed by the database first: each test app (and each process) has its own, and tenants never share ids.
const caches = new WeakMap<Database, Map<string, RenderedPage>>();

function cacheOf(db: Database): Map<string, RenderedPage> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  return cache;
}

/** The render cache's locale for what speaks of every language at once (the sitemap). */
export const EVERY_LOCALE = '*';

// Enough for every page of a few hundred tenants in a few locales; beyond it the oldest entries go first.
const MAX_ENTRIES = 5_000;

/** The cache's name for a page: the origin is part of it, since canonical links and feeds name it. */
export function pageKey(origin: string, path: string): string {
  return `${origin}${path}`;
}

const DAY_MS = 86_400_000;
// The last day worked out and the span of milliseconds it covers: the fast path asks on every request.
let lastDay = { from: 0, until: 0, day: '' };

/** The UTC day a page is rendered for. */
export function renderDay(now: Date): string {
  const ms = now.getTime();
  if (ms >= lastDay.from && ms < lastDay.until) return lastDay.day;
  const from = Math.floor(ms / DAY_MS) * DAY_MS;
  lastDay = { from, until: from + DAY_MS, day: now.toISOString().slice(0, 10) };
  return lastDay.day;
}

function keyOf(tenantId: string, locale: string, page: string): string {
  return `${tenantId}|${locale}|${page}`;
}

export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Whether an If-None-Match header names the page's current ETag (or `*`). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  // What a browser sends back: the one tag it was given, as it was given.
  if (ifNoneMatch === etag) return true;
  return ifNoneMatch?.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*') ?? false;
}

/** A public page's own headers (security headers aside): the same from Hono and from the fast path. */
export function pageHeaders(page: RenderedPage, notModified: boolean, negotiated: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    etag: page.etag,
    // Stored by browsers and proxies but revalidated each time: a publish shows at once, a 304 costs nothing.
    'cache-control': 'public, no-cache',
  };
  // An unprefixed page's language follows Accept-Language, so shared caches must key on it too.
  if (negotiated) headers.vary = 'accept-language';
  if (!notModified) headers['content-type'] = page.contentType;
  return headers;
}

export function cachedPage(db: Database, tenantId: string, locale: string, page: string, day: string): RenderedPage | undefined {
  const hit = cacheOf(db).get(keyOf(tenantId, locale, page));
  return hit && hit.day === day ? hit : undefined;
}

export function keepPage(
  db: Database,
  ticket: number | undefined,
  tenantId: string,
  locale: string,
  page: string,
  rendered: RenderedPage,
): void {
  if (ticket === undefined || ticket !== (generations.get(db) ?? 0)) return;
  const cache = cacheOf(db);
  if (cache.size >= MAX_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(keyOf(tenantId, locale, page), rendered);
}

/** Forgets a tenant's rendered pages in one locale (every page: a published section also changes the navigation,
 * the sitemap and the feeds), in this process. */
export function forgetPages(db: Database, tenantId: string, locale: string): void {
  const prefix = `${tenantId}|${locale}|`;
  const cache = cacheOf(db);
  for (const key of [...cache.keys()]) if (key.startsWith(prefix)) cache.delete(key);
  bumpGeneration(db);
}

// What every page shows (the brand, the navigation): every language's pages and the sitemap.
const EVERY_PAGE_LOCALE = [...LOCALES, EVERY_LOCALE];

/** Every process (this one included) forgets all the tenant's pages once `tx` commits. */
export async function announceEveryPageChanged(tx: Tx, tenantId: string): Promise<void> {
  for (const locale of EVERY_PAGE_LOCALE) await announcePagesChanged(tx, tenantId, locale);
}

/** This process forgets all the tenant's pages at once (after the transaction that announced it). */
export function forgetEveryPage(db: Database, tenantId: string): void {
  for (const locale of EVERY_PAGE_LOCALE) forgetPages(db, tenantId, locale);
}

// --- across processes ------------------------------------------------------------------------------------

/** "These pages changed": sent by the publishing transaction, heard by every process on the database. */
export const pagesChanged = defineChannel<{ tenantId: string; locale: string }>('candor_trust_center', {
  encode: ({ tenantId, locale }) => `${tenantId}|${locale}`,
  decode(text) {
    const [tenantId, locale, extra] = text.split('|');
    return tenantId && locale && extra === undefined ? { tenantId, locale } : undefined;
  },
});

/**
 * Tells every process (this one included) to forget the tenant's pages in `locale` once `tx` commits. The
 * publishing process also forgets its own at once (`forgetPages`) so its next request is fresh without waiting.
 */
export function announcePagesChanged(tx: Tx, tenantId: string, locale: string): Promise<void> {
  return notify(tx, pagesChanged, { tenantId, locale });
}

// Per database, the LISTEN being set up or in place; removed when it failed, so the next miss tries again.
const listening = new WeakMap<Database, Promise<boolean>>();
// Bumped on every forget: a page rendered from content read before a forget must not be kept after it.
const generations = new WeakMap<Database, number>();

function bumpGeneration(db: Database): void {
  generations.set(db, (generations.get(db) ?? 0) + 1);
}

function startListening(db: Database): Promise<boolean> {
  const started = listen(db, pagesChanged, {
    message: ({ tenantId, locale }) => forgetPages(db, tenantId, locale),
    // Notifications may have been missed while the connection was down: nothing cached can be trusted.
    gap() {
      cacheOf(db).clear();
      bumpGeneration(db);
    },
  }).then(
    () => true,
    // Not listening (the database unreachable or closing): pages are rendered but not kept until a later miss
    // manages to listen.
    () => {
      listening.delete(db);
      return false;
    },
  );
  listening.set(db, started);
  return started;
}

/**
 * Taken before reading the content a page is rendered from (a miss only; the first one waits for the LISTEN to
 * be in place). `keepPage` keeps the page only if nothing was forgotten since, and never before this process
 * hears other processes' publishes.
 */
export async function cacheTicket(db: Database): Promise<number | undefined> {
  const ready = await (listening.get(db) ?? startListening(db));
  return ready ? (generations.get(db) ?? 0) : undefined;
}
