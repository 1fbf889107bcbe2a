import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { publishDueDrafts } from './service.ts';

let t: TestApp;
let clock: TestClock;
let editor: SignedIn;

beforeAll(async () => {
  clock = new TestClock(new Date('2026-11-21T10:00:00Z'));
  t = await createTestApp({ clock });
  editor = await t.signInAs('content-editor', 'editor@acme.test');
});

afterAll(async () => {
  await t?.close();
});

const UPDATE = { 'items.0.date': '2026-11-22', 'items.0.title': 'Planned maintenance', 'items.0.body': 'Sunday, 02:00 UTC.' };

describe('scheduled publishing', () => {
  it('publishes the draft when its time comes, not before, and records who scheduled it', async () => {
    await t.postForm('/admin/trust-center/updates', editor, UPDATE);
    const past = await t.postForm('/admin/trust-center/updates/schedule', editor, { publishAt: '2026-11-21T09:00' });
    expect(past.status).toBe(303);
    expect((await t.request('/admin/trust-center/updates', { headers: { cookie: editor.cookie } })).status).toBe(200);
    expect((await t.postForm('/admin/trust-center/updates/schedule', editor, { publishAt: '2026-11-21T10:30' })).status).toBe(
      303,
    );

    clock.advance(20 * 60_000);
    expect(await publishDueDrafts(t.runtime)).toBe(0);
    expect((await t.request('/updates')).status).toBe(404);

    clock.advance(11 * 60_000);
    expect(await publishDueDrafts(t.runtime)).toBe(1);
    expect(await (await t.request('/updates')).text()).toContain('Planned maintenance');
    expect(await publishDueDrafts(t.runtime)).toBe(0);

    const events = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 100, 0));
    const published = events.find((e) => e.action === 'trust_center.published');
    expect(published).toMatchObject({
      actorLabel: 'scheduled publish',
      details: { scheduledBy: 'editor@acme.test', version: 1 },
    });
    expect(events.some((e) => e.action === 'trust_center.publish_scheduled')).toBe(true);
  });

  it('cancels a schedule when the draft is edited, and refuses to schedule an unapproved policy', async () => {
    const token = await t.apiToken('content-editor');
    const call = (path: string, method: string, body?: unknown) =>
      t.request(`/api/v1/trust-center/sections/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    await call('faq/draft', 'PUT', { items: [{ category: 'General', question: 'Soon?', answer: 'Yes.' }] });
    const scheduled = await call('faq/schedule', 'PUT', { publishAt: '2026-11-21T12:00:00Z' });
    expect(await scheduled.json()).toMatchObject({ publishAt: '2026-11-21T12:00:00.000Z' });
    await call('faq/draft', 'PUT', { items: [{ category: 'General', question: 'Changed?', answer: 'Yes.' }] });
    expect(await (await call('faq/draft', 'GET')).json()).toMatchObject({ publishAt: null });

    await call('policy:retention/draft', 'PUT', { fields: { title: 'Retention', body: 'Kept briefly.' } });
    expect((await call('policy:retention/schedule', 'PUT', { publishAt: '2026-11-21T12:00:00Z' })).status).toBe(409);
    expect((await call('faq/schedule', 'PUT', { publishAt: 'soon' })).status).toBe(422);
  });
});
