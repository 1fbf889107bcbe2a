import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngine } from '../../../test/db.ts';
import { sleep, waitFor } from '../../../test/wait.ts';
import { defineChannel, listen, notify } from './notify.ts';

const greetings = defineChannel<{ name: string }>('candor_test_greetings', {
  encode: ({ name }) => name,
  decode: (text) => (text.startsWith('!') ? undefined : { name: text }),
});

let database: TestDatabase;

beforeAll(async () => {
  database = await openTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

describe('notification channels', () => {
  it('delivers what a committed transaction sent, never what a rolled-back one sent, and skips unreadable payloads', async () => {
    const heard: string[] = [];
    const stop = await listen(database.db, greetings, { message: ({ name }) => heard.push(name), gap() {} });
    await database.db.withSystem((tx) => notify(tx, greetings, { name: 'committed' }));
    await database.db
      .withSystem(async (tx) => {
        await notify(tx, greetings, { name: 'rolled back' });
        throw new Error('undo');
      })
      .catch(() => {});
    await database.db.withSystem((tx) => notify(tx, greetings, { name: '!garbled' }));
    await database.db.withTenant('00000000-0000-0000-0000-000000000000', (tx) =>
      notify(tx, greetings, { name: 'as the app role' }),
    );
    await waitFor(() => heard.includes('as the app role'));
    expect(heard).toEqual(['committed', 'as the app role']);
    await stop();
    await database.db.withSystem((tx) => notify(tx, greetings, { name: 'after stopping' }));
    await sleep(100);
    expect(heard).not.toContain('after stopping');
  });

  it('refuses channel names that are not plain identifiers', () => {
    expect(() => defineChannel('bad"name', { encode: String, decode: String })).toThrow(/not a channel name/);
  });

  it.skipIf(testEngine !== 'postgres')('reports a gap when its connection drops, reconnects and hears again', async () => {
    const heard: string[] = [];
    let gaps = 0;
    await listen(database.db, greetings, { message: ({ name }) => heard.push(name), gap: () => gaps++ });
    await database.db.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'candor-listener' and datname = current_database()",
    );
    await waitFor(() => gaps > 0);
    // Sent until one arrives: the reconnection takes a moment.
    await waitFor(async () => {
      await database.db.withSystem((tx) => notify(tx, greetings, { name: 'again' }));
      await sleep(100);
      return heard.includes('again');
    });
  });
});
