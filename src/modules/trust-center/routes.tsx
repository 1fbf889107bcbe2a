import { Hono } from 'hono';
import type { AppEnv } from '../../platform/http/env.ts';
import { getTenant } from '../tenants/service.ts';
import { HomePage } from './views/home.tsx';

export const trustCenterPages = new Hono<AppEnv>();

trustCenterPages.get('/', async (c) => {
  const tenant = await getTenant(c.var.runtime.db, c.var.tenant.id);
  c.header('cache-control', 'public, max-age=60');
  return c.html(<HomePage companyName={c.var.tenant.name} contactEmail={tenant?.contactEmail ?? undefined} />);
});
