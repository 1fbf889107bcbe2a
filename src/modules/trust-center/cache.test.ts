import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, TEST_HOST, type TestApp } from '../../../test/app.ts';
import { testEngine } from '../../../test/db.ts';
import { testMasterKey } from '../../../test/keys.ts';
import { notificationsDelivered } from '../../../test/notifications.ts';
import { waitFor } from '../../../test/wait.ts';
import { createApp } from '../../app.tsx';
import type { Runtime } from '../../platform/context.ts';
import { openDatabase } from '../../platform/db/client.ts';
import { closeRuntime, createRuntime } from '../../runtime.ts';
import { pagesChanged } from './cache.ts';
import { publishDraft, rollbackTo, saveDraft } from './service.ts';

let t: TestApp;
const SYSTEM = { kind: 'system', name: 'test' } as const;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t?.close();
});

async function publishUpdate(title: string): Promise<number> {
  const ctx = t.contextOf(SYSTEM);
  await saveDraft(ctx, 'updates', { fields: {}, items: [{ date: '2026-11-20', title, body: 'Details.' }] });
  const { version } = await publishDraft(ctx, 'updates');
  // Its own echo must have arrived before a test counts on a page staying cached.
  await notificationsDelivered(t.runtime.db, pagesChanged.name);
  return version;
}

describe('the render cache across processes', () => {
  it.skipIf(testEngine !== 'postgres')(
    'a publish in one process reaches the other’s next request; the other’s hits touch no database',
    async () => {
      // A second runtime and app on its own connections to the same database: another server process.
      const db = await openDatabase({ engine: 'postgres', url: t.runtime.config.databaseUrl, poolSize: 2 });
      let other: Runtime | undefined;
      try {
        other = await createRuntime(t.runtime.config, { db, log: pino({ level: 'silent' }), masterKey: testMasterKey });
        const otherApp = createApp(other);
        const visit = (path: string, init?: RequestInit) => otherApp.request(`http://${TEST_HOST}${path}`, init);

        const first = await publishUpdate('First notice');
        const before = await visit('/updates');
        expect(await before.text()).toContain('First notice');
        const etag = before.headers.get('etag') ?? '';

        const spies = [vi.spyOn(db, 'withTenant'), vi.spyOn(db, 'withSystem'), vi.spyOn(db, 'query')];
        expect((await visit('/updates', { headers: { 'if-none-match': etag } })).status).toBe(304);
        expect(await (await visit('/updates')).text()).toContain('First notice');
        for (const spy of spies) expect(spy).not.toHaveBeenCalled();
        for (const spy of spies) spy.mockRestore();

        await publishUpdate('Second notice');
        const fresh = await waitFor(async () => {
          const response = await visit('/updates', { headers: { 'if-none-match': etag } });
          return response.status === 200 ? response.text() : undefined;
        }, 5_000);
        expect(fresh).toContain('Second notice');

        // A rollback is a publish too.
        await rollbackTo(t.contextOf(SYSTEM), 'updates', first);
        await waitFor(async () => {
          const body = await (await visit('/updates')).text();
          return body.includes('First notice') && !body.includes('Second notice');
        }, 5_000);
      } finally {
        if (other) await closeRuntime(other);
        else await db.close();
      }
    },
  );

  it('a hit touches no database, and a publish in this process shows at once', async () => {
    await publishUpdate('Local notice');
    expect(await (await t.request('/updates')).text()).toContain('Local notice');
    const spies = [vi.spyOn(t.runtime.db, 'withTenant'), vi.spyOn(t.runtime.db, 'withSystem'), vi.spyOn(t.runtime.db, 'query')];
    expect(await (await t.request('/updates')).text()).toContain('Local notice');
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    for (const spy of spies) spy.mockRestore();
    await publishUpdate('Newer local notice');
    expect(await (await t.request('/updates')).text()).toContain('Newer local notice');
  });
});
