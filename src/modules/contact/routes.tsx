import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { BEARER, commonErrors, createApi, notFoundError } from '../../platform/http/api.ts';
import { type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { RateLimiter } from '../../platform/http/rate-limit.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import { localizedRoute, visitorLocale } from '../trust-center/visitor.ts';
import { ContactForm, ContactMessageJson, MessageIdParam } from './schema.ts';
import {
  type ContactMessage,
  getContactMessage,
  issueFormToken,
  listContactMessages,
  markContactMessageHandled,
  receiveContactMessage,
} from './service.ts';
import { ContactMessagePage, ContactMessagesPage } from './views/admin.tsx';
import { ContactFormPage, ContactSentPage } from './views/public.tsx';

export const contactPages = new Hono<AppEnv>();

// Eight messages per ten minutes per address: plenty for a person (a typo, a follow-up), a wall for a script.
const contactByIp = new RateLimiter(8, 10 * 60_000);

localizedRoute(contactPages, 'get', '/contact/message', async (c, chosen) => {
  c.header('cache-control', 'no-store');
  const v = visitorLocale(c, chosen);
  return c.html(<ContactFormPage companyName={c.var.tenant.name} v={v} token={await issueFormToken(requestContext(c))} />);
});

localizedRoute(contactPages, 'post', '/contact/message', async (c, chosen) => {
  c.header('cache-control', 'no-store');
  contactByIp.hit(`${c.var.tenant.id}:${c.var.ip}`);
  const v = visitorLocale(c, chosen);
  const form = await readForm(c, ContactForm);
  const ctx = requestContext(c);
  if (!form.ok) {
    return c.html(
      <ContactFormPage
        companyName={c.var.tenant.name}
        v={v}
        token={form.values.started ?? (await issueFormToken(ctx))}
        values={form.values}
        errors={form.errors}
      />,
      422,
    );
  }
  await receiveContactMessage(ctx, form.data, { honeypot: form.values.website ?? '', token: form.values.started ?? '' });
  return c.html(<ContactSentPage companyName={c.var.tenant.name} v={v} />);
});

contactPages.get('/admin/contact', routeRequires('content.read'), async (c) =>
  renderAdmin(c, 'Contact messages', <ContactMessagesPage messages={await listContactMessages(requestContext(c))} />),
);

contactPages.get('/admin/contact/:id', routeRequires('content.read'), async (c) => {
  const { id } = MessageIdParam.parse(c.req.param());
  const message = await getContactMessage(requestContext(c), id);
  return renderAdmin(
    c,
    'Contact message',
    <ContactMessagePage message={message} csrfToken={csrfTokenOf(c)} canHandle={can(c.var.actor, 'content.edit')} />,
  );
});

contactPages.post('/admin/contact/:id/handled', routeRequires('content.edit'), async (c) => {
  const { id } = MessageIdParam.parse(c.req.param());
  await markContactMessageHandled(requestContext(c), id);
  return redirectWithFlash(c, `/admin/contact/${id}`, 'Marked as handled.');
});

export const contactApi = createApi();
const TAGS = ['Contact'];

function messageJson(m: ContactMessage) {
  return { ...m, createdAt: m.createdAt.toISOString(), handledAt: m.handledAt?.toISOString() ?? null };
}

contactApi.openapi(
  createRoute({
    method: 'get',
    path: '/contact-messages',
    tags: TAGS,
    summary: 'Contact messages',
    description: 'The newest 200 messages from the public contact form. Needs `content.read`.',
    security: BEARER,
    responses: {
      200: {
        description: 'Messages',
        content: { 'application/json': { schema: z.object({ items: z.array(ContactMessageJson) }).openapi('ContactMessages') } },
      },
      ...commonErrors,
    },
  }),
  async (c) => c.json({ items: (await listContactMessages(requestContext(c))).map(messageJson) }, 200),
);

contactApi.openapi(
  createRoute({
    method: 'get',
    path: '/contact-messages/{id}',
    tags: TAGS,
    summary: 'One contact message',
    description: 'Needs `content.read`.',
    security: BEARER,
    request: { params: MessageIdParam },
    responses: {
      200: { description: 'The message', content: { 'application/json': { schema: ContactMessageJson } } },
      ...commonErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json(messageJson(await getContactMessage(requestContext(c), c.req.valid('param').id)), 200),
);
