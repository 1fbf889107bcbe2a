import type { Child } from 'hono/jsx';
import { Forbidden } from '../errors.ts';
import { AdminLayout } from '../ui/layout.tsx';
import type { AppContext } from './env.ts';
import { takeFlash } from './flash.ts';

/** Renders a back-office page in the admin frame for the signed-in person, with any pending flash. */
export function renderAdmin(
  c: AppContext,
  title: string,
  content: Child,
  status: 200 | 201 | 422 = 200,
): Response | Promise<Response> {
  const actor = c.var.actor;
  const session = c.var.session;
  if (actor.kind !== 'user' || !session) throw new Forbidden('sign in to use the back office');
  c.header('cache-control', 'no-store');
  return c.html(
    <AdminLayout
      title={title}
      tenantName={c.var.tenant.name}
      user={{ name: actor.name, email: actor.email }}
      nav={c.var.adminNav}
      current={c.req.path}
      csrfToken={session.csrfToken}
      flash={takeFlash(c)}
    >
      {content}
    </AdminLayout>,
    status,
  );
}

/** The CSRF token for forms on a back-office page. */
export function csrfTokenOf(c: AppContext): string {
  const session = c.var.session;
  if (!session) throw new Forbidden('sign in to use the back office');
  return session.csrfToken;
}
