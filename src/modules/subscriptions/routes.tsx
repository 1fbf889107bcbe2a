import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { RateLimiter } from '../../platform/http/rate-limit.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import { localizedRoute, visitorLocale } from '../trust-center/visitor.ts';
import {
  CreatedWebhookJson,
  DeliveryJson,
  NewWebhook,
  SubscribeForm,
  SummaryJson,
  WebhookIdParam,
  WebhookJson,
} from './schema.ts';
import {
  addWebhook,
  confirmationState,
  confirmSubscription,
  type EndpointInfo,
  listWebhooks,
  removeWebhook,
  requestSubscription,
  subscriptionSummary,
  unsubscribe,
  unsubscribeLocale,
} from './service.ts';
import type { DeliveryRow } from './store.ts';
import { SubscriptionsPage, type SubscriptionsPageProps } from './views/admin.tsx';
import { CheckInboxPage, ConfirmPage, MessagePage, SubscribePage, UnsubscribePage } from './views/public.tsx';

export const subscriptionPages = new Hono<AppEnv>();

// Ten requests an hour per address: enough for a person, too few to mail-bomb through our confirmations.
const subscribeByIp = new RateLimiter(10, 60 * 60_000);

function noStore(c: AppContext): void {
  c.header('cache-control', 'no-store');
  c.header('x-robots-tag', 'noindex');
}

localizedRoute(subscriptionPages, 'get', '/subscribe', (c, chosen) => {
  noStore(c);
  return c.html(<SubscribePage companyName={c.var.tenant.name} v={visitorLocale(c, chosen)} />);
});

localizedRoute(subscriptionPages, 'post', '/subscribe', async (c, chosen) => {
  noStore(c);
  subscribeByIp.hit(`${c.var.tenant.id}:${c.var.ip}`);
  const v = visitorLocale(c, chosen);
  const form = await readForm(c, SubscribeForm, { lists: ['topics'] });
  if (!form.ok)
    return c.html(<SubscribePage companyName={c.var.tenant.name} v={v} values={form.values} errors={form.errors} />, 422);
  await requestSubscription(requestContext(c), form.data, new URL(c.req.url).origin, v.locale);
  return c.html(<CheckInboxPage companyName={c.var.tenant.name} v={v} />);
});

// Pages reached from a mail speak the subscriber's language even at an unprefixed address.

localizedRoute(subscriptionPages, 'get', '/subscribe/confirm/:token', async (c, chosen) => {
  noStore(c);
  c.header('referrer-policy', 'no-referrer');
  const { valid, locale } = await confirmationState(requestContext(c), c.req.param('token') ?? '');
  const v = visitorLocale(c, chosen, locale);
  return c.html(<ConfirmPage companyName={c.var.tenant.name} v={v} action={c.req.path} valid={valid} />, valid ? 200 : 410);
});

localizedRoute(subscriptionPages, 'post', '/subscribe/confirm/:token', async (c, chosen) => {
  noStore(c);
  const ctx = requestContext(c);
  const token = c.req.param('token') ?? '';
  const { locale } = await confirmationState(ctx, token);
  const v = visitorLocale(c, chosen, locale);
  const done = await confirmSubscription(ctx, token);
  if (!done) return c.html(<ConfirmPage companyName={c.var.tenant.name} v={v} action={c.req.path} valid={false} />, 410);
  return c.html(
    <MessagePage companyName={c.var.tenant.name} v={v} title={v.t.subscribe.confirmedTitle} text={v.t.subscribe.confirmed} />,
  );
});

localizedRoute(subscriptionPages, 'get', '/unsubscribe/:token', async (c, chosen) => {
  noStore(c);
  c.header('referrer-policy', 'no-referrer');
  const v = visitorLocale(c, chosen, await unsubscribeLocale(requestContext(c), c.req.param('token') ?? ''));
  return c.html(<UnsubscribePage companyName={c.var.tenant.name} v={v} action={c.req.path} />);
});

/** RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` here; a person's button does the same. */
localizedRoute(subscriptionPages, 'post', '/unsubscribe/:token', async (c, chosen) => {
  noStore(c);
  const outcome = await unsubscribe(requestContext(c), c.req.param('token') ?? '');
  const v = visitorLocale(c, chosen, outcome.known ? outcome.locale : undefined);
  const t = v.t.subscribe;
  if (!outcome.known) {
    return c.html(<MessagePage companyName={c.var.tenant.name} v={v} title={t.unknownLinkTitle} text={t.unknownLink} />, 404);
  }
  return c.html(<MessagePage companyName={c.var.tenant.name} v={v} title={t.unsubscribedTitle} text={t.unsubscribed} />);
});

// --- back office ------------------------------------------------------------------------------------------

async function renderSubscriptions(c: AppContext, extra: Partial<SubscriptionsPageProps> = {}, status: 200 | 422 = 200) {
  const ctx = requestContext(c);
  const summary = await subscriptionSummary(ctx);
  const { endpoints, deliveries } = await listWebhooks(ctx);
  return renderAdmin(
    c,
    'Subscriptions',
    <SubscriptionsPage
      summary={summary}
      endpoints={endpoints}
      deliveries={deliveries}
      csrfToken={csrfTokenOf(c)}
      canManage={can(c.var.actor, 'content.publish')}
      {...extra}
    />,
    status,
  );
}

subscriptionPages.get('/admin/subscriptions', routeRequires('content.read'), (c) => renderSubscriptions(c));

subscriptionPages.post('/admin/subscriptions/webhooks', routeRequires('content.publish'), async (c) => {
  const form = await readForm(c, NewWebhook, { lists: ['topics'] });
  if (!form.ok) return renderSubscriptions(c, { error: Object.values(form.errors).join('; ') }, 422);
  const created = await addWebhook(requestContext(c), form.data);
  return renderSubscriptions(c, { created: { url: created.url, secret: created.secret } });
});

subscriptionPages.post('/admin/subscriptions/webhooks/:id/delete', routeRequires('content.publish'), async (c) => {
  const { id } = WebhookIdParam.parse(c.req.param());
  await removeWebhook(requestContext(c), id);
  return redirectWithFlash(c, '/admin/subscriptions', 'The webhook is removed.');
});

// --- JSON API ---------------------------------------------------------------------------------------------

export const subscriptionsApi = createApi();
const TAGS = ['Subscriptions'];

function endpointJson(e: EndpointInfo) {
  return {
    id: e.id,
    url: e.url,
    topics: e.topics as ('updates' | 'subprocessors')[],
    createdAt: e.createdAt.toISOString(),
    createdBy: e.createdBy,
  };
}

function deliveryJson(d: DeliveryRow) {
  return {
    id: d.id,
    endpointId: d.endpointId,
    topic: d.topic,
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
  };
}

subscriptionsApi.openapi(
  createRoute({
    method: 'get',
    path: '/subscriptions',
    tags: TAGS,
    summary: 'Subscriber counts and masked subscribers',
    description: 'Counts per topic and the newest 500 subscribers, addresses masked. Needs `content.read`.',
    security: BEARER,
    responses: { 200: { description: 'Summary', content: { 'application/json': { schema: SummaryJson } } }, ...commonErrors },
  }),
  async (c) => {
    const summary = await subscriptionSummary(requestContext(c));
    return c.json(
      {
        topics: summary.topics,
        subscribers: summary.subscribers.map((s) => ({ ...s, createdAt: s.createdAt.toISOString() })),
      },
      200,
    );
  },
);

subscriptionsApi.openapi(
  createRoute({
    method: 'get',
    path: '/subscriptions/webhooks',
    tags: TAGS,
    summary: 'Webhook endpoints and the delivery log',
    description: 'Needs `content.read`. Deliveries are the newest 100.',
    security: BEARER,
    responses: {
      200: {
        description: 'Endpoints and deliveries',
        content: {
          'application/json': {
            schema: z.object({ items: z.array(WebhookJson), deliveries: z.array(DeliveryJson) }).openapi('SubscriptionWebhooks'),
          },
        },
      },
      ...commonErrors,
    },
  }),
  async (c) => {
    const { endpoints, deliveries } = await listWebhooks(requestContext(c));
    return c.json({ items: endpoints.map(endpointJson), deliveries: deliveries.map(deliveryJson) }, 200);
  },
);

subscriptionsApi.openapi(
  createRoute({
    method: 'post',
    path: '/subscriptions/webhooks',
    tags: TAGS,
    summary: 'Register a webhook endpoint',
    description:
      'Each publish of a topic POSTs JSON signed as `Candor-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, ' +
      'retried with backoff. The secret is in this response only. Needs `content.publish`. Recorded as `subscription.webhook_added`.',
    middleware: [routeRequires('content.publish')],
    security: BEARER,
    request: { body: { required: true, content: { 'application/json': { schema: NewWebhook } } } },
    responses: {
      201: { description: 'The endpoint and its secret', content: { 'application/json': { schema: CreatedWebhookJson } } },
      ...commonErrors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const created = await addWebhook(requestContext(c), c.req.valid('json'));
    return c.json({ ...endpointJson(created), secret: created.secret }, 201);
  },
);

subscriptionsApi.openapi(
  createRoute({
    method: 'delete',
    path: '/subscriptions/webhooks/{id}',
    tags: TAGS,
    summary: 'Remove a webhook endpoint',
    description: 'Needs `content.publish`. Recorded as `subscription.webhook_removed`.',
    middleware: [routeRequires('content.publish')],
    security: BEARER,
    request: { params: WebhookIdParam },
    responses: { 204: { description: 'Removed' }, ...commonErrors, ...notFoundError },
  }),
  async (c) => {
    await removeWebhook(requestContext(c), c.req.valid('param').id);
    return c.body(null, 204);
  },
);
