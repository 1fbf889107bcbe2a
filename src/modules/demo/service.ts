import type { Actor, Runtime } from '../../platform/context.ts';
import { addDemoRequestRules } from '../document-requests/demo.ts';
import { addDemoRequestHistory } from '../document-requests/demo-history.ts';
import { addDemoDocuments } from '../documents/demo.ts';
import type { Tenant } from '../tenants/schema.ts';
import { createTenant, findTenant, listAllTenants } from '../tenants/service.ts';
import { publishDemoContent } from '../trust-center/demo.ts';

export const DEMO_SLUG = 'demo';
const DEMO_HOST = 'demo.localhost';

export interface DemoResult {
  tenant: Tenant;
  created: boolean;
}

/**
 * Creates the demo tenant with sample content (a fictional company, written for Candor). When it is the
 * only tenant it serves every host; beside others it answers at demo.localhost. Running it again changes
 * nothing. Each capability adds its own sample content here as it arrives.
 */
export async function createDemo(runtime: Runtime, actor: Actor): Promise<DemoResult> {
  const existing = await findTenant(runtime.db, DEMO_SLUG);
  if (existing) return { tenant: existing, created: false };
  const alone = (await listAllTenants(runtime.db, 1)).length === 0;
  const tenant = await createTenant(
    runtime.db,
    {
      slug: DEMO_SLUG,
      name: 'Halcyon Ledger',
      hosts: alone ? [] : [DEMO_HOST],
      contactEmail: 'security@halcyon-ledger.example',
    },
    { audit: runtime.audit, actor },
  );
  await runtime.db.withTenant(tenant.id, async (tx) => {
    await runtime.audit.record(
      tx,
      { tenantId: tenant.id, actor },
      { action: 'demo.created', target: { type: 'tenant', id: tenant.id }, details: { slug: tenant.slug } },
    );
    await runtime.mail.enqueue(tx, tenant.id, {
      to: 'security@halcyon-ledger.example',
      subject: 'Your Halcyon Ledger demo workspace is ready',
      text: [
        'Hello,',
        '',
        'This is the demo workspace of Halcyon Ledger, a fictional bookkeeping company that uses Candor to',
        'run its security and privacy program and to publish its Trust Center.',
        '',
        'Every message Candor sends appears in the back office under Operations → Outbox. Without an SMTP',
        'server configured, messages are kept there as .eml files instead of being delivered.',
        '',
        '— Candor',
      ].join('\n'),
    });
  });
  const ctx = {
    ...runtime,
    tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
    actor,
    requestId: 'demo',
    ip: '127.0.0.1',
    userAgent: '',
  };
  await publishDemoContent(ctx);
  await addDemoDocuments(ctx);
  await addDemoRequestRules(ctx);
  await addDemoRequestHistory(ctx);
  return { tenant, created: true };
}
