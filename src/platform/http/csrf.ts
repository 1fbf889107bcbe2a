import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { Forbidden } from '../errors.ts';
import type { AppEnv } from './env.ts';
import { isUnsafeMethod } from './security.ts';

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

function tokensMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Second CSRF wall, for signed-in browser sessions: every unsafe request must echo the session's token in
 * the `_csrf` form field or the X-CSRF-Token header. Runs after the session is known.
 */
export function requireFormToken(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = c.var.session;
    if (session && isUnsafeMethod(c.req.method)) {
      let given = c.req.header(CSRF_HEADER);
      if (!given) {
        const type = c.req.header('content-type') ?? '';
        if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
          const body = await c.req.parseBody();
          const field = body[CSRF_FIELD];
          given = typeof field === 'string' ? field : undefined;
        }
      }
      if (!given || !tokensMatch(given, session.csrfToken)) {
        throw new Forbidden('the form has expired or did not come from this site; reload the page and try again');
      }
    }
    await next();
  };
}
