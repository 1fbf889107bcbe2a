import type { Client, ClientConfig } from 'pg';

/** Called for each notification on a channel, and `gap` when some may have been missed (a lost connection). */
export interface Subscriber {
  message(payload: string): void;
  gap(): void;
}

/** LISTEN on channels; what `Database.listen` is built on. */
export interface Listener {
  listen(channel: string, subscriber: Subscriber): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

// Channel names are identifiers spliced into LISTEN: only plain lower-case names are accepted.
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkChannelName(channel: string): void {
  if (!CHANNEL_NAME.test(channel)) throw new Error(`not a channel name: ${channel}`);
}

const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 10_000;

type PgClientClass = new (config: ClientConfig) => Client;

/**
 * PostgreSQL: one dedicated connection outside the pool (a pooled connection would be handed to other work and
 * lose its LISTENs). When it drops it is reopened with growing waits, every channel is listened to again, and
 * every subscriber is told of the gap, since notifications sent meanwhile are lost.
 */
export function createPgListener(PgClient: PgClientClass, url: string): Listener {
  const subscribers = new Map<string, Set<Subscriber>>();
  let client: Client | undefined;
  let connecting: Promise<Client> | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = RECONNECT_FIRST_MS;

  const dispatch = (channel: string, payload: string) => {
    for (const subscriber of subscribers.get(channel) ?? []) subscriber.message(payload);
  };

  const lost = (broken: Client) => {
    if (client !== broken) return;
    client = undefined;
    broken.end().catch(() => {});
    if (closed) return;
    for (const set of subscribers.values()) for (const subscriber of set) subscriber.gap();
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().catch(() => {}); // connect() schedules the next try itself
    }, retryMs);
    retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS);
  };

  const open = async (): Promise<Client> => {
    const next = new PgClient({ connectionString: url, application_name: 'candor-listener' });
    // An error on an idle connection (a server restart) must not crash the process: reconnect instead.
    next.on('error', () => lost(next));
    next.on('end', () => lost(next));
    next.on('notification', (n) => dispatch(n.channel, n.payload ?? ''));
    try {
      await next.connect();
      for (const channel of subscribers.keys()) await next.query(`listen "${channel}"`);
    } catch (error) {
      next.removeAllListeners('end');
      await next.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await next.end().catch(() => {});
      throw new Error('listener closed');
    }
    client = next;
    retryMs = RECONNECT_FIRST_MS;
    // Reopened after a loss: whatever was sent in between is gone.
    return next;
  };

  const connect = (): Promise<Client> => {
    if (client) return Promise.resolve(client);
    connecting ??= open()
      .catch((error: unknown) => {
        if (!closed && subscribers.size > 0 && !retryTimer) {
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            connect().catch(() => {});
          }, retryMs);
          retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS);
        }
        throw error;
      })
      .finally(() => {
        connecting = undefined;
      });
    return connecting;
  };

  return {
    async listen(channel, subscriber) {
      checkChannelName(channel);
      if (closed) throw new Error('listener closed');
      const fresh = !subscribers.has(channel);
      const set = subscribers.get(channel) ?? new Set();
      set.add(subscriber);
      subscribers.set(channel, set);
      try {
        const connection = await connect();
        if (fresh) await connection.query(`listen "${channel}"`);
      } catch (error) {
        set.delete(subscriber);
        if (set.size === 0) subscribers.delete(channel);
        throw error;
      }
      return async () => {
        set.delete(subscriber);
        if (set.size > 0 || subscribers.get(channel) !== set) return;
        subscribers.delete(channel);
        await client?.query(`unlisten "${channel}"`).catch(() => {});
      };
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      subscribers.clear();
      const open = client;
      client = undefined;
      await connecting?.catch(() => {});
      await open?.end().catch(() => {});
    },
  };
}
