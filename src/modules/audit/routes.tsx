import { Hono } from 'hono';
import { createApi } from '../../platform/http/api.ts';
import type { AppEnv } from '../../platform/http/env.ts';

/** Back-office pages (mounted at the root; paths start with /admin). */
export const auditPages = new Hono<AppEnv>();

/** JSON API routes (mounted under /api/v1). */
export const auditApi = createApi();

/** Public, tenant-scoped pages that need no sign-in (the published checkpoints). */
export const auditPublicPages = new Hono<AppEnv>();
