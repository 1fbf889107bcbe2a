import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import type { RequestContext } from '../../platform/context.ts';
import { createDemo } from '../demo/service.ts';
import { documentAnalytics, lastDays } from './analytics.ts';
import { approveRequest, listAllGrants, listRequestDetails } from './service.ts';
import { listGrants, listRequests } from './store.ts';
import { traceGrant } from './trace.ts';

let t: TestApp;
let ctx: RequestContext;

beforeAll(async () => {
  t = await createTestApp();
  const { tenant } = await createDemo(t.runtime, { kind: 'system', name: 'cli' });
  ctx = { ...t.contextOf({ kind: 'system', name: 'cli' }), tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name } };
}, 90_000);

afterAll(async () => {
  await t?.close();
});

describe('the demo tenant’s request history', () => {
  it('has requests in every state, sealed at rest like real ones', async () => {
    const details = await listRequestDetails(ctx);
    const states = new Set(details.map((d) => d.request.state));
    for (const state of ['approved', 'denied', 'refused', 'pending', 'unverified']) expect(states).toContain(state);
    expect(details.length).toBeGreaterThanOrEqual(10);
    const rules = new Set(details.map((d) => d.request.rule));
    expect(rules).toContain('allowed_domain');
    expect(rules).toContain('approver');
    expect(details.find((d) => d.request.state === 'refused')?.request.rule).toBe('blocked_domain');
    expect(details.find((d) => d.request.state === 'denied')?.request.decisionReason).toMatch(/\w/);
    for (const d of details) expect(d.request.email).toMatch(/\.example$/);
    const stored = await t.runtime.db.withTenant(ctx.tenant.id, (tx) => listRequests(tx, ctx.tenant.id, 100));
    for (const row of stored) {
      expect(row.email.startsWith('c1.')).toBe(true);
      expect(row.name.startsWith('c1.')).toBe(true);
      expect(row.emailIndex).toBeTruthy();
      expect(row.createdAt.getTime()).toBeLessThan(Date.now());
    }
  });

  it('has an open, a revoked and an expired grant', async () => {
    const grants = await listAllGrants(ctx);
    const now = Date.now();
    expect(grants.filter((g) => g.revokedAt)).toHaveLength(1);
    expect(grants.some((g) => !g.revokedAt && g.expiresAt.getTime() < now)).toBe(true);
    expect(grants.some((g) => !g.revokedAt && g.expiresAt.getTime() > now)).toBe(true);
  });

  it('fills the analytics of the last 90 days', async () => {
    const a = await documentAnalytics(ctx, lastDays(90, new Date()));
    for (const kind of ['requested', 'approved', 'denied', 'viewed', 'downloaded'] as const)
      expect(a.totals[kind]).toBeGreaterThan(0);
    expect(a.documents.map((d) => d.title).sort()).toEqual(['Penetration test summary', 'SOC 2 Type II report 2026']);
    expect(a.domains.find((d) => d.domain === 'northwind-freight.example')?.companies).toEqual(['Northwind Freight']);
    // Spread over the weeks, not one bar.
    expect(a.weeks.filter((w) => w.counts.requested > 0).length).toBeGreaterThanOrEqual(6);
  });

  it('traces a seeded grant to its requester, decrypted, with views and downloads', async () => {
    const grants = await t.runtime.db.withTenant(ctx.tenant.id, (tx) => listGrants(tx, ctx.tenant.id, 100));
    const revoked = grants.find((g) => g.revokedAt);
    const trace = await traceGrant(ctx, revoked?.id ?? '');
    expect(trace.request).toMatchObject({ name: 'Tomas Lindqvist', email: 'tomas.lindqvist@bluefin-payroll.example' });
    expect(trace.signature).toMatchObject({ typedName: 'Tomas Lindqvist', ip: '203.0.113.77' });
    expect(trace.accesses.map((a) => a.kind)).toEqual(['viewed', 'downloaded', 'downloaded']);
    expect(trace.accesses[0]?.ip).toBe('203.0.113.77');
  });

  it('leaves one request waiting for an approver, who can approve it', async () => {
    const pending = (await listRequestDetails(ctx)).filter((d) => d.request.state === 'pending');
    expect(pending).toHaveLength(1);
    expect(pending[0]?.request).toMatchObject({ name: 'Mei Tanaka', company: 'Larkspur Health' });
    const grant = await approveRequest(ctx, pending[0]?.request.id ?? '');
    expect(Object.keys(grant.versions)).toHaveLength(2);
  });

  it('is seeded once: running the demo again adds nothing', async () => {
    const before = (await listRequestDetails(ctx)).length;
    expect((await createDemo(t.runtime, { kind: 'system', name: 'cli' })).created).toBe(false);
    expect(await listRequestDetails(ctx)).toHaveLength(before);
  });
});
