import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { findOutboxRow } from '../../platform/mail/store.ts';

let t: TestApp;
let owner: SignedIn;
let mailId: string;

async function events(action: string) {
  return t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, { action }, 100, 0));
}

beforeAll(async () => {
  t = await createTestApp({ workJobs: true });
  owner = await t.signInAsOwner();
  mailId = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
    t.runtime.mail.enqueue(tx, t.tenant.id, { to: 'subject@example.test', subject: 'Your data export', text: 'Personal.' }),
  );
  const deadline = Date.now() + 15_000;
  while ((await t.runtime.db.withTenant(t.tenant.id, (tx) => findOutboxRow(tx, mailId)))?.status !== 'kept') {
    if (Date.now() > deadline) throw new Error('mail not kept in time');
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  await t.close();
});

describe('reads of outgoing mail', () => {
  it('records opening a message as mail.viewed, by the person, from the page and the API', async () => {
    expect((await t.request(`/admin/outbox/${mailId}`, { headers: { cookie: owner.cookie } })).status).toBe(200);
    const [viewed] = await events('mail.viewed');
    expect(viewed).toMatchObject({ actorType: 'user', actorLabel: owner.email, targetType: 'mail', targetId: mailId });

    const token = await t.apiToken('owner');
    expect((await t.request(`/api/v1/outbox/${mailId}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const [again] = await events('mail.viewed');
    expect(again).toMatchObject({ actorType: 'token', targetId: mailId });
  });

  it('records downloading the .eml as mail.downloaded', async () => {
    expect((await t.request(`/admin/outbox/${mailId}/raw`, { headers: { cookie: owner.cookie } })).status).toBe(200);
    const downloads = await events('mail.downloaded');
    expect(downloads).toHaveLength(1);
    expect(downloads[0]).toMatchObject({ actorLabel: owner.email, targetId: mailId });
  });

  it('records nothing for a message that does not exist', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const before = (await events('mail.')).length;
    expect((await t.request(`/admin/outbox/${missing}`, { headers: { cookie: owner.cookie } })).status).toBe(404);
    expect((await t.request(`/admin/outbox/${missing}/raw`, { headers: { cookie: owner.cookie } })).status).toBe(404);
    expect(await events('mail.')).toHaveLength(before);
  });
});
