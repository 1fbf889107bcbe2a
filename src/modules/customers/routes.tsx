import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { can, routeRequires } from '../access/service.ts';
import { CustomerFields, changeCustomer, createCustomer, getCustomer, listCustomers, removeCustomer } from './service.ts';
import type { CustomerRow } from './store.ts';
import { type CustomerFormValues, CustomerPage, CustomersPage } from './views/customers.tsx';

export const customerPages = new Hono<AppEnv>();

const IdParam = z.object({ id: z.uuid('not a customer id').openapi({ param: { name: 'id', in: 'path' } }) });

function idOf(c: AppContext): string {
  const parsed = IdParam.safeParse({ id: c.req.param('id') });
  return parsed.success ? parsed.data.id : '00000000-0000-0000-0000-000000000000';
}

async function formOf(
  c: AppContext,
): Promise<{ values: CustomerFormValues; input: { name: string; domains: string[]; contacts: string[] } }> {
  const body = await c.req.parseBody();
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const values = { name: text(body.name), domains: text(body.domains), contacts: text(body.contacts) };
  const list = (v: string) => v.split(/[\s,]+/).filter(Boolean);
  return { values, input: { name: values.name, domains: list(values.domains), contacts: list(values.contacts) } };
}

customerPages.get('/admin/customers', routeRequires('customers.read'), async (c) =>
  renderAdmin(
    c,
    'Customers',
    <CustomersPage
      customers={await listCustomers(requestContext(c))}
      csrfToken={csrfTokenOf(c)}
      canManage={can(c.var.actor, 'customers.manage')}
    />,
  ),
);

customerPages.post('/admin/customers', routeRequires('customers.manage'), async (c) => {
  const { values, input } = await formOf(c);
  try {
    await createCustomer(requestContext(c), input);
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    const customers = await listCustomers(requestContext(c));
    return renderAdmin(
      c,
      'Customers',
      <CustomersPage customers={customers} csrfToken={csrfTokenOf(c)} canManage values={values} errors={error.fields} />,
      422,
    );
  }
  return redirectWithFlash(c, '/admin/customers', 'The customer is added.');
});

customerPages.get('/admin/customers/:id', routeRequires('customers.read'), async (c) => {
  const customer = await getCustomer(requestContext(c), idOf(c));
  return renderAdmin(
    c,
    customer.name,
    <CustomerPage customer={customer} csrfToken={csrfTokenOf(c)} canManage={can(c.var.actor, 'customers.manage')} />,
  );
});

customerPages.post('/admin/customers/:id', routeRequires('customers.manage'), async (c) => {
  const id = idOf(c);
  const { values, input } = await formOf(c);
  try {
    await changeCustomer(requestContext(c), id, input);
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    const customer = await getCustomer(requestContext(c), id);
    return renderAdmin(
      c,
      customer.name,
      <CustomerPage customer={customer} csrfToken={csrfTokenOf(c)} canManage values={values} errors={error.fields} />,
      422,
    );
  }
  return redirectWithFlash(c, `/admin/customers/${id}`, 'The customer is saved.');
});

customerPages.post('/admin/customers/:id/delete', routeRequires('customers.manage'), async (c) => {
  await removeCustomer(requestContext(c), idOf(c));
  return redirectWithFlash(c, '/admin/customers', 'The customer is removed.');
});

// --- JSON API ---------------------------------------------------------------------------------------------

export const customersApi = createApi();
const TAGS = ['Customers'];
const json = <S,>(schema: S) => ({ 'application/json': { schema } });

const CustomerJson = z
  .object({
    id: z.uuid(),
    name: z.string(),
    domains: z.array(z.string()),
    contacts: z.array(z.string()),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
    updatedAt: z.iso.datetime(),
    updatedBy: z.string(),
  })
  .openapi('Customer');

function customerJson(r: CustomerRow) {
  return {
    id: r.id,
    name: r.name,
    domains: r.domains,
    contacts: r.contacts,
    createdAt: r.createdAt.toISOString(),
    createdBy: r.createdBy,
    updatedAt: r.updatedAt.toISOString(),
    updatedBy: r.updatedBy,
  };
}

customersApi.openapi(
  createRoute({
    method: 'get',
    path: '/customers',
    tags: TAGS,
    summary: 'Customer organizations',
    description: 'By name. Needs `customers.read`.',
    security: BEARER,
    responses: { 200: { description: 'Customers', content: json(z.object({ items: z.array(CustomerJson) })) }, ...commonErrors },
  }),
  async (c) => c.json({ items: (await listCustomers(requestContext(c))).map(customerJson) }, 200),
);

customersApi.openapi(
  createRoute({
    method: 'post',
    path: '/customers',
    tags: TAGS,
    summary: 'Add a customer',
    description:
      'Requests for documents from its domains (or subdomains) or contacts are approved automatically once the NDA is signed. ' +
      'Needs `customers.manage`. Recorded as `customer.created`.',
    middleware: [routeRequires('customers.manage')],
    security: BEARER,
    request: { body: { required: true, content: json(CustomerFields) } },
    responses: { 201: { description: 'The customer', content: json(CustomerJson) }, ...commonErrors, ...validationErrors },
  }),
  async (c) => c.json(customerJson(await createCustomer(requestContext(c), c.req.valid('json'))), 201),
);

customersApi.openapi(
  createRoute({
    method: 'get',
    path: '/customers/{id}',
    tags: TAGS,
    summary: 'A customer',
    description: 'Needs `customers.read`.',
    security: BEARER,
    request: { params: IdParam },
    responses: {
      200: { description: 'The customer', content: json(CustomerJson) },
      ...commonErrors,
      ...notFoundError,
      ...validationErrors,
    },
  }),
  async (c) => c.json(customerJson(await getCustomer(requestContext(c), c.req.valid('param').id)), 200),
);

customersApi.openapi(
  createRoute({
    method: 'put',
    path: '/customers/{id}',
    tags: TAGS,
    summary: 'Replace a customer’s name, domains and contacts',
    description: 'Needs `customers.manage`. Recorded as `customer.updated`.',
    middleware: [routeRequires('customers.manage')],
    security: BEARER,
    request: { params: IdParam, body: { required: true, content: json(CustomerFields) } },
    responses: {
      200: { description: 'The customer', content: json(CustomerJson) },
      ...commonErrors,
      ...notFoundError,
      ...validationErrors,
    },
  }),
  async (c) => c.json(customerJson(await changeCustomer(requestContext(c), c.req.valid('param').id, c.req.valid('json'))), 200),
);

customersApi.openapi(
  createRoute({
    method: 'delete',
    path: '/customers/{id}',
    tags: TAGS,
    summary: 'Remove a customer',
    description: 'Needs `customers.manage`. Recorded as `customer.removed`.',
    middleware: [routeRequires('customers.manage')],
    security: BEARER,
    request: { params: IdParam },
    responses: { 204: { description: 'Removed' }, ...commonErrors, ...notFoundError, ...validationErrors },
  }),
  async (c) => {
    await removeCustomer(requestContext(c), c.req.valid('param').id);
    return c.body(null, 204);
  },
);
