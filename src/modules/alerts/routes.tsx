import { Hono } from 'hono';
import { createApi } from '../../platform/http/api.ts';
import type { AppEnv } from '../../platform/http/env.ts';

/** Back-office pages (mounted at the root; paths start with /admin). */
export const alertsPages = new Hono<AppEnv>();

/** JSON API routes (mounted under /api/v1). */
export const alertsApi = createApi();
