import { Hono } from 'hono';
import type { AppEnv } from '../../platform/http/env.ts';
import { requestContext } from '../../platform/http/env.ts';
import { renderAdmin } from '../../platform/http/render.tsx';
import { can } from '../access/service.ts';
import { workspaceSummary } from './service.ts';
import { DashboardView } from './views/dashboard.tsx';

export const dashboardPages = new Hono<AppEnv>();

dashboardPages.get('/admin', async (c) => {
  const summary = await workspaceSummary(requestContext(c));
  const links = { outbox: can(c.var.actor, 'outbox.read'), tokens: can(c.var.actor, 'tokens.read') };
  return renderAdmin(c, 'Dashboard', <DashboardView summary={summary} links={links} />);
});
