/**
 * Metrics for Prometheus: the `metrics` object the gateway, the messages service, the bus
 * and the search index report to (on metrics-registry.ts), and `GET /metrics`.
 *
 * Each instance reports only itself: Prometheus scrapes every instance directly (not
 * through the load balancer) and derives rates with `rate()`. The endpoint answers a
 * direct connection from this host, or anyone presenting `METRICS_TOKEN`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { PoolStats } from '../db/database.js';
import { errors } from './errors.js';
import { createRegistry } from './metrics-registry.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Seconds, from 1 ms (times are stamped in whole milliseconds) up to a bus that is badly behind. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the server reports; one object per app, handed to the parts that count. */
export interface Metrics {
  /** A WebSocket connection was taken over by the gateway. */
  socketOpened(): void;
  socketClosed(): void;
  /** A message was committed (a retried clientId is not a new message). */
  messageSent(): void;
  /**
   * The frames of one message event were written to this instance's sockets; `publishedAt`
   * is when the event was published after its commit (ms, the publisher's clock).
   */
  messageDelivered(frames: number, publishedAt: number | undefined): void;
  /** A remote bus received an event published at `publishedAt` (ms, the publisher's clock). */
  busReceived(publishedAt: number): void;
  /** The bus may have lost events and local clients were told to catch up. */
  busResync(): void;
  /** A socket was closed for not reading its frames fast enough. */
  slowConsumerDropped(): void;
  /** A frame arrived on a socket whose session had ended, and was dropped unread. */
  socketFrameRefused(): void;
  /** A stored message body was read: from memory (`hit`) or by decrypting it (messages/message-bodies.ts). */
  messageCacheRead(hit: boolean): void;
  /** The remembered bodies now take about this many bytes. */
  messageCacheSize(bytes: number): void;
  /** A file upload began (+1) or ended (-1); bytes of uploads received, of files served; plaintext bytes of all stored files. */
  fileUploads(change: 1 | -1): void;
  fileBytesReceived(bytes: number): void;
  fileBytesSent(bytes: number): void;
  fileBytesStored(bytes: number): void;
  /** A search index was built (in `seconds`); `read` gives the one answering now, undefined before the first. */
  searchIndexBuilt(seconds: number, read: () => { messages: number; bytes: number } | undefined): void;
  render(): string;
}

export interface MetricsOptions {
  /** The database pool's use; undefined (SQLite) leaves the pool metrics out. */
  poolStats?: () => PoolStats;
  now?: () => number;
}

/** The server's metrics on a fresh registry. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const now = options.now ?? Date.now;
  const registry = createRegistry();
  const sinceMs = (at: number) => Math.max(0, now() - at) / 1000; // clocks of two hosts may disagree a little

  const sockets = registry.gauge('securechat_websocket_connections', 'WebSocket connections open on this instance.');
  const sent = registry.counter('securechat_messages_sent_total', 'Messages committed by this instance (retries of a clientId not counted).');
  const delivered = registry.counter('securechat_messages_delivered_total', 'Message frames written to WebSocket connections on this instance.');
  const delivery = registry.histogram(
    'securechat_message_delivery_seconds',
    'From publishing a committed message to writing its frames to this instance\'s sockets; one observation per message event with local recipients.',
    LATENCY_BUCKETS,
  );
  const lag = registry.histogram(
    'securechat_bus_lag_seconds',
    'From publishing an event on any instance to receiving it here over the PostgreSQL or Redis bus.',
    LATENCY_BUCKETS,
  );
  const resyncs = registry.counter('securechat_bus_resyncs_total', 'Times local clients were told to catch up because bus events may have been lost.');
  const slow = registry.counter('securechat_websocket_slow_consumer_drops_total', 'WebSocket connections closed for falling too far behind.');
  const refused = registry.counter(
    'securechat_websocket_frames_refused_total',
    'Frames that arrived on a WebSocket connection after its session ended (logout, expiry, idle timeout, ended from another device, password change), dropped unread.',
  );
  const cacheHits = registry.counter('securechat_message_cache_hits_total', 'Stored message bodies read from memory instead of decrypted (MESSAGE_CACHE_MB).');
  const cacheMisses = registry.counter('securechat_message_cache_misses_total', 'Stored message bodies decrypted when read: not in memory, or the cache is off.');
  const cacheBytes = registry.gauge('securechat_message_cache_bytes', 'Memory the remembered message bodies take, roughly; at most MESSAGE_CACHE_MB.');
  const uploads = registry.gauge('securechat_file_uploads_in_flight', 'File uploads this instance is receiving.');
  const received = registry.counter('securechat_file_upload_bytes_total', 'Bytes of file uploads received by this instance (rate() gives the upload rate).');
  const served = registry.counter('securechat_file_download_bytes_total', 'Bytes of files and thumbnails served by this instance (rate() gives the download rate).');
  const stored = registry.gauge('securechat_file_stored_bytes', 'Plaintext bytes of every stored file, all instances (read from the database after each change and every minute).');

  const indexBuilds = registry.histogram('securechat_search_index_build_seconds', 'Builds of this instance\'s search index (at start, after a resync, on reindex) and how long each took.', [1, 2.5, 5, 10, 25, 50, 100, 250]);
  let searchIndex: () => { messages: number; bytes: number } | undefined = () => undefined;
  registry.gaugeFn('securechat_search_index_messages', 'Messages in the search index this instance answers from.', () => searchIndex()?.messages);
  registry.gaugeFn('securechat_search_index_bytes', 'Memory the search index takes, roughly (the words of every message, in this process only).', () => searchIndex()?.bytes);

  const pool = options.poolStats;
  if (pool) {
    registry.gaugeFn('securechat_db_pool_connections', 'PostgreSQL connections held by the pool (busy and idle).', () => pool().total);
    registry.gaugeFn('securechat_db_pool_idle_connections', 'PostgreSQL connections idle in the pool.', () => pool().idle);
    registry.gaugeFn('securechat_db_pool_waiting_clients', 'Queries waiting for a pool connection.', () => pool().waiting);
    registry.gaugeFn('securechat_db_pool_max_connections', 'The pool\'s maximum size.', () => pool().max);
  }

  const startTime = (now() - process.uptime() * 1000) / 1000;
  registry.gaugeFn('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', () => startTime);
  registry.gaugeFn('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  registry.gaugeFn('nodejs_heap_size_total_bytes', 'V8 heap size in bytes.', () => process.memoryUsage().heapTotal);
  registry.gaugeFn('nodejs_heap_size_used_bytes', 'V8 heap in use in bytes.', () => process.memoryUsage().heapUsed);
  registry.gaugeFn('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects (buffers included) in bytes.', () => process.memoryUsage().external);

  return {
    socketOpened: () => sockets.inc(),
    socketClosed: () => sockets.dec(),
    messageSent: () => sent.inc(),
    messageDelivered(frames, publishedAt) {
      if (frames <= 0) return;
      delivered.inc(frames);
      if (publishedAt !== undefined) delivery.observe(sinceMs(publishedAt));
    },
    busReceived: (publishedAt) => lag.observe(sinceMs(publishedAt)),
    busResync: () => resyncs.inc(),
    slowConsumerDropped: () => slow.inc(),
    socketFrameRefused: () => refused.inc(),
    messageCacheRead: (hit) => (hit ? cacheHits : cacheMisses).inc(),
    messageCacheSize: (bytes) => cacheBytes.set(bytes),
    fileUploads: (change) => uploads.inc(change),
    fileBytesReceived: (bytes) => received.inc(bytes),
    fileBytesSent: (bytes) => served.inc(bytes),
    fileBytesStored: (bytes) => stored.set(bytes),
    searchIndexBuilt(seconds, read) {
      indexBuilds.observe(seconds);
      searchIndex = read;
    },
    render: () => registry.render(),
  };
}

/** Metrics that count nothing, for parts built without them. */
export const noMetrics: Metrics = {
  socketOpened: () => undefined,
  socketClosed: () => undefined,
  messageSent: () => undefined,
  messageDelivered: () => undefined,
  busReceived: () => undefined,
  busResync: () => undefined,
  slowConsumerDropped: () => undefined,
  socketFrameRefused: () => undefined,
  messageCacheRead: () => undefined,
  messageCacheSize: () => undefined,
  fileUploads: () => undefined,
  fileBytesReceived: () => undefined,
  fileBytesSent: () => undefined,
  fileBytesStored: () => undefined,
  searchIndexBuilt: () => undefined,
  render: () => '',
};

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/**
 * A direct connection from this host. The TCP peer decides, never a header a client can
 * write; and a request relayed by a proxy on this host (it says so in a forwarding
 * header) comes from elsewhere, so it is not loopback even when TRUST_PROXY is off.
 */
export function isDirectLoopback(request: FastifyRequest): boolean {
  const peer = request.socket.remoteAddress ?? '';
  return LOOPBACK.test(peer) && FORWARDING_HEADERS.every((name) => request.headers[name] === undefined);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** `GET /metrics`: loopback, or `Authorization: Bearer <token>` when a token is configured; else 403. */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics; token: string | undefined }> = async (app, { metrics, token }) => {
  const expected = token === undefined ? undefined : digest(token);

  function presentsToken(request: FastifyRequest): boolean {
    const match = /^Bearer +(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    // Digests have one length, so the comparison takes the same time whatever was sent.
    return expected !== undefined && match !== null && timingSafeEqual(digest(match[1]!), expected);
  }

  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!isDirectLoopback(request) && !presentsToken(request)) {
      throw errors.forbidden(
        expected === undefined
          ? 'Metrics are served only to this host; set METRICS_TOKEN to scrape them from elsewhere.'
          : 'Metrics need Authorization: Bearer <METRICS_TOKEN>, or a connection from this host.',
      );
    }
    return reply.header('content-type', METRICS_CONTENT_TYPE).header('cache-control', 'no-store').send(metrics.render());
  });
};
