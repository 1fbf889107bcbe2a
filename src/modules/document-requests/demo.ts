import type { RequestContext } from '../../platform/context.ts';
import { DEFAULT_BLOCKED_DOMAINS } from './domains.ts';
import { publishNda, saveAccessSettings } from './service.ts';

const DEMO_NDA = `HALCYON LEDGER - CONFIDENTIALITY AGREEMENT FOR SECURITY DOCUMENTS

Halcyon Ledger shares its audit reports and test summaries so that customers and prospects can assess the security of its accounting platform. By signing, you agree to use these documents only for that assessment, to share them only with colleagues and advisers who need them and keep them confidential, and not to publish or pass them on.

Your duties last three years and do not cover information that is public, that you already held lawfully, or that a court or regulator requires you to disclose (in which case you tell Halcyon Ledger first where the law allows).

Each copy carries your name, email address and a grant identifier. Delete the documents when Halcyon Ledger asks, or when your assessment ends.`;

/**
 * The demo tenant's NDA and request rules: personal mail refused, its two fictional customers approved at once. A
 * fictional webmail is blocked too, so the demo's refused request names no real provider.
 */
export async function addDemoRequestRules(ctx: RequestContext): Promise<void> {
  await publishNda(ctx, DEMO_NDA);
  await saveAccessSettings(ctx, {
    blockedDomains: [...DEFAULT_BLOCKED_DOMAINS, 'postbox.example'],
    allowedDomains: ['northwind-freight.example', 'bluefin-payroll.example'],
  });
}
