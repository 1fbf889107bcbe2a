import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from './env.ts';

// Long random path segments are secrets (setup links, magic links): never write them to a log.
const SECRET_SEGMENT = /\/[A-Za-z0-9_-]{20,}(?=\/|$)/g;

const UUID = /^\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Row ids (UUIDs) stay readable; anything else long and random is treated as a secret. */
export function redactPath(path: string): string {
  return path.replace(SECRET_SEGMENT, (segment) => (UUID.test(segment) ? segment : '/[redacted]'));
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** The client's X-Request-Id when it is a sane one, else a new id. */
export function requestIdFrom(header: string | undefined): string {
  return header && REQUEST_ID.test(header) ? header : randomUUID();
}

export interface RequestLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  startedAt: number;
  tenant: string | undefined;
}

// The access line's fields are fixed and never secret, so it skips the root logger's redaction (half its cost).
const accessLogs = new WeakMap<Logger, Logger>();

function accessLogOf(log: Logger): Logger {
  let access = accessLogs.get(log);
  if (!access) {
    access = log.child({}, { redact: { paths: [] } });
    accessLogs.set(log, access);
  }
  return access;
}

/** The one access-log line of a request (also written by the public pages' fast path in server.ts). */
export function logRequest(log: Logger, line: RequestLine): void {
  const access = accessLogOf(log);
  // Below the access log's level the line is not even put together (the public pages' fast path is hot).
  if (!access.isLevelEnabled('info')) return;
  access.info(
    {
      requestId: line.requestId,
      method: line.method,
      path: redactPath(line.path),
      status: line.status,
      ms: Math.round((performance.now() - line.startedAt) * 10) / 10,
      tenant: line.tenant,
    },
    'request',
  );
}

/**
 * Gives every request an id (echoed as X-Request-Id) and writes one access-log line when it ends:
 * method, redacted path, status, duration, tenant. Never bodies, query strings, cookies or headers.
 */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const startedAt = performance.now();
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    try {
      await next();
    } finally {
      // Set on the finished response: a handler may have built its own Response object.
      c.res.headers.set('x-request-id', requestId);
      logRequest(c.get('runtime').log, {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        startedAt,
        tenant: c.get('tenant')?.slug,
      });
    }
  };
}
