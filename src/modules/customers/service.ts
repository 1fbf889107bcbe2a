import { z } from '@hono/zod-openapi';
import { auditScope } from '../../platform/audit/audit.ts';
import { actorLabel, type RequestContext } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { InvalidInput, NotFound } from '../../platform/errors.ts';
import { fieldErrors } from '../../platform/http/errors.tsx';
import { requirePermission } from '../access/service.ts';
import { type CustomerRow, deleteCustomer, insertCustomer, readCustomer, readCustomers, updateCustomer } from './store.ts';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^\s@<>()"]+@[^\s@<>()"]+\.[^\s@<>()"]+$/;

/** A customer as the form or the API gives it: lists are lower-cased and deduplicated. */
export const CustomerFields = z
  .object({
    name: z.string().trim().min(1, 'enter the organization’s name').max(200, 'use at most 200 characters'),
    domains: z
      .array(z.string().trim().toLowerCase().regex(DOMAIN, 'enter mail domains such as example.com'))
      .max(50, 'at most 50 domains')
      .transform((l) => [...new Set(l)].sort()),
    contacts: z
      .array(z.string().trim().toLowerCase().max(254).regex(EMAIL, 'enter email addresses'))
      .max(100, 'at most 100 contacts')
      .transform((l) => [...new Set(l)].sort()),
  })
  .openapi('CustomerFields');
export type CustomerInput = z.input<typeof CustomerFields>;

function validated(input: unknown): z.output<typeof CustomerFields> {
  const parsed = CustomerFields.safeParse(input);
  if (parsed.success) return parsed.data;
  const errors = fieldErrors(parsed.error);
  // A bad entry deep in a list is reported on the list's field.
  const byField: Record<string, string> = {};
  for (const [key, message] of Object.entries(errors)) byField[key.split('.')[0] ?? key] ??= message ?? 'check this field';
  throw new InvalidInput('a field needs correcting', byField);
}

export async function listCustomers(ctx: RequestContext): Promise<CustomerRow[]> {
  requirePermission(ctx.actor, 'customers.read');
  return ctx.db.withTenant(ctx.tenant.id, (tx) => readCustomers(tx, ctx.tenant.id));
}

export async function getCustomer(ctx: RequestContext, id: string): Promise<CustomerRow> {
  requirePermission(ctx.actor, 'customers.read');
  const row = await ctx.db.withTenant(ctx.tenant.id, (tx) => readCustomer(tx, ctx.tenant.id, id));
  if (!row) throw new NotFound('customer', id);
  return row;
}

export async function createCustomer(ctx: RequestContext, input: CustomerInput): Promise<CustomerRow> {
  requirePermission(ctx.actor, 'customers.manage');
  const fields = validated(input);
  const now = ctx.clock.now();
  const by = actorLabel(ctx.actor);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await insertCustomer(tx, {
      tenantId: ctx.tenant.id,
      ...fields,
      createdAt: now,
      createdBy: by,
      updatedAt: now,
      updatedBy: by,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'customer.created',
      target: { type: 'customer', id: row.id },
      details: { domains: row.domains, contacts: row.contacts.length },
    });
    return row;
  });
}

export async function changeCustomer(ctx: RequestContext, id: string, input: CustomerInput): Promise<CustomerRow> {
  requirePermission(ctx.actor, 'customers.manage');
  const fields = validated(input);
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await updateCustomer(tx, ctx.tenant.id, id, {
      ...fields,
      updatedAt: ctx.clock.now(),
      updatedBy: actorLabel(ctx.actor),
    });
    if (!row) throw new NotFound('customer', id);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'customer.updated',
      target: { type: 'customer', id },
      details: { domains: row.domains, contacts: row.contacts.length },
    });
    return row;
  });
}

export async function removeCustomer(ctx: RequestContext, id: string): Promise<void> {
  requirePermission(ctx.actor, 'customers.manage');
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    if (!(await deleteCustomer(tx, ctx.tenant.id, id))) throw new NotFound('customer', id);
    await ctx.audit.record(tx, auditScope(ctx), { action: 'customer.removed', target: { type: 'customer', id } });
  });
}

/**
 * The customer an address belongs to, by its domain (or a subdomain of one) or as a named contact: the
 * document-request rules approve such requesters automatically. Reads inside the caller's transaction.
 */
export async function customerOfEmail(tx: Tx, tenantId: string, email: string): Promise<CustomerRow | undefined> {
  const address = email.toLowerCase();
  const domain = address.slice(address.lastIndexOf('@') + 1);
  return (await readCustomers(tx, tenantId)).find(
    (c) => c.contacts.includes(address) || c.domains.some((d) => domain === d || domain.endsWith(`.${d}`)),
  );
}
