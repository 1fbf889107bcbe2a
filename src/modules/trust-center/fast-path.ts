import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Runtime } from '../../platform/context.ts';
import { viewOfClient } from '../../platform/http/client-ip.ts';
import { logRequest, requestIdFrom } from '../../platform/http/request-log.ts';
import { securityHeadersFor } from '../../platform/http/security.ts';
import { isLocale, type Locale, negotiateLocale } from '../../platform/i18n/locales.ts';
import { cachedTenantForHostName, normalizeHost } from '../tenants/service.ts';
import { cachedPage, matchesEtag, pageHeaders, pageKey, type RenderedPage, renderDay } from './cache.ts';

/** Answers the request and returns true, or returns false and leaves it untouched for the full application. */
export type FastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

interface Prepared {
  body: Buffer;
  full: string[];
  notModified: string[];
}

interface Origin {
  origin: string;
  /** The host as tenant resolution reads it (the application's URL host, normalized). */
  hostName: string;
  secure: boolean;
}

// Host headers are chosen by clients: anything unusual goes the long way, where it is validated.
const PLAIN_HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
const ORIGINS_KEPT = 1_000;

/**
 * A public Trust Center page already in the render cache, answered straight from Node's request, before Hono:
 * the same bytes, ETag/304 rules, security headers, request id and access-log line as the full path
 * (`servePublic` with the middleware of app.tsx), at a fraction of the cost (see bench/trust-center.ts).
 * Anything else — another method, an unknown host, a page not cached yet, a tenant not resolved in the last
 * seconds — returns false and takes the full path, which fills the caches. Public pages need no session,
 * form token or allow-list (the allow-lists guard /admin and /api only), so nothing is skipped that applies.
 */
export function publicPageFastPath(runtime: Runtime): FastPath {
  const { db, log, clock } = runtime;
  const trusted = runtime.config.trustedProxies;
  // Worked out once per scheme and host as spelled (the same few for every request).
  const origins = { http: new Map<string, Origin | undefined>(), https: new Map<string, Origin | undefined>() };
  // Per cached page (dropped with it), its bytes and its two header lists, built once.
  const prepared = new WeakMap<RenderedPage, Map<string, Prepared>>();
  const preparedAnswer = (page: RenderedPage, secure: boolean, path: string, negotiated: boolean): Prepared => {
    let answers = prepared.get(page);
    if (!answers) {
      answers = new Map();
      prepared.set(page, answers);
    }
    const key = `${secure}${negotiated}${path}`;
    let answer = answers.get(key);
    if (!answer) {
      const body = Buffer.from(page.body);
      const security = securityHeadersFor(path, secure);
      const flat = (headers: Record<string, string | number>) =>
        Object.entries(headers).flatMap(([name, value]) => [name, String(value)]);
      answer = {
        body,
        full: flat({ ...security, ...pageHeaders(page, false, negotiated), 'content-length': body.length }),
        // As the application's: a 304 carries only what updates the browser's stored copy (security.ts).
        notModified: flat(pageHeaders(page, true, negotiated)),
      };
      answers.set(key, answer);
    }
    return answer;
  };

  /** The origin the client used, worked out as `settleClient` does (the socket, or a trusted proxy's headers). */
  const originOf = (request: IncomingMessage): Origin | undefined => {
    const hostHeader = request.headers.host;
    if (!hostHeader) return undefined;
    const encrypted = (request.socket as Partial<TLSSocket>).encrypted === true;
    let scheme: 'http' | 'https' = encrypted ? 'https' : 'http';
    let host = hostHeader;
    if (trusted.length > 0) {
      const view = viewOfClient(
        { address: request.socket.remoteAddress ?? '0.0.0.0', encrypted },
        {
          forwardedFor: headerText(request, 'x-forwarded-for'),
          forwardedProto: headerText(request, 'x-forwarded-proto'),
          forwardedHost: headerText(request, 'x-forwarded-host'),
        },
        trusted,
      );
      scheme = view.scheme ?? scheme;
      host = view.host ?? host;
    }
    const known = scheme === 'https' ? origins.https : origins.http;
    if (known.has(host)) return known.get(host);
    let origin: Origin | undefined;
    if (PLAIN_HOST.test(host)) {
      const url = new URL(`${scheme}://${host}`);
      origin = { origin: url.origin, hostName: normalizeHost(url.host), secure: scheme === 'https' };
    }
    if (known.size >= ORIGINS_KEPT) known.clear();
    known.set(host, origin);
    return origin;
  };

  return (request, response) => {
    if (request.method !== 'GET') return false;
    const target = request.url ?? '';
    if (!target.startsWith('/')) return false;
    const startedAt = performance.now();
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    const origin = originOf(request);
    if (!origin) return false;
    const tenant = cachedTenantForHostName(db, origin.hostName);
    if (!tenant) return false;
    const chosen = chosenLocale(path);
    const locale = chosen ?? negotiateLocale(headerText(request, 'accept-language'));
    // Keyed as servePublic keys it: the prefix and the page (`/es` is `/es/`).
    const key = chosen ? `/${chosen}${path.slice(chosen.length + 1) || '/'}` : path;
    const page = cachedPage(db, tenant.id, locale, pageKey(origin.origin, key), renderDay(clock.now()));
    if (!page) return false;

    const requestId = requestIdFrom(headerText(request, 'x-request-id'));
    const notModified = matchesEtag(headerText(request, 'if-none-match'), page.etag);
    const prepared = preparedAnswer(page, origin.secure, path, chosen === undefined);
    // Node takes headers as one flat name, value, name, value… list; only the request id differs per request.
    const headers = (notModified ? prepared.notModified : prepared.full).slice();
    headers.push('x-request-id', requestId);
    response.writeHead(notModified ? 304 : 200, headers);
    response.end(notModified ? undefined : prepared.body);
    logRequest(log, { requestId, method: 'GET', path, status: notModified ? 304 : 200, startedAt, tenant: tenant.slug });
    return true;
  };
}

/** The language a `/es/…` style path names, if it names one. */
function chosenLocale(path: string): Locale | undefined {
  const prefix = /^\/([a-z]{2})(?:\/|$)/.exec(path)?.[1];
  return prefix && isLocale(prefix) ? prefix : undefined;
}

function headerText(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
