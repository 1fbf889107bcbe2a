import type { MiddlewareHandler } from 'hono';
import { Forbidden } from '../errors.ts';
import { isSecureRequest } from './client-ip.ts';

/** One year, subdomains included: what HSTS preload lists ask for, and long enough to matter. */
export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

/**
 * Security headers for every response. The CSP allows scripts and styles from our own origin only and no
 * inline code at all, so a cached page needs no per-request nonce and is byte-identical for every visitor.
 * Computed once: the public pages' fast path (server.ts) sends exactly these too.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

const SECURE_SECURITY_HEADERS = { ...SECURITY_HEADERS, 'strict-transport-security': HSTS_VALUE };

// /.well-known documents (published checkpoints, security.txt) are for everyone, scripts included.
const WELL_KNOWN_OVERRIDES = { 'cross-origin-resource-policy': 'cross-origin', 'access-control-allow-origin': '*' };

/** The security headers of a response to `path`; HSTS only over HTTPS (browsers ignore it over plain HTTP). */
export function securityHeadersFor(path: string, secure: boolean): Readonly<Record<string, string>> {
  const base = secure ? SECURE_SECURITY_HEADERS : SECURITY_HEADERS;
  return path.startsWith('/.well-known/') ? { ...base, ...WELL_KNOWN_OVERRIDES } : base;
}

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    // A 304 only revalidates: the browser keeps the stored 200's headers, these included, and RFC 9110 §15.4.5
    // asks a 304 to carry no other metadata than what updates the cache.
    if (c.res.status === 304) return;
    const headers = c.res.headers;
    for (const [name, value] of Object.entries(securityHeadersFor(c.req.path, isSecureRequest(c)))) headers.set(name, value);
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * First CSRF wall, for every unsafe method: a browser always says where a request comes from (Sec-Fetch-Site
 * or Origin), and a cross-site one is refused. Clients that send neither (curl, services with a Bearer
 * token) are not browsers and carry no ambient credentials to abuse.
 */
export function rejectCrossSiteWrites(options: { exempt?: RegExp } = {}): MiddlewareHandler {
  return async (c, next) => {
    if (isUnsafeMethod(c.req.method) && !options.exempt?.test(c.req.path)) {
      const site = c.req.header('sec-fetch-site');
      if (site && site !== 'same-origin' && site !== 'none') throw new Forbidden('cross-site request refused');
      const origin = c.req.header('origin');
      if (origin !== undefined && !sameOrigin(origin, new URL(c.req.url).host)) {
        throw new Forbidden('cross-site request refused');
      }
    }
    await next();
  };
}

function sameOrigin(origin: string, host: string): boolean {
  if (origin === 'null') return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
