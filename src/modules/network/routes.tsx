import { createRoute } from '@hono/zod-openapi';
import { Hono, type MiddlewareHandler } from 'hono';
import { ZodError } from 'zod';
import { InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { fieldErrors, isApiPath, renderProblem } from '../../platform/http/errors.tsx';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import {
  ALLOWLIST_TITLES,
  type Allowlist,
  AllowlistForm,
  AllowlistJson,
  type AllowlistName,
  AllowlistParam,
  AllowlistsJson,
  AllowlistUpdate,
} from './schema.ts';
import {
  addressAllowed,
  entriesContain,
  entriesFromText,
  listAllowlists,
  recordOutsideRequest,
  updateAllowlist,
} from './service.ts';
import { AllowlistsPage, type FormState } from './views/allowlists.tsx';

// --- the check --------------------------------------------------------------------------------------------

/** Which allow-list guards a path: the back office (sign-in page included), the API, or none (the public site). */
export function allowlistForPath(path: string): AllowlistName | undefined {
  if (path === '/admin' || path.startsWith('/admin/')) return 'admin';
  if (isApiPath(path)) return 'api';
  return undefined;
}

/**
 * Refuses requests from outside the tenant's allow-list for the surface they aim at. Mounted after the tenant
 * is known and before sessions and tokens are looked at, so an outside request learns nothing about either.
 */
export function enforceIpAllowlists(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const list = allowlistForPath(c.req.path);
    if (!list || (await addressAllowed(c.var.runtime, c.var.tenant.id, list, c.var.ip))) return next();
    try {
      await recordOutsideRequest(requestContext(c), { list, method: c.req.method, path: c.req.path });
    } catch (err) {
      // The refusal stands either way; a trail that cannot be written must not open the door or turn 403 into 500.
      c.var.runtime.log.error({ err, requestId: c.var.requestId }, 'could not record a request from outside the allow-list');
    }
    return renderProblem(c, {
      type: 'forbidden',
      title: 'Forbidden',
      status: 403,
      detail: `requests from your address (${c.var.ip}) are not accepted for this workspace's ${ALLOWLIST_TITLES[list]}`,
    });
  };
}

// --- back-office page -----------------------------------------------------------------------------------

export const networkPages = new Hono<AppEnv>();

async function renderAllowlists(c: AppContext, form?: FormState) {
  const lists = await listAllowlists(requestContext(c));
  return renderAdmin(
    c,
    'IP allow-lists',
    <AllowlistsPage
      lists={lists}
      yourAddress={c.var.ip}
      canManage={can(c.var.actor, 'settings.manage')}
      csrfToken={csrfTokenOf(c)}
      form={form}
    />,
    form ? 422 : 200,
  );
}

networkPages.get('/admin/ip-allowlists', (c) => renderAllowlists(c));

/** Errors about `entries.<n>.…` become one message for the text area, naming the lines. */
function entryErrorsByLine(errors: Record<string, string>, lines: number[]): Record<string, string> {
  const messages: string[] = [];
  const rest: Record<string, string> = {};
  for (const [key, message] of Object.entries(errors)) {
    const match = /^entries\.(\d+)\./.exec(key);
    if (match) messages.push(`line ${lines[Number(match[1])] ?? '?'}: ${message}`);
    else rest[key] = message;
  }
  return messages.length > 0 ? { ...rest, entries: [rest.entries, ...messages].filter(Boolean).join('; ') } : rest;
}

networkPages.post('/admin/ip-allowlists/:list', routeRequires('settings.manage'), async (c) => {
  const { list } = AllowlistParam.parse(c.req.param());
  const form = await readForm(c, AllowlistForm);
  if (!form.ok) return renderAllowlists(c, { list, values: form.values, errors: form.errors });
  const { entries, lines } = entriesFromText(form.data.entries);
  try {
    const saved = await updateAllowlist(requestContext(c), list, { enabled: form.data.enabled, entries });
    const state = saved.enabled ? `on, ${saved.entries.length} ${saved.entries.length === 1 ? 'entry' : 'entries'}` : 'off';
    return redirectWithFlash(c, '/admin/ip-allowlists', `The ${ALLOWLIST_TITLES[list]} allow-list is saved (${state}).`);
  } catch (error) {
    const errors = error instanceof InvalidInput ? error.fields : error instanceof ZodError ? fieldErrors(error) : undefined;
    if (!errors) throw error;
    const message = error instanceof InvalidInput ? error.message : undefined;
    return renderAllowlists(c, { list, values: form.values, errors: entryErrorsByLine(errors, lines), message });
  }
});

// --- JSON API --------------------------------------------------------------------------------------------

function toApi(a: Allowlist, ip: string) {
  return {
    list: a.list,
    enabled: a.enabled,
    entries: a.entries,
    updatedAt: a.updatedAt?.toISOString() ?? null,
    updatedBy: a.updatedBy,
    yourAddress: ip,
    yourAddressInside: entriesContain(a.entries, ip),
  };
}

export const networkApi = createApi();

networkApi.openapi(
  createRoute({
    method: 'get',
    path: '/ip-allowlists',
    tags: ['Network'],
    summary: 'IP allow-lists',
    description:
      'The back-office (`admin`) and API (`api`) allow-lists, with the caller’s address and whether it is inside each. Needs `settings.read`.',
    security: BEARER,
    responses: {
      200: { description: 'Both lists', content: { 'application/json': { schema: AllowlistsJson } } },
      ...commonErrors,
    },
  }),
  async (c) => c.json({ items: (await listAllowlists(requestContext(c))).map((a) => toApi(a, c.var.ip)) }, 200),
);

networkApi.openapi(
  createRoute({
    method: 'put',
    path: '/ip-allowlists/{list}',
    tags: ['Network'],
    summary: 'Replace an IP allow-list',
    description:
      'Needs `settings.manage`. Replaces the whole list. Refused with 422 and nothing saved: an entry that is not an address or CIDR range ' +
      '(`errors` names each, as `entries.<n>.cidr`), a list that is on with no entries, and a change of the `api` list that would ' +
      'leave out the address of the token making it (recorded as `ip_allowlist.change_refused`). Recorded as `ip_allowlist.updated` with before and after.',
    middleware: [routeRequires('settings.manage')],
    security: BEARER,
    request: {
      params: AllowlistParam,
      body: { required: true, content: { 'application/json': { schema: AllowlistUpdate } } },
    },
    responses: {
      200: { description: 'The list now in force', content: { 'application/json': { schema: AllowlistJson } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const { list } = c.req.valid('param');
    const saved = await updateAllowlist(requestContext(c), list, c.req.valid('json'));
    return c.json(toApi(saved, c.var.ip), 200);
  },
);
