// The attacks the identity-and-access issue names, tried against the whole app: CSRF on every state-changing
// back-office form, session fixation, privilege escalation through edited form and API fields, and another
// tenant's ids in every endpoint that takes an id. Routes are read from the app itself, so a route added later
// is attacked too without anyone listing it here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { personActor } from '../../../test/actors.ts';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import type { RequestContext, TenantRef } from '../../platform/context.ts';
import { listOutboxRows } from '../../platform/mail/store.ts';
import { listAlerts } from '../alerts/service.ts';
import { systemContext } from '../audit/service.ts';
import { composePages } from '../documents/compose.ts';
import { createDocument, listDocuments, uploadVersion } from '../documents/service.ts';
import { invitePerson } from '../identity/invitations.ts';
import { createApiToken, createPerson, listApiTokens, resolveSession } from '../identity/service.ts';
import { getCampaign, startCampaign } from '../reviews/service.ts';
import { createTenant } from '../tenants/service.ts';
import { listGrantRequests } from './approvals.ts';
import { createCustomRole, grantRole, listPeople, listRoles } from './service.ts';
import { createSodRule, listSodRules } from './sod.ts';

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);
const form = { 'content-type': 'application/x-www-form-urlencoded' };
/** Text that only the other tenant's objects carry: it must never appear in an answer to this tenant. */
const MARK = 'Globex';

let t: TestApp;
let owner: SignedIn;
let token: string;
let globex: TenantRef;
let globexCtx: RequestContext;
/** The other tenant's ids, by the path segment that names the resource. */
const foreign: Record<string, string> = {};

interface Route {
  method: string;
  path: string;
}

function appRoutes(): Route[] {
  const seen = new Set<string>();
  return t.app.routes.filter((r) => {
    const key = `${r.method} ${r.path}`;
    if (!METHODS.has(r.method) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Fills a route's parameters: `:id` after `users` becomes a user id, `:token` a link token, and so on. */
function fill(path: string, value: (resource: string, param: string) => string | undefined): string | undefined {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (!part.startsWith(':')) {
      out.push(part);
      continue;
    }
    const param = part.slice(1).replace(/\{.*\}$/, '');
    const choices = /\{(.*)\}$/.exec(part)?.[1]?.split('|');
    const filled = value(parts[i - 1] ?? '', param) ?? choices?.[0];
    if (filled === undefined) return undefined;
    out.push(filled);
  }
  return out.join('/');
}

/** Everything of the other tenant an attacker would like to read or change, in a comparable form. */
async function globexState() {
  const campaign = await getCampaign(globexCtx, foreign['access-reviews'] ?? '');
  return {
    people: (await listPeople(globexCtx)).map((p) => [p.email, p.status, p.roles]),
    roles: (await listRoles(globexCtx)).map((r) => [r.slug, r.name, r.permissions]),
    tokens: (await listApiTokens(globexCtx)).map((k) => [k.name, k.revokedAt]),
    sod: (await listSodRules(globexCtx)).rules.map((r) => [r.id, r.name, r.enabled]),
    requests: (await listGrantRequests(globexCtx, { status: 'all' })).map((r) => [r.id, r.status]),
    alerts: (await listAlerts(globexCtx, 'all', 1)).alerts.map((a) => [a.id, a.status]),
    campaign: [campaign.campaign.status, campaign.items.map((i) => [i.id, i.decision, i.reviewerId])],
    documents: (await listDocuments(globexCtx)).map((d) => [d.id, d.title, d.accessLevel, d.currentVersion, d.updatedAt]),
  };
}

beforeAll(async () => {
  t = await createTestApp();
  owner = await t.signInAs('owner');
  token = await t.apiToken('owner');

  const created = await createTenant(t.runtime.db, { slug: 'globex', name: `${MARK} Corp`, hosts: ['globex.test'] });
  globex = { id: created.id, slug: created.slug, name: created.name };
  globexCtx = systemContext(t.runtime, globex, 'test');
  const boss = await createPerson(globexCtx, { email: 'boss@globex.test', name: `${MARK} Boss`, role: 'owner' });
  const ghost = await createPerson(globexCtx, { email: 'ghost@globex.test', name: `${MARK} Ghost`, role: 'employee' });
  foreign.users = ghost.id;
  // A privileged grant asked by a person waits for approval: the other tenant's open grant request.
  const asBoss = { ...globexCtx, actor: personActor(boss, 'owner') };
  await grantRole(asBoss, ghost.id, 'security-admin');
  foreign['grant-requests'] = (await listGrantRequests(globexCtx, { status: 'all' }))[0]?.id ?? '';
  const role = await createCustomRole(globexCtx, { name: `${MARK} Secret Role`, permissions: ['audit.read'] });
  foreign.roles = role.slug;
  const { info } = await createApiToken(
    t.runtime,
    { tenantId: globex.id, actor: globexCtx.actor },
    {
      name: `${MARK} Secret Token`,
      role: 'auditor',
    },
  );
  foreign['api-tokens'] = info.id;
  const rule = await createSodRule(globexCtx, {
    name: `${MARK} Secret Rule`,
    a: { roles: ['vendor-manager'] },
    b: { roles: ['responder'] },
  });
  foreign['separation-of-duties'] = rule.id;
  foreign.rules = rule.id;
  await t.runtime.db.withTenant(globex.id, async (tx) => {
    await t.runtime.mail.enqueue(tx, globex.id, { to: 'board@globex.test', subject: `${MARK} secret mail`, text: 'secret' });
    await t.runtime.audit.record(
      tx,
      { tenantId: globex.id, actor: globexCtx.actor, ip: '198.51.100.77' },
      { action: 'access.outside_allowlist', outcome: 'denied' },
    );
  });
  foreign.outbox = (await t.runtime.db.withTenant(globex.id, (tx) => listOutboxRows(tx, 10, 0)))[0]?.id ?? '';
  foreign.alerts = (await listAlerts(globexCtx, 'all', 1)).alerts[0]?.id ?? '';
  const campaign = await startCampaign(globexCtx, { name: `${MARK} review`, reviewerId: boss.id });
  foreign['access-reviews'] = campaign.id;
  foreign.items = (await getCampaign(globexCtx, campaign.id)).items[0]?.id ?? '';
  const document = await createDocument(globexCtx, { title: `${MARK} SOC 2 report`, accessLevel: 'nda' });
  await uploadVersion(globexCtx, document.id, { filename: 'secret.pdf', bytes: await composePages(1, `${MARK} report`) });
  foreign.documents = document.id;
  // A live invitation link of the other tenant, as mailed.
  await invitePerson(globexCtx, { email: 'new@globex.test', name: `${MARK} Newcomer`, role: 'employee' }, 'http://globex.test');
  const mails = await t.runtime.db.withTenant(globex.id, (tx) => listOutboxRows(tx, 10, 0));
  foreign.invite = /\/admin\/invite\/(\S+)/.exec(mails.find((m) => m.to.includes('new@globex.test'))?.text ?? '')?.[1] ?? '';
  for (const [name, id] of Object.entries(foreign)) if (!id) throw new Error(`no foreign ${name} was made`);
}, 120_000);

afterAll(async () => {
  await t.close();
});

describe('cross-site request forgery', () => {
  it('refuses every state-changing back-office request without the session’s form token, and from another site', async () => {
    const writes = appRoutes().filter((r) => r.method !== 'GET' && r.path.startsWith('/admin'));
    expect(writes.length).toBeGreaterThan(40);
    const refusedWithout: string[] = [];
    const refusedCrossSite: string[] = [];
    for (const route of writes) {
      const path = fill(route.path, () => '00000000-0000-4000-8000-000000000000') ?? route.path;
      const withoutToken = await t.request(path, {
        method: route.method,
        headers: { ...form, cookie: owner.cookie, origin: 'http://acme.test' },
        body: 'role=owner',
      });
      if (withoutToken.status === 403) refusedWithout.push(route.path);
      const crossSite = await t.request(path, {
        method: route.method,
        headers: { ...form, cookie: owner.cookie, origin: 'https://evil.example' },
        body: new URLSearchParams({ _csrf: owner.csrfToken, role: 'owner' }).toString(),
      });
      if (crossSite.status === 403) refusedCrossSite.push(route.path);
    }
    // With a session cookie every form must echo its token, the signed-out ones (sign-in, reset, invitation)
    // included; from another site nothing is accepted at all.
    const paths = writes.map((r) => r.path).sort();
    expect(refusedWithout.sort()).toEqual(paths);
    expect(refusedCrossSite.sort()).toEqual(paths);
  });
});

describe('session fixation', () => {
  it('never adopts a session id chosen before sign-in: signing in issues a new one', async () => {
    const planted = 'attacker-chosen-session-id-0123456789abcdef';
    const signIn = await t.request('/admin/login', {
      method: 'POST',
      headers: { ...form, origin: 'http://acme.test', cookie: `candor_session=${planted}` },
      body: new URLSearchParams({ email: owner.email, password: 'a test passphrase long enough' }).toString(),
    });
    expect(signIn.status).toBe(303);
    const issued = /candor_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1];
    expect(issued).toBeDefined();
    expect(issued).not.toBe(planted);
    expect(await resolveSession(t.runtime.db, t.runtime.clock, t.tenant.id, planted)).toBeUndefined();
    const withPlanted = await t.request('/admin', { headers: { cookie: `candor_session=${planted}` } });
    expect(withPlanted.status).toBe(303);
  });
});

describe('privilege escalation through edited fields', () => {
  it('ignores a tenant id and extra fields in an API body, and refuses roles and permissions the caller lacks', async () => {
    const admin = await t.signInAs('security-admin');
    const adminToken = await (async () => {
      const res = await t.postForm('/admin/api-tokens', admin, { name: 'admin token', role: 'security-admin' });
      return /cnd_[A-Za-z0-9_-]+/.exec(await res.text())?.[0] ?? '';
    })();
    expect(adminToken).toMatch(/^cnd_/);
    const api = (path: string, method: string, body: unknown) =>
      t.request(`/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // A person created with another tenant's id in the body joins the caller's tenant.
    const made = await api('/users', 'POST', {
      email: 'eve@acme.test',
      name: 'Eve',
      role: 'employee',
      tenantId: globex.id,
      invite: false,
    });
    expect(made.status).toBe(201);
    expect((await listPeople(globexCtx)).some((p) => p.email === 'eve@acme.test')).toBe(false);
    const eve = (await made.json()) as { id: string };
    // The owner role holds permissions a security admin lacks: no grant, by API or by editing the form.
    expect((await api(`/users/${eve.id}/roles/owner`, 'PUT', {})).status).toBe(403);
    expect((await t.postForm(`/admin/users/${eve.id}/roles`, admin, { role: 'owner' })).status).toBe(403);
    // Nobody grants themselves a role, even one they may hand out.
    expect((await t.postForm(`/admin/users/${admin.userId}/roles`, admin, { role: 'auditor' })).status).toBe(403);
    // A custom role or a token cannot carry a permission the caller lacks.
    expect((await api('/roles', 'POST', { name: 'Sneaky', permissions: ['sod.manage'] })).status).toBe(403);
    expect((await api('/api-tokens', 'POST', { name: 'sneaky', permissions: ['sod.manage'] })).status).toBe(403);
  });
});

describe('another tenant’s ids', () => {
  it('are never found, shown or changed through any back-office page or API endpoint that takes an id', async () => {
    const before = await globexState();
    const tried: string[] = [];
    for (const route of appRoutes()) {
      if (!route.path.startsWith('/admin') && !route.path.startsWith('/api/v1')) continue;
      const path = fill(route.path, (resource, param) => {
        if (param === 'token') return foreign.invite;
        if (param === 'itemId') return foreign.items;
        if (param === 'id' || param === 'slug') return foreign[resource] ?? foreign[resource.replace(/s$/, '')];
        if (param === 'role') return 'employee';
        if (param === 'version') return '1';
        return undefined;
      });
      if (!path || path === route.path) continue;
      const api = path.startsWith('/api/');
      const res = await t.request(path, {
        method: route.method,
        headers: api
          ? { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: 'http://acme.test' }
          : { ...form, cookie: owner.cookie, origin: 'http://acme.test' },
        ...(route.method === 'GET'
          ? {}
          : {
              body: api
                ? JSON.stringify({ reason: 'x', reviewerId: owner.userId, decision: 'revoke' })
                : `_csrf=${owner.csrfToken}`,
            }),
      });
      const body = await res.text();
      expect(body, `${route.method} ${path}`).not.toContain(MARK);
      expect(res.status, `${route.method} ${path}`).not.toBe(200);
      expect(res.status, `${route.method} ${path}`).not.toBe(201);
      tried.push(`${route.method} ${route.path}`);
    }
    expect(tried.length).toBeGreaterThan(40);
    expect(await globexState()).toEqual(before);
  });
});
