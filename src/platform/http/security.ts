import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { Forbidden } from '../errors.ts';

/**
 * Security headers for every response. The CSP allows scripts and styles from our own origin only and no
 * inline code at all, so a cached page needs no per-request nonce and is byte-identical for every visitor.
 */
export function securityHeaders(): MiddlewareHandler {
  const secure = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
    xFrameOptions: 'DENY',
    xContentTypeOptions: 'nosniff',
    referrerPolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    crossOriginResourcePolicy: 'same-origin',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
    // HSTS only makes sense when we terminate TLS; the TLS issue turns it on there.
    strictTransportSecurity: false,
  });
  return async (c, next) => {
    await secure(c, next);
    // /.well-known documents (published checkpoints, security.txt) are for everyone, scripts included.
    if (c.req.path.startsWith('/.well-known/')) {
      c.res.headers.set('cross-origin-resource-policy', 'cross-origin');
      c.res.headers.set('access-control-allow-origin', '*');
    }
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
export function rejectCrossSiteWrites(): MiddlewareHandler {
  return async (c, next) => {
    if (isUnsafeMethod(c.req.method)) {
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
