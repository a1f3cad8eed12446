import pg from 'pg';
import type { Logger } from '../../platform/logger.js';

/** The channel the read model's row trigger notifies on (db/migrations/2026-12-03T0900_service-change-notify.ts). */
export const SERVICE_CHANGE_CHANNEL = 'backend_service_changed';

/** Who hears the feed: a row that changed, or everything (heard changes may have been missed). */
export interface ServiceChangeListener {
  changed(serviceId: string): void;
  reset(): void;
}

/**
 * Which read-model rows changed, as PostgreSQL announces them after each commit. `live` is true
 * only while the feed is sure it hears every change: from the moment LISTEN succeeded (followed by
 * a reset, since anything before it was unheard) until the connection shows any sign of trouble
 * (then a reset, and false until it listens again).
 */
export interface ServiceChangeFeed {
  readonly live: boolean;
  subscribe(listener: ServiceChangeListener): () => void;
  close(): Promise<void>;
}

export interface ServiceChangeFeedOptions {
  /** How often the listening connection proves it is alive (a half-open TCP connection hears nothing). */
  pingMs?: number;
  /** First wait before listening again after a drop; doubles up to `maxReconnectMs`. */
  reconnectMs?: number;
  maxReconnectMs?: number;
  /** How the connection shows in pg_stat_activity. */
  applicationName?: string;
  log?: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Listens on its own connection (a pooled one cannot LISTEN: it is handed to other queries) and
 * reconnects for ever with backoff; the API never waits for it, since a feed that is down only
 * means the detail reads the row's head again, as without it.
 */
export function listenForServiceChanges(
  databaseUrl: string,
  options: ServiceChangeFeedOptions = {},
): ServiceChangeFeed {
  const pingMs = options.pingMs ?? 10_000;
  const reconnectMs = options.reconnectMs ?? 500;
  const maxReconnectMs = options.maxReconnectMs ?? 30_000;
  const listeners = new Set<ServiceChangeListener>();
  let live = false;
  let closed = false;
  let client: pg.Client | undefined;
  let ping: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let backoff = reconnectMs;

  const resetAll = () => {
    for (const listener of listeners) listener.reset();
  };

  const drop = (reason: string, current: pg.Client) => {
    if (client !== current) return; // an older connection's late event
    client = undefined;
    clearInterval(ping);
    const wasLive = live;
    live = false;
    resetAll();
    current.removeAllListeners('notification');
    current.on('error', () => undefined);
    current.end().catch(() => undefined);
    if (closed) return;
    if (wasLive) options.log?.warn({ reason }, 'service change feed lost; details read the row again');
    retry = setTimeout(connect, backoff);
    retry.unref();
    backoff = Math.min(backoff * 2, maxReconnectMs);
  };

  async function connect(): Promise<void> {
    if (closed) return;
    // query_timeout: a ping that hangs (a half-open connection) counts as a drop.
    const current = new pg.Client({
      connectionString: databaseUrl,
      keepAlive: true,
      query_timeout: pingMs,
      application_name: options.applicationName ?? 'backend-services-change-feed',
    });
    client = current;
    current.on('error', (error) => drop(error.message, current));
    current.on('end', () => drop('connection ended', current));
    current.on('notification', (message) => {
      if (message.channel !== SERVICE_CHANGE_CHANNEL || !message.payload) return;
      for (const listener of listeners) listener.changed(message.payload);
    });
    try {
      await current.connect();
      await current.query(`listen ${SERVICE_CHANGE_CHANNEL}`);
    } catch (error) {
      drop((error as Error).message, current);
      return;
    }
    if (client !== current || closed) return;
    // Whatever changed before LISTEN took effect was not heard.
    resetAll();
    live = true;
    backoff = reconnectMs;
    options.log?.info({}, 'service change feed listening');
    ping = setInterval(() => {
      current.query('select 1').catch((error: Error) => drop(error.message, current));
    }, pingMs);
    ping.unref();
  }

  void connect();

  return {
    get live() {
      return live;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      if (client) drop('closed', client);
    },
  };
}
