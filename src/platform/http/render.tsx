import type { Child } from 'hono/jsx';
import { Forbidden } from '../errors.ts';
import { AdminLayout, type AdminNavSection } from '../ui/layout.tsx';
import type { AppContext } from './env.ts';
import { takeFlash } from './flash.ts';

/** Renders a back-office page in the admin frame for the signed-in person, with any pending flash. */
export function renderAdmin(
  c: AppContext,
  title: string,
  content: Child,
  status: 200 | 201 | 404 | 413 | 422 = 200,
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
      nav={navFor(c.var.adminNav, actor.permissions)}
      current={c.req.path}
      csrfToken={session.csrfToken}
      flash={takeFlash(c)}
    >
      {content}
    </AdminLayout>,
    status,
  );
}

/** The navigation without the pages the person may not open; sections left empty go too. */
function navFor(nav: AdminNavSection[], permissions: ReadonlySet<string>): AdminNavSection[] {
  return nav
    .map((section) => ({ ...section, items: section.items.filter((i) => !i.permission || permissions.has(i.permission)) }))
    .filter((section) => section.items.length > 0);
}

/** The CSRF token for forms on a back-office page. */
export function csrfTokenOf(c: AppContext): string {
  const session = c.var.session;
  if (!session) throw new Forbidden('sign in to use the back office');
  return session.csrfToken;
}
