import { sql } from 'drizzle-orm';
import type { Database, Tx } from './client.ts';
import { checkChannelName } from './listener.ts';

/**
 * A typed PostgreSQL notification channel: what one process tells every process on the same database (a
 * published page, a changed setting). Payloads are small text (PostgreSQL allows under 8000 bytes).
 */
export interface Channel<T> {
  readonly name: string;
  encode(payload: T): string;
  /** undefined for a payload this version cannot read (sent by a newer or older process): it is ignored. */
  decode(text: string): T | undefined;
}

export function defineChannel<T>(name: string, codec: Omit<Channel<T>, 'name'>): Channel<T> {
  checkChannelName(name);
  return { name, ...codec };
}

/**
 * Sends `payload` on `channel` from inside a transaction: PostgreSQL delivers it only when the transaction
 * commits, and never when it rolls back, so listeners never act on a change that did not happen.
 */
export async function notify<T>(tx: Tx, channel: Channel<T>, payload: T): Promise<void> {
  await tx.execute(sql`select pg_notify(${channel.name}, ${channel.encode(payload)})`);
}

export interface ChannelHandlers<T> {
  message(payload: T): void;
  /** Notifications may have been lost (the listening connection dropped): assume anything changed. */
  gap(): void;
}

/**
 * Listens on `channel` for as long as `db` is open (or until the returned function is called). Every process
 * hears its own notifications too, once its transaction commits.
 */
export function listen<T>(db: Database, channel: Channel<T>, handlers: ChannelHandlers<T>): Promise<() => Promise<void>> {
  return db.listen(channel.name, {
    message(text) {
      const payload = channel.decode(text);
      if (payload !== undefined) handlers.message(payload);
    },
    gap: () => handlers.gap(),
  });
}
