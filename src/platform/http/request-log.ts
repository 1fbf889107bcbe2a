import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.ts';

// Long random path segments are secrets (setup links, magic links): never write them to a log.
const SECRET_SEGMENT = /\/[A-Za-z0-9_-]{20,}(?=\/|$)/g;

const UUID = /^\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Row ids (UUIDs) stay readable; anything else long and random is treated as a secret. */
export function redactPath(path: string): string {
  return path.replace(SECRET_SEGMENT, (segment) => (UUID.test(segment) ? segment : '/[redacted]'));
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * Gives every request an id (echoed as X-Request-Id) and writes one access-log line when it ends:
 * method, redacted path, status, duration, tenant. Never bodies, query strings, cookies or headers.
 */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    try {
      await next();
    } finally {
      // Set on the finished response: a handler may have built its own Response object.
      c.res.headers.set('x-request-id', requestId);
      c.var.runtime.log.info(
        {
          requestId,
          method: c.req.method,
          path: redactPath(c.req.path),
          status: c.res.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          tenant: c.var.tenant?.slug,
        },
        'request',
      );
    }
  };
}
