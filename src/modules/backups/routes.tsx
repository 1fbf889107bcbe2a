import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import { backupJobDefinitions } from './jobs.ts';
import { BackupHealth, BackupIdParam, BackupItem, BackupSettings, BackupSettingsForm } from './schema.ts';
import {
  type BackupRow,
  backupsOverview,
  getBackup,
  readBackupSettingsFor,
  requestBackup,
  requestVerification,
  saveBackupSettings,
} from './service.ts';
import { BackupsView } from './views/backups.tsx';

const PageQuery = z.object({ page: z.coerce.number().int().min(1).max(10_000).catch(1).default(1) });

/** What the page and the API queue: the jobs run them within seconds. */
function queueBackup(c: AppContext) {
  const ctx = requestContext(c);
  return requestBackup(ctx, (tx, backupId) => ctx.jobs.enqueue(backupJobDefinitions(ctx).run, { backupId }, { tx }));
}

function queueVerification(c: AppContext) {
  const ctx = requestContext(c);
  return requestVerification(ctx, (tx) => ctx.jobs.enqueue(backupJobDefinitions(ctx).verify, {}, { tx }));
}

async function renderBackups(c: AppContext, form: { values?: Record<string, string>; errors?: Record<string, string> } = {}) {
  const { page } = PageQuery.parse(c.req.query());
  const overview = await backupsOverview(requestContext(c), page);
  return renderAdmin(
    c,
    'Backups',
    <BackupsView
      overview={overview}
      page={page}
      canManage={can(c.var.actor, 'backups.manage')}
      canVerify={can(c.var.actor, 'backups.verify')}
      csrfToken={csrfTokenOf(c)}
      {...form}
    />,
    form.errors ? 422 : 200,
  );
}

/** Back-office pages (mounted at the root; paths start with /admin). */
export const backupsPages = new Hono<AppEnv>();

backupsPages.get('/admin/backups', (c) => renderBackups(c));

backupsPages.post('/admin/backups/run', routeRequires('backups.manage'), async (c) => {
  await queueBackup(c);
  return redirectWithFlash(c, '/admin/backups', 'Backup queued: it appears in the history within seconds.');
});

backupsPages.post('/admin/backups/verify', routeRequires('backups.verify'), async (c) => {
  await queueVerification(c);
  return redirectWithFlash(c, '/admin/backups', 'Verification of every stored backup queued.');
});

backupsPages.post('/admin/backups/settings', routeRequires('backups.manage'), async (c) => {
  const form = await readForm(c, BackupSettingsForm);
  if (!form.ok) return renderBackups(c, { values: form.values, errors: form.errors });
  try {
    await saveBackupSettings(requestContext(c), form.data);
  } catch (error) {
    if (error instanceof InvalidInput && Object.keys(error.fields).length > 0)
      return renderBackups(c, { values: form.values, errors: error.fields });
    throw error;
  }
  return redirectWithFlash(c, '/admin/backups', 'Backup settings saved.');
});

function iso(at: Date | null): string | null {
  return at?.toISOString() ?? null;
}

function toItem(r: BackupRow): BackupItem {
  const check = (status: BackupRow['verifyStatus'], at: Date | null, detail: string | null) =>
    status && at ? { status, at: at.toISOString(), detail } : null;
  return {
    id: r.id,
    status: r.status,
    trigger: r.trigger,
    requestedBy: r.requestedBy,
    createdAt: r.createdAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    location: r.location,
    engine: r.engine,
    size: r.size,
    digest: r.digest,
    parts: r.partCount,
    blobs: r.blobCount,
    rowCounts: r.rowCounts,
    error: r.error,
    warnings: r.warnings,
    verification: check(r.verifyStatus, r.verifiedAt, r.verifyDetail),
    drill: check(r.drillStatus, r.drillAt, r.drillDetail),
    deletedAt: iso(r.deletedAt),
  };
}

const BackupList = z.object({
  health: BackupHealth,
  managedHere: z
    .boolean()
    .openapi({ description: 'False in every workspace but the one that manages backups for the installation' }),
  managedIn: z.string().nullable(),
  destination: z.string().nullable(),
  items: z.array(BackupItem),
  total: z.number().int(),
  page: z.number().int(),
});

/** JSON API routes (mounted under /api/v1). */
export const backupsApi = createApi();

backupsApi.openapi(
  createRoute({
    method: 'get',
    path: '/backups/settings',
    tags: ['Backups'],
    summary: 'Read the backup settings',
    description: 'Needs `backups.read`; answered in the workspace that manages backups only.',
    security: BEARER,
    responses: {
      200: { description: 'The installation’s backup settings', content: { 'application/json': { schema: BackupSettings } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json(await readBackupSettingsFor(requestContext(c)), 200),
);

backupsApi.openapi(
  createRoute({
    method: 'put',
    path: '/backups/settings',
    tags: ['Backups'],
    summary: 'Change the backup settings',
    description:
      'Owner address, destination (absolute directory or s3://bucket/prefix; null for <data>/backups), daily schedule and retention. Needs `backups.manage`.',
    middleware: [routeRequires('backups.manage')],
    security: BEARER,
    request: { body: { required: true, content: { 'application/json': { schema: BackupSettings } } } },
    responses: {
      200: { description: 'The settings as saved', content: { 'application/json': { schema: BackupSettings } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => c.json(await saveBackupSettings(requestContext(c), c.req.valid('json')), 200),
);

backupsApi.openapi(
  createRoute({
    method: 'get',
    path: '/backups',
    tags: ['Backups'],
    summary: 'List backups',
    description:
      'Health, newest backups first with their verification and drill results. Other workspaces see the health only. Needs `backups.read`.',
    security: BEARER,
    request: { query: z.object({ page: z.string().optional() }) },
    responses: {
      200: { description: 'Backups', content: { 'application/json': { schema: BackupList } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const { page } = PageQuery.parse(c.req.valid('query'));
    const overview = await backupsOverview(requestContext(c), page);
    return c.json(
      {
        health: overview.health,
        managedHere: overview.managedHere,
        managedIn: overview.managedIn,
        destination: overview.destination ?? null,
        items: overview.backups.map(toItem),
        total: overview.total,
        page,
      },
      200,
    );
  },
);

backupsApi.openapi(
  createRoute({
    method: 'post',
    path: '/backups',
    tags: ['Backups'],
    summary: 'Start a backup',
    description:
      'Queues a backup to the configured destination; poll `GET /backups/{id}` for its outcome. Needs `backups.manage`.',
    middleware: [routeRequires('backups.manage')],
    security: BEARER,
    responses: {
      202: { description: 'The queued backup', content: { 'application/json': { schema: BackupItem } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json(toItem(await queueBackup(c)), 202),
);

backupsApi.openapi(
  createRoute({
    method: 'post',
    path: '/backups/verify',
    tags: ['Backups'],
    summary: 'Verify every stored backup now',
    description:
      'Queues the verification the daily job runs: every part’s SHA-256 and the manifest of each stored backup. Needs `backups.verify`.',
    middleware: [routeRequires('backups.verify')],
    security: BEARER,
    responses: {
      202: { description: 'Queued', content: { 'application/json': { schema: z.object({ queued: z.literal(true) }) } } },
      ...commonErrors,
    },
  }),
  async (c) => {
    await queueVerification(c);
    return c.json({ queued: true as const }, 202);
  },
);

backupsApi.openapi(
  createRoute({
    method: 'get',
    path: '/backups/{id}',
    tags: ['Backups'],
    summary: 'Read one backup',
    description: 'Needs `backups.read`.',
    security: BEARER,
    request: { params: BackupIdParam },
    responses: {
      200: { description: 'The backup', content: { 'application/json': { schema: BackupItem } } },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json(toItem(await getBackup(requestContext(c), c.req.valid('param').id)), 200),
);
