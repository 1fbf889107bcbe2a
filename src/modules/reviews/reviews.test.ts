import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { type AuditEventRow, searchEvents } from '../../platform/audit/store.ts';
import { users } from '../identity/tables.ts';
import { openReviewAssignments } from './service.ts';

/** The JSON the API gives for a campaign with its items. */
interface ItemJson {
  id: string;
  person: { id: string; email: string };
  role: string;
  reviewer: { id: string; email: string } | null;
  flag: string | null;
  decision: string | null;
  outcome: string | null;
  note: string | null;
  grantPresent: boolean;
}
interface CampaignJson {
  id: string;
  name: string;
  status: string;
  trigger: string;
  counts: { total: number; undecided: number; kept: number; revoked: number; flagged: number };
  items: ItemJson[];
}

let t: TestApp;
let owner: SignedIn;
let ownerToken: string;

async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: T }> {
  const res = await t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? ownerToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T };
}

async function campaign(id: string): Promise<CampaignJson> {
  const res = await api<CampaignJson>(`/access-reviews/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function start(body: Record<string, unknown> = {}): Promise<CampaignJson> {
  const res = await api<CampaignJson>('/access-reviews', { method: 'POST', body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return campaign(res.body.id);
}

async function events(action: string): Promise<AuditEventRow[]> {
  const all = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
  return all.filter((e) => e.action === action);
}

function itemOf(c: CampaignJson, email: string, role: string): ItemJson {
  const item = c.items.find((i) => i.person.email === email && i.role === role);
  if (!item) throw new Error(`no item for ${email} ${role}`);
  return item;
}

beforeAll(async () => {
  t = await createTestApp();
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
});

afterAll(async () => {
  await t.close();
});

describe('a tenant with a single administrator', () => {
  it('flags the administrator’s own grant instead of giving it to them, and gives everyone else’s to them', async () => {
    const employee = await t.signInAs('employee', 'solo-employee@acme.test');
    const c = await start({ reviewerId: owner.userId });
    const own = itemOf(c, owner.email, 'owner');
    expect(own.reviewer).toBeNull();
    expect(own.flag).toMatch(/no one other than this person/);
    expect(itemOf(c, employee.email, 'employee').reviewer?.id).toBe(owner.userId);
    expect(c.counts.flagged).toBe(1);
    // Nobody else may manage roles: reassigning the flagged item to its own subject is refused.
    const refused = await api(`/access-reviews/${c.id}/items/${own.id}/reassign`, {
      method: 'POST',
      body: { reviewerId: owner.userId },
    });
    expect(refused.status).toBe(422);
    await api(`/access-reviews/${c.id}/close`, { method: 'POST' });
  });
});

describe('a campaign', () => {
  let admin: SignedIn;
  let admin2: SignedIn;
  let subject: SignedIn;
  let c: CampaignJson;

  beforeAll(async () => {
    admin = await t.signInAs('security-admin', 'admin-a@acme.test');
    admin2 = await t.signInAs('security-admin', 'admin-b@acme.test');
    subject = await t.signInAs('auditor', 'subject@acme.test');
    // A deactivated person's grants are not reviewed: they hold nothing that works.
    const gone = await t.signInAs('responder', 'gone@acme.test');
    await t.runtime.db.withTenant(t.tenant.id, (tx) =>
      tx.update(users).set({ deactivatedAt: new Date() }).where(eq(users.id, gone.userId)),
    );
  });

  it('snapshots every grant of every active person, each given to someone other than the person', async () => {
    c = await start({ name: 'Q2 review', dueInDays: 7 });
    expect(c).toMatchObject({ name: 'Q2 review', status: 'open', trigger: 'manual' });
    const grants = c.items.map((i) => `${i.person.email}:${i.role}`).sort();
    expect(grants).toEqual(
      [
        'admin-a@acme.test:security-admin',
        'admin-b@acme.test:security-admin',
        'owner@acme.test:owner',
        'solo-employee@acme.test:employee',
        'subject@acme.test:auditor',
      ].sort(),
    );
    for (const item of c.items) {
      expect(item.reviewer, item.person.email).not.toBeNull();
      expect(item.reviewer?.id).not.toBe(item.person.id);
    }
    // Only an owner may revoke the owner role: the owner's grant goes to... nobody else holds every permission,
    // so it falls back to another administrator rather than to the owner.
    expect(itemOf(c, owner.email, 'owner').reviewer?.id).not.toBe(owner.userId);
    // Security admins' grants go to someone who can revoke them (the owner or the other admin).
    expect([owner.userId, admin2.userId]).toContain(itemOf(c, admin.email, 'security-admin').reviewer?.id);
    const [started] = await events('access_review.started');
    expect(started?.details).toMatchObject({ name: 'Q2 review', items: 5, flagged: 0 });
  });

  it('shows the campaign page, filtered per reviewer, with decide buttons for the reviewer only', async () => {
    const item = itemOf(c, subject.email, 'auditor');
    const reviewer = [owner, admin, admin2].find((p) => p.userId === item.reviewer?.id) as SignedIn;
    const page = await t.request(`/admin/access-reviews/${c.id}?reviewer=${reviewer.userId}`, {
      headers: { cookie: reviewer.cookie },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(subject.email);
    expect(html).toContain(`/items/${item.id}/decide`);
    const others = c.items.filter((i) => i.reviewer?.id !== reviewer.userId);
    for (const other of others) expect(html).not.toContain(`/items/${other.id}/decide`);
    const mine = await t.request('/admin/access-reviews/mine', { headers: { cookie: reviewer.cookie } });
    expect(await mine.text()).toContain(`/items/${item.id}/decide`);
  });

  it('lists a reviewer’s open items for offboarding', async () => {
    const item = itemOf(c, subject.email, 'auditor');
    const duties = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
      openReviewAssignments(tx, t.tenant.id, item.reviewer?.id ?? ''),
    );
    expect(duties).toContainEqual({
      capability: 'Access reviews',
      description: `Review ${subject.email}’s role “Auditor” in “Q2 review”`,
      href: `/admin/access-reviews/${c.id}?reviewer=${item.reviewer?.id}`,
    });
  });

  it('refuses a decision by anyone but the assigned reviewer, and records the refusal', async () => {
    const item = itemOf(c, admin.email, 'security-admin');
    // The person themselves (an administrator, so past the route's users.manage check).
    const self = await t.postForm(`/admin/access-reviews/${c.id}/items/${item.id}/decide`, admin, { decision: 'keep' });
    expect(self.status).toBe(403);
    const denied = await events('access.denied');
    expect(denied.some((e) => String(e.details.what).startsWith('decide an access review item'))).toBe(true);
    expect((await campaign(c.id)).items.find((i) => i.id === item.id)?.decision).toBeNull();
  });

  it('keeps a grant with a note', async () => {
    const item = itemOf(c, owner.email, 'owner');
    const reviewer = [admin, admin2].find((p) => p.userId === item.reviewer?.id) as SignedIn;
    const res = await t.postForm(`/admin/access-reviews/${c.id}/items/${item.id}/decide`, reviewer, {
      decision: 'keep',
      note: 'still runs the company',
    });
    expect(res.status).toBe(303);
    const after = itemOf(await campaign(c.id), owner.email, 'owner');
    expect(after).toMatchObject({ decision: 'keep', outcome: 'kept', note: 'still runs the company' });
  });

  it('revokes a grant at once: the person’s next request lacks the role, and both records are written', async () => {
    expect((await t.request('/admin/audit', { headers: { cookie: subject.cookie } })).status).toBe(200);
    const item = itemOf(c, subject.email, 'auditor');
    const reviewer = [owner, admin, admin2].find((p) => p.userId === item.reviewer?.id) as SignedIn;
    const res = await t.postForm(`/admin/access-reviews/${c.id}/items/${item.id}/decide`, reviewer, {
      decision: 'revoke',
      note: 'left the audit team',
      back: `/admin/access-reviews/${c.id}`,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/access-reviews/${c.id}`);
    expect((await t.request('/admin/audit', { headers: { cookie: subject.cookie } })).status).toBe(403);

    const revoked = (await events('access.role_revoked')).find((e) => e.targetId === subject.userId);
    expect(revoked?.details).toMatchObject({ role: 'auditor', email: subject.email });
    const decided = (await events('access_review.item_decided')).find((e) => e.targetId === item.id);
    expect(decided?.details).toMatchObject({ decision: 'revoke', outcome: 'revoked', note: 'left the audit team' });
    expect(revoked?.seq).toBeLessThan(decided?.seq ?? 0);

    const after = itemOf(await campaign(c.id), subject.email, 'auditor');
    expect(after).toMatchObject({ decision: 'revoke', outcome: 'revoked', grantPresent: false });
    // A revoke is final.
    const again = await t.postForm(`/admin/access-reviews/${c.id}/items/${item.id}/decide`, reviewer, { decision: 'keep' });
    expect(again.status).toBe(303);
    expect(itemOf(await campaign(c.id), subject.email, 'auditor').decision).toBe('revoke');
  });

  it('records a revoke of a grant removed meanwhile as already gone', async () => {
    const item = itemOf(c, 'solo-employee@acme.test', 'employee');
    await api(`/users/${item.person.id}/roles/employee`, { method: 'DELETE' });
    expect(itemOf(await campaign(c.id), 'solo-employee@acme.test', 'employee').grantPresent).toBe(false);
    const reviewer = [owner, admin, admin2].find((p) => p.userId === item.reviewer?.id) as SignedIn;
    await t.postForm(`/admin/access-reviews/${c.id}/items/${item.id}/decide`, reviewer, { decision: 'revoke' });
    expect(itemOf(await campaign(c.id), 'solo-employee@acme.test', 'employee')).toMatchObject({
      decision: 'revoke',
      outcome: 'already_gone',
    });
  });

  it('reassigns an item, never to the person whose grant it is', async () => {
    const item = itemOf(c, admin.email, 'security-admin');
    const toSelf = await api(`/access-reviews/${c.id}/items/${item.id}/reassign`, {
      method: 'POST',
      body: { reviewerId: admin.userId },
    });
    expect(toSelf.status).toBe(422);
    const toEmployee = await api(`/access-reviews/${c.id}/items/${item.id}/reassign`, {
      method: 'POST',
      body: { reviewerId: subject.userId },
    });
    expect(toEmployee.status).toBe(422);
    const target = item.reviewer?.id === owner.userId ? admin2 : owner;
    const res = await t.postForm(`/admin/access-reviews/${c.id}/items/${item.id}/reassign`, owner, { reviewerId: target.userId });
    expect(res.status).toBe(303);
    expect(itemOf(await campaign(c.id), admin.email, 'security-admin').reviewer?.id).toBe(target.userId);
    const [moved] = await events('access_review.item_reassigned');
    expect(moved?.details).toMatchObject({ to: target.email });
  });

  it('lets an auditor read the campaign and refuses their decisions', async () => {
    const auditor = await t.signInAs('auditor', 'reader@acme.test');
    const auditorToken = await t.apiToken('auditor');
    expect((await t.request(`/admin/access-reviews/${c.id}`, { headers: { cookie: auditor.cookie } })).status).toBe(200);
    expect((await api(`/access-reviews/${c.id}`, { token: auditorToken })).status).toBe(200);
    const item = itemOf(c, admin2.email, 'security-admin');
    expect(
      (await t.postForm(`/admin/access-reviews/${c.id}/items/${item.id}/decide`, auditor, { decision: 'revoke' })).status,
    ).toBe(403);
    const viaApi = await api(`/access-reviews/${c.id}/items/${item.id}/decision`, {
      method: 'POST',
      body: { decision: 'revoke' },
      token: auditorToken,
    });
    expect(viaApi.status).toBe(403);
    expect((await t.postForm(`/admin/access-reviews/${c.id}/close`, auditor, {})).status).toBe(403);
    // A token not made by the reviewer cannot carry the reviewer's decision either.
    const viaOwnerToken = await api(`/access-reviews/${c.id}/items/${item.id}/decision`, {
      method: 'POST',
      body: { decision: 'keep' },
    });
    expect(viaOwnerToken.status).toBe(403);
    expect(itemOf(await campaign(c.id), admin2.email, 'security-admin').decision).toBeNull();
  });

  it('refuses evidence while open, closes by hand with undecided items listed, and makes decisions final', async () => {
    expect((await api(`/access-reviews/${c.id}/export`)).status).toBe(409);
    const closed = await api<CampaignJson>(`/access-reviews/${c.id}/close`, { method: 'POST' });
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    const undecided = (await campaign(c.id)).items.filter((i) => !i.decision);
    expect(undecided.length).toBe(closed.body.counts.undecided);
    expect(undecided.length).toBeGreaterThan(0);
    const [event] = (await events('access_review.closed')).filter((e) => e.targetId === c.id);
    expect(event?.details.undecidedItems).toEqual(undecided.map((i) => `${i.person.email}: ${i.role}`).sort());

    const item = undecided[0] as ItemJson;
    const reviewer = [owner, admin, admin2].find((p) => p.userId === item.reviewer?.id) as SignedIn;
    const late = await t.postForm(`/admin/access-reviews/${c.id}/items/${item.id}/decide`, reviewer, { decision: 'keep' });
    expect(late.status).toBe(303);
    expect((await campaign(c.id)).items.find((i) => i.id === item.id)?.decision).toBeNull();
    expect((await api(`/access-reviews/${c.id}/close`, { method: 'POST' })).status).toBe(409);
  });

  it('exports the closed campaign as RFC 4180 CSV with formula-safe cells, and as a printable page', async () => {
    const res = await t.request(`/admin/access-reviews/${c.id}/export.csv`, { headers: { cookie: owner.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const text = await res.text();
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('campaign,person,email,role,reviewer,decision,decided_at,note');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(c.items.length + 2);
    const revoked = lines.find((l) => l.includes('subject@acme.test'));
    expect(revoked).toMatch(
      /^Q2 review,Test auditor,subject@acme\.test,auditor,[^,]+,revoke,\d{4}-\d\d-\d\dT[^,]+,left the audit team$/,
    );
    expect(text).toContain(',revoke (grant already gone),');
    expect(text).toContain(',undecided,,');
    const viaApi = await api<string>(`/access-reviews/${c.id}/export`);
    expect(viaApi.body).toBe(text);

    const print = await t.request(`/admin/access-reviews/${c.id}/evidence`, { headers: { cookie: owner.cookie } });
    expect(print.status).toBe(200);
    const html = await print.text();
    expect(html).toContain('<body class="evidence">');
    expect(html).not.toContain('admin-sidebar');
    expect(html).toContain('left the audit team');
    expect(html).toMatch(/Revoked<\/th><td>2<\/td>/);
    expect((await events('access_review.exported')).map((e) => e.details.format)).toEqual(
      expect.arrayContaining(['csv', 'print']),
    );
  });

  it('quotes and defuses cells a spreadsheet would run', async () => {
    const next = await start({ name: '=HYPERLINK("http://evil.test","click"), now' });
    const item = next.items.find((i) => i.reviewer?.id === owner.userId) as ItemJson;
    await t.postForm(`/admin/access-reviews/${next.id}/items/${item.id}/decide`, owner, {
      decision: 'keep',
      note: '+1, "fine"\nreally',
    });
    await api(`/access-reviews/${next.id}/close`, { method: 'POST' });
    const csv = (await api<string>(`/access-reviews/${next.id}/export`)).body;
    const row = csv.split('\r\n').find((l) => l.includes(item.person.email)) ?? '';
    expect(row.startsWith(`"'=HYPERLINK(""http://evil.test"",""click""), now",`)).toBe(true);
    expect(csv).toContain(`,"'+1, ""fine""\nreally"\r\n`);
  });
});

describe('the last decision', () => {
  it('closes the campaign by itself', async () => {
    const reviewers = [
      owner,
      await t.signInAs('security-admin', 'admin-a@acme.test'),
      await t.signInAs('security-admin', 'admin-b@acme.test'),
    ];
    const c = await start();
    expect(c.counts.flagged).toBe(0);
    for (const item of c.items) {
      const reviewer = reviewers.find((p) => p.userId === item.reviewer?.id) as SignedIn;
      const res = await t.postForm(`/admin/access-reviews/${c.id}/items/${item.id}/decide`, reviewer, { decision: 'keep' });
      expect(res.status).toBe(303);
    }
    const done = await campaign(c.id);
    expect(done).toMatchObject({ status: 'closed', counts: { undecided: 0, kept: c.items.length } });
    const [closed] = (await events('access_review.closed')).filter((e) => e.targetId === c.id);
    expect(closed?.details.reason).toBe('every item decided');
  });
});

describe('a decision through the API', () => {
  it('is taken with the reviewer’s own token, and refused with anyone else’s', async () => {
    const reviewer = await t.signInAs('security-admin', 'admin-a@acme.test');
    const c = await start({ reviewerId: reviewer.userId });
    const item = c.items.find((i) => i.reviewer?.id === reviewer.userId) as ItemJson;
    // The reviewer makes a token for themselves on the tokens page, where it is shown once.
    const page = await t.postForm('/admin/api-tokens', reviewer, {
      name: 'my reviews',
      permissions: 'users.manage',
      expires: '1d',
    });
    const token = /data-copy[^>]*>\s*(cnd_[A-Za-z0-9_-]+)/.exec(await page.text())?.[1] ?? '';
    expect(token).not.toBe('');
    const res = await api<{ outcome: string }>(`/access-reviews/${c.id}/items/${item.id}/decision`, {
      method: 'POST',
      body: { decision: 'keep', note: 'via the API' },
      token,
    });
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('kept');
    const other = c.items.find((i) => i.reviewer?.id !== reviewer.userId) as ItemJson;
    const refused = await api(`/access-reviews/${c.id}/items/${other.id}/decision`, {
      method: 'POST',
      body: { decision: 'keep' },
      token,
    });
    expect(refused.status).toBe(403);
    const bad = await api(`/access-reviews/${c.id}/items/${item.id}/decision`, {
      method: 'POST',
      body: { decision: 'maybe' },
      token,
    });
    expect(bad.status).toBe(422);
    await api(`/access-reviews/${c.id}/close`, { method: 'POST' });
  });
});
