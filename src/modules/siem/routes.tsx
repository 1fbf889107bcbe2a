import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { BEARER, commonErrors, createApi, notFoundError, ProblemSchema, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import { CreatedDestination, Destination, DestinationIdParam, type DestinationInfo, NewDestination } from './schema.ts';
import { addDestination, listDestinations, removeDestination, sendTestEvent, setDestinationEnabled } from './service.ts';
import { DestinationsView, type DestinationsViewProps } from './views/destinations.tsx';

/**
 * The two add forms as one schema: the hidden `kind` picks the shape, empty optional fields count as absent.
 * The webhook form's name field is `webhookName`, so the page's two forms never share an element id.
 */
const DestinationForm = z
  .record(z.string(), z.string())
  .transform((values): unknown => {
    const optional = (key: string) => values[key]?.trim() || undefined;
    if (values.kind === 'webhook') {
      return {
        kind: 'webhook' as const,
        name: values.webhookName ?? '',
        url: values.url ?? '',
        secret: optional('secret'),
        startAt: optional('startAt'),
      };
    }
    return {
      kind: 'syslog' as const,
      name: values.name ?? '',
      host: values.host ?? '',
      port: values.port?.trim() ?? '',
      tls: values.tls !== 'off',
      servername: optional('servername'),
      caPem: optional('caPem'),
      startAt: optional('startAt'),
    };
  })
  .pipe(NewDestination);

async function renderDestinations(c: AppContext, extra: Partial<DestinationsViewProps> = {}, status: 200 | 422 = 200) {
  const { destinations, head } = await listDestinations(requestContext(c));
  return renderAdmin(
    c,
    'SIEM forwarding',
    <DestinationsView
      destinations={destinations}
      head={head}
      csrfToken={csrfTokenOf(c)}
      canManage={can(c.var.actor, 'siem.manage')}
      {...extra}
    />,
    status,
  );
}

export const siemPages = new Hono<AppEnv>();

siemPages.get('/admin/siem', (c) => renderDestinations(c));

siemPages.post('/admin/siem', routeRequires('siem.manage'), async (c) => {
  const form = await readForm(c, DestinationForm);
  if (!form.ok) {
    const kind = form.values.kind === 'webhook' ? 'webhook' : 'syslog';
    const { name, ...rest } = form.errors;
    // The webhook form's name field has its own name (see DestinationForm).
    const errors = kind === 'webhook' && name ? { ...rest, webhookName: name } : form.errors;
    return renderDestinations(c, { values: { ...form.values, kind }, errors }, 422);
  }
  const { destination, secret } = await addDestination(requestContext(c), form.data);
  // A generated secret is shown in this response only, never put in a redirect or a cookie.
  if (secret) return renderDestinations(c, { created: { name: destination.name, secret } });
  return redirectWithFlash(c, '/admin/siem', `Destination “${destination.name}” added; forwarding starts within seconds.`);
});

siemPages.post('/admin/siem/:id/:action{enable|disable}', routeRequires('siem.manage'), async (c) => {
  const { id } = DestinationIdParam.parse(c.req.param());
  const enable = c.req.param('action') === 'enable';
  await setDestinationEnabled(requestContext(c), id, enable);
  return redirectWithFlash(
    c,
    '/admin/siem',
    enable ? 'Destination enabled; it catches up from where it stopped.' : 'Destination disabled; its position is kept.',
  );
});

siemPages.post('/admin/siem/:id/delete', routeRequires('siem.manage'), async (c) => {
  const { id } = DestinationIdParam.parse(c.req.param());
  await removeDestination(requestContext(c), id);
  return redirectWithFlash(c, '/admin/siem', 'Destination deleted.');
});

siemPages.post('/admin/siem/:id/test', routeRequires('siem.manage'), async (c) => {
  const { id } = DestinationIdParam.parse(c.req.param());
  const event = await sendTestEvent(requestContext(c), id);
  return redirectWithFlash(c, '/admin/siem', `Test event recorded as seq ${event.seq}; it is forwarded within seconds.`);
});

function toApi(d: DestinationInfo, head: number) {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    host: d.host,
    port: d.port,
    tls: d.tls,
    servername: d.servername,
    hasCa: d.hasCa,
    url: d.url,
    enabled: d.enabled,
    cursor: d.cursor,
    head,
    lastSuccessAt: d.lastSuccessAt?.toISOString() ?? null,
    lastErrorAt: d.lastErrorAt?.toISOString() ?? null,
    lastError: d.lastError,
    failures: d.failures,
    createdAt: d.createdAt.toISOString(),
  };
}

export const siemApi = createApi();

siemApi.openapi(
  createRoute({
    method: 'get',
    path: '/siem/destinations',
    tags: ['SIEM'],
    summary: 'List SIEM destinations',
    description:
      'Each destination with its forwarding position (`cursor`) against the trail’s newest event (`head`). Needs `siem.read`.',
    security: BEARER,
    responses: {
      200: {
        description: 'Destinations (never their secrets)',
        content: { 'application/json': { schema: z.object({ items: z.array(Destination) }) } },
      },
      ...commonErrors,
    },
  }),
  async (c) => {
    const { destinations, head } = await listDestinations(requestContext(c));
    return c.json({ items: destinations.map((d) => toApi(d, head)) }, 200);
  },
);

siemApi.openapi(
  createRoute({
    method: 'post',
    path: '/siem/destinations',
    tags: ['SIEM'],
    summary: 'Add a SIEM destination',
    description:
      'A syslog receiver (RFC 5424 over TCP or TLS) or a signed webhook. Forwarding starts within seconds. Needs `siem.manage`.',
    middleware: [routeRequires('siem.manage')],
    security: BEARER,
    request: { body: { required: true, content: { 'application/json': { schema: NewDestination } } } },
    responses: {
      201: {
        description: 'The destination; a generated webhook secret appears in this response only',
        content: { 'application/json': { schema: CreatedDestination } },
      },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const ctx = requestContext(c);
    const { destination, secret } = await addDestination(ctx, c.req.valid('json'));
    const { head } = await listDestinations(ctx);
    return c.json({ ...toApi(destination, head), ...(secret ? { secret } : {}) }, 201);
  },
);

siemApi.openapi(
  createRoute({
    method: 'delete',
    path: '/siem/destinations/{id}',
    tags: ['SIEM'],
    summary: 'Delete a SIEM destination',
    description: 'Needs `siem.manage`.',
    middleware: [routeRequires('siem.manage')],
    security: BEARER,
    request: { params: DestinationIdParam },
    responses: { 204: { description: 'Deleted' }, ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => {
    await removeDestination(requestContext(c), c.req.valid('param').id);
    return c.body(null, 204);
  },
);

siemApi.openapi(
  createRoute({
    method: 'post',
    path: '/siem/destinations/{id}/test',
    tags: ['SIEM'],
    summary: 'Send a test event',
    description: 'Records a `siem.test` audit event, which is forwarded like any other event. Needs `siem.manage`.',
    middleware: [routeRequires('siem.manage')],
    security: BEARER,
    request: { params: DestinationIdParam },
    responses: {
      202: {
        description: 'The test event was recorded',
        content: { 'application/json': { schema: z.object({ seq: z.number().int() }) } },
      },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      409: {
        description: 'The destination is disabled',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    },
  }),
  async (c) => {
    const event = await sendTestEvent(requestContext(c), c.req.valid('param').id);
    return c.json({ seq: event.seq }, 202);
  },
);
