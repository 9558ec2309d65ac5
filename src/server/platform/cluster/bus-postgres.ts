/**
 * The fan-out bus over PostgreSQL LISTEN/NOTIFY. Publishing is a NOTIFY through the
 * pool; receiving needs a connection of its own that stays in LISTEN (a pooled one
 * would be handed to queries and recycled). That connection is watched (TCP keep-alive
 * and a periodic `SELECT 1`) and re-opened with backoff when lost; NOTIFYs sent while
 * it was down are gone, so the bus then emits `resync`.
 */
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Keyring } from '../../crypto/keyring.js';
import type { Database } from '../../db/schema.js';
import type { Bus } from './bus.js';
import { backoffDelay, createRemoteBus, DEFAULT_BACKOFF, type Backoff, type RemoteBusHooks, type Transport, type TransportLink } from './bus-wire.js';

/** NOTIFY payloads must be shorter than 8000 bytes (PostgreSQL's default build). */
export const NOTIFY_MAX_BYTES = 7999;
export const DEFAULT_CHANNEL = 'securechat_events';

export interface PostgresBusOptions extends RemoteBusHooks {
  /** The database URL, for the dedicated LISTEN connection. */
  url: string;
  /** The pool, for NOTIFY. */
  db: Kysely<Database>;
  keyring: Keyring;
  /** Names the LISTEN connection in pg_stat_activity (`securechat-listen <id>`). */
  instanceId: string;
  channel?: string;
  backoff?: Backoff;
  /** How often the LISTEN connection is checked with a query. */
  healthCheckMs?: number;
}

/** `application_name` of an instance's LISTEN connection. */
export function listenerName(instanceId: string): string {
  return `securechat-listen ${instanceId}`.slice(0, 63);
}

export function createPostgresBus(options: PostgresBusOptions): Promise<Bus> {
  const channel = options.channel ?? DEFAULT_CHANNEL;
  // LISTEN takes an identifier, not a parameter: only plain lower-case names are accepted.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`invalid LISTEN channel name: ${channel}`);
  return createRemoteBus({
    keyring: options.keyring,
    maxPayloadBytes: NOTIFY_MAX_BYTES,
    log: options.log,
    observeLag: options.observeLag,
    open: (link) => openListener({ ...options, channel }, link),
  });
}

async function openListener(options: PostgresBusOptions & { channel: string }, link: TransportLink): Promise<Transport> {
  const { url, db, channel, instanceId } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const abandoned = new WeakSet<pg.Client>();
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;

  function abandon(c: pg.Client): void {
    if (abandoned.has(c)) return;
    abandoned.add(c);
    c.end().catch(() => undefined);
  }

  function lost(c: pg.Client, error?: unknown): void {
    if (abandoned.has(c)) return;
    abandon(c);
    if (c !== client || closed) return;
    client = undefined;
    link.log.warn({ err: error }, 'bus: lost the LISTEN connection to PostgreSQL; reconnecting');
    scheduleReconnect();
  }

  async function connect(): Promise<void> {
    const c = new pg.Client({
      connectionString: url,
      application_name: listenerName(instanceId),
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
    });
    c.on('notification', (notification) => {
      if (!abandoned.has(c) && notification.channel === channel && notification.payload) link.receive(notification.payload);
    });
    c.on('error', (error) => lost(c, error));
    c.on('end', () => lost(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch (error) {
      abandon(c);
      throw error;
    }
    if (closed) return abandon(c);
    client = c;
  }

  function scheduleReconnect(): void {
    retry = setTimeout(() => {
      connect().then(
        () => {
          if (closed) return;
          failures = 0;
          link.log.info('bus: listening on PostgreSQL again');
          link.reconnected();
        },
        (error: unknown) => {
          if (closed) return;
          if (failures === 0) link.log.warn({ err: error }, 'bus: cannot reach PostgreSQL yet; still trying');
          failures += 1;
          scheduleReconnect();
        },
      );
    }, backoffDelay(backoff, failures));
  }

  // A connection can die without a word (a dropped route): a query finds out.
  const health = setInterval(() => {
    const c = client;
    if (c) c.query('SELECT 1').catch((error: unknown) => lost(c, error));
  }, options.healthCheckMs ?? 15_000);
  health.unref();

  try {
    await connect();
  } catch (error) {
    clearInterval(health);
    throw error;
  }

  return {
    async send(payloads) {
      // One statement, one transaction: the notifications are delivered together, in order.
      await sql`select pg_notify(${channel}, payload) from unnest(${[...payloads]}::text[]) with ordinality as sent(payload, n) order by n`.execute(db);
    },
    async close() {
      closed = true;
      clearInterval(health);
      clearTimeout(retry);
      const c = client;
      client = undefined;
      if (c) {
        abandoned.add(c);
        await c.end().catch(() => undefined);
      }
    },
  };
}
