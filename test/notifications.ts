import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../src/platform/db/client.ts';

/**
 * Resolves once every notification sent on `channel` before the call has reached this process's listeners.
 * A process hears its own notifications a moment after the commit; a test that fills a cache right after a
 * publish must wait for that echo, or the late echo empties the cache under it. PostgreSQL delivers
 * notifications in commit order, so a marker sent now arrives after all of them.
 */
export async function notificationsDelivered(db: Database, channel: string): Promise<void> {
  const marker = `test-marker:${randomUUID()}`;
  let arrived: () => void = () => {};
  const seen = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const stop = await db.listen(channel, {
    message: (payload) => {
      if (payload === marker) arrived();
    },
    gap: () => {},
  });
  try {
    await db.withSystem((tx) => tx.execute(sql`select pg_notify(${channel}, ${marker})`));
    await seen;
  } finally {
    await stop();
  }
}
