import { Hono } from 'hono';
import { FocusLayout } from '../ui/layout.tsx';
import type { AppEnv } from './env.ts';
import { PROBLEM_TYPES, type ProblemType } from './problem.ts';

/** Problem `type` URIs dereference to a short explanation, as RFC 9457 recommends. */
export function problemPages(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/problems/:type', (c) => {
    const type = c.req.param('type');
    if (!Object.hasOwn(PROBLEM_TYPES, type)) return c.notFound();
    c.header('cache-control', 'public, max-age=86400');
    return c.html(
      <FocusLayout title={`Problem type: ${type}`} subtitle={PROBLEM_TYPES[type as ProblemType]}>
        <p class="muted">
          API errors are <code>application/problem+json</code> documents (RFC 9457); this page explains the value of their{' '}
          <code>type</code> member.
        </p>
      </FocusLayout>,
    );
  });
  return app;
}
