/**
 * GET /metrics: valid Prometheus text, counters that move with real traffic (a message
 * sent over HTTP and written to a socket), and who may read it — a direct connection from
 * this host, or a bearer of METRICS_TOKEN; never another host, nor a request relayed by a
 * proxy on this host. The traffic part runs on both databases, with the bus main.ts would
 * pick (LISTEN/NOTIFY on PostgreSQL, so the bus lag is measured too). And the message
 * cache's hits, misses and size, with MESSAGE_CACHE_MB on and off; the search index's size.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/http/metrics.js';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { METRICS_CONTENT_TYPE } from '../../src/server/http/metrics.js';
import { connectCluster, type Cluster } from '../../src/server/platform/cluster/connect.js';
import { as, listenOnLoopback, prepareDatabase, signUp, startTestApp, testServices, type Session, type TestApp } from '../support/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { UNTHROTTLED } from '../support/unthrottled.js';
import { parsePrometheus, value } from '../support/prometheus.js';
import { connectWs, type WsClient } from '../support/ws-client.js';
import { myRooms } from '../support/factories.js';
import { isMessageId } from '../support/frames.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const OTHER_HOST = '203.0.113.7';

describe.each(DIALECTS)('metrics on %s', (dialect) => {
  let testDatabase: TestDatabase;
  let database: DatabaseHandle;
  let realtime: Cluster;
  let app: FastifyInstance;
  let base: string;
  let alice: Session;
  let bob: Session;
  let generalId: string;
  const sockets: WsClient[] = [];

  /** Scrapes over a real loopback TCP connection, as a Prometheus on this host would. */
  async function scrape() {
    const response = await fetch(`${base}/metrics`);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE);
    return parsePrometheus(await response.text());
  }

  beforeAll(async () => {
    // Built as main.ts builds it: the bus and presence main.ts would pick for this database.
    testDatabase = await createTestDatabase(dialect);
    const config = {
      ...loadConfig({ LOG_LEVEL: 'silent', ...UNTHROTTLED }),
      database: testDatabase.target,
    };
    database = openDatabase(testDatabase.target);
    const keyring = createKeyring(generateFernetKey());
    await prepareDatabase(database, keyring);
    const log = createLogger(config);
    const metrics = createMetrics({ poolStats: database.poolStats });
    realtime = await connectCluster(config, { database, keyring, log, observeLag: metrics.busReceived });
    app = await buildApp(testServices({ config, database, keyring, bus: realtime.bus, presence: realtime.presence, log, metrics }));
    base = await listenOnLoopback(app);
    alice = await signUp(app);
    bob = await signUp(app);
    const rooms = await myRooms(app, alice);
    generalId = rooms.find((room) => room.name === 'General')!.id;
  });

  afterAll(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    await app?.close();
    await realtime?.close();
    await database?.close();
    await testDatabase?.drop();
  });

  it('serves every metric in the Prometheus text format, the pool only on PostgreSQL', async () => {
    const families = await scrape();
    for (const [name, type] of [
      ['securechat_websocket_connections', 'gauge'],
      ['securechat_messages_sent_total', 'counter'],
      ['securechat_messages_delivered_total', 'counter'],
      ['securechat_message_delivery_seconds', 'histogram'],
      ['securechat_bus_lag_seconds', 'histogram'],
      ['securechat_bus_resyncs_total', 'counter'],
      ['securechat_websocket_slow_consumer_drops_total', 'counter'],
      ['securechat_message_cache_hits_total', 'counter'],
      ['securechat_message_cache_misses_total', 'counter'],
      ['securechat_message_cache_bytes', 'gauge'],
      ['process_resident_memory_bytes', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
    ] as const) {
      expect(families.get(name)?.type, name).toBe(type);
      expect(families.get(name)?.help, name).toMatch(/\w/);
    }
    expect(value(families, 'process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    const poolMetrics = [...families.keys()].filter((name) => name.startsWith('securechat_db_pool_'));
    if (dialect === 'postgres') {
      expect(poolMetrics.sort()).toEqual([
        'securechat_db_pool_connections',
        'securechat_db_pool_idle_connections',
        'securechat_db_pool_max_connections',
        'securechat_db_pool_waiting_clients',
      ]);
      expect(value(families, 'securechat_db_pool_connections')).toBeGreaterThanOrEqual(1);
      expect(value(families, 'securechat_db_pool_max_connections')).toBe(10);
      expect(value(families, 'securechat_db_pool_waiting_clients')).toBe(0);
    } else {
      expect(poolMetrics).toEqual([]);
    }
  });

  it("reports the search index this instance answers from: one build, its messages (a new one counted once heard) and its memory", async () => {
    let families = await scrape();
    for (let tries = 0; !families.has('securechat_search_index_messages') && tries < 100; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      families = await scrape();
    }
    expect(families.get('securechat_search_index_build_seconds')?.type).toBe('histogram');
    expect(value(families, 'securechat_search_index_build_seconds_count')).toBe(1);
    expect(value(families, 'securechat_search_index_bytes')).toBeGreaterThan(0);
    const before = value(families, 'securechat_search_index_messages');
    const sent = await app.inject({ method: 'POST', url: `/api/v1/rooms/${generalId}/messages`, headers: as(alice), payload: { body: 'indexed and counted', clientId: randomUUID() } });
    expect(sent.statusCode, sent.body).toBe(201);
    await vi.waitFor(async () => expect(value(await scrape(), 'securechat_search_index_messages')).toBe(before + 1));
  });

  it('counts a message sent over HTTP, its frame written to a socket, and the socket itself', async () => {
    const before = await scrape();
    expect(value(before, 'securechat_websocket_connections')).toBe(0);

    const socket = await connectWs(base, { cookie: bob.cookie });
    sockets.push(socket);
    const clientId = randomUUID();
    const sent = await app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${generalId}/messages`,
      headers: as(alice),
      payload: { body: 'counted once', clientId },
    });
    expect(sent.statusCode, sent.body).toBe(201);
    const { message } = sent.json() as { message: { id: string } };
    await socket.waitFor(isMessageId(message.id));
    // A retry of the same clientId is the same message: not sent twice.
    const retried = await app.inject({
      method: 'POST',
      url: `/api/v1/rooms/${generalId}/messages`,
      headers: as(alice),
      payload: { body: 'counted once', clientId },
    });
    expect(retried.statusCode, retried.body).toBe(200);

    const after = await scrape();
    const delta = (name: string) => value(after, name) - value(before, name);
    expect(value(after, 'securechat_websocket_connections')).toBe(1);
    expect(delta('securechat_messages_sent_total')).toBe(1);
    expect(delta('securechat_messages_delivered_total')).toBe(1); // bob's one socket; alice has none
    expect(delta('securechat_message_delivery_seconds_count')).toBe(1);
    expect(value(after, 'securechat_message_delivery_seconds_sum')).toBeLessThan(5);
    if (dialect === 'postgres') {
      // Every event crossed LISTEN/NOTIFY (the message, bob's presence) and was stamped.
      expect(delta('securechat_bus_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    } else {
      expect(value(after, 'securechat_bus_lag_seconds_count')).toBe(0); // in-process: no bus to lag
    }

    await socket.close();
    await vi.waitFor(async () => expect(value(await scrape(), 'securechat_websocket_connections')).toBe(0), { timeout: 3_000 });
  });
});

describe('who may read the metrics', () => {
  let open: TestApp;
  let withToken: TestApp;

  beforeAll(async () => {
    [open, withToken] = await Promise.all([startTestApp('sqlite'), startTestApp('sqlite', { METRICS_TOKEN: TOKEN, FORCE_HTTPS: 'true' })]);
  });
  afterAll(async () => {
    await open?.close();
    await withToken?.close();
  });

  const get = (t: TestApp, options: { from?: string; headers?: Record<string, string> } = {}) =>
    t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: options.from ?? '127.0.0.1', headers: options.headers ?? {} });

  it('answers a direct connection from this host, over IPv4 or IPv6', async () => {
    for (const from of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const response = await get(open, { from });
      expect(response.statusCode, from).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
    }
  });

  it('refuses another host with 403 in the API error shape, saying how to get access', async () => {
    for (const from of [OTHER_HOST, '10.0.0.8', '::ffff:192.168.1.2', '2001:db8::1']) {
      const response = await get(open, { from });
      expect(response.statusCode, from).toBe(403);
      expect(response.json()).toEqual({ error: { code: 'forbidden', message: expect.stringMatching(/METRICS_TOKEN/) } });
    }
    // A token is no use when none is configured.
    expect((await get(open, { from: OTHER_HOST, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(403);
  });

  it('refuses a request a proxy on this host relayed, whatever address it claims', async () => {
    const relayed: Array<Record<string, string>> = [{ 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for=127.0.0.1' }, { 'x-real-ip': '127.0.0.1' }];
    for (const headers of relayed) {
      const response = await get(open, { headers });
      expect(response.statusCode, JSON.stringify(headers)).toBe(403);
    }
  });

  it('answers another host presenting the configured token, and no one with a wrong one', async () => {
    const ok = await get(withToken, { from: OTHER_HOST, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toBe(METRICS_CONTENT_TYPE);
    expect(() => parsePrometheus(ok.body)).not.toThrow();
    expect((await get(withToken, { from: OTHER_HOST, headers: { authorization: `bearer ${TOKEN}` } })).statusCode).toBe(200);
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, TOKEN, 'Bearer ']) {
      const response = await get(withToken, { from: OTHER_HOST, headers: authorization === undefined ? {} : { authorization } });
      expect(response.statusCode, String(authorization)).toBe(403);
      expect(response.json().error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/Bearer <METRICS_TOKEN>/) });
      expect(response.body).not.toContain(TOKEN);
    }
    // Through a proxy, the token is what counts.
    const relayed = await get(withToken, { headers: { 'x-forwarded-for': OTHER_HOST, authorization: `Bearer ${TOKEN}` } });
    expect(relayed.statusCode).toBe(200);
  });

  it('stays on plain HTTP under FORCE_HTTPS, like the health probes, so a scraper inside the network reaches it', async () => {
    expect((await get(withToken)).statusCode).toBe(200);
    expect((await withToken.app.inject({ method: 'GET', url: '/api/v1/auth/session' })).statusCode).toBe(308);
  });

  it('METRICS_TOKEN is validated at start without repeating it', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: ` ${TOKEN} ` }).metricsToken).toBe(TOKEN);
    for (const bad of ['short', 'has a space in the middle of it', 'x'.repeat(257)]) {
      expect(() => loadConfig({ METRICS_TOKEN: bad })).toThrow(ConfigError);
      try {
        loadConfig({ METRICS_TOKEN: bad });
      } catch (error) {
        expect((error as Error).message).toMatch(/^METRICS_TOKEN must be/);
        expect((error as Error).message).not.toContain(bad);
      }
    }
  });
});

describe('message cache metrics, with MESSAGE_CACHE_MB as the environment sets it', () => {
  let cached: TestApp;
  let uncached: TestApp;

  beforeAll(async () => {
    [cached, uncached] = await Promise.all([startTestApp('sqlite'), startTestApp('sqlite', { MESSAGE_CACHE_MB: '0' })]);
  });
  afterAll(async () => {
    await cached?.close();
    await uncached?.close();
  });

  /** Posts three messages to General, then reads its newest page twice; the cache's figures before and after the reads. */
  async function readTwice(t: TestApp) {
    const scrape = async () => parsePrometheus((await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body);
    const alice = await signUp(t.app);
    const rooms = await myRooms(t.app, alice);
    const url = `/api/v1/rooms/${rooms.find((room) => room.name === 'General')!.id}/messages`;
    for (const body of ['one', 'two', 'three']) {
      const sent = await t.app.inject({ method: 'POST', url, headers: as(alice), payload: { body, clientId: randomUUID() } });
      expect(sent.statusCode, sent.body).toBe(201);
    }
    const before = await scrape();
    for (let read = 0; read < 2; read++) {
      const page = await t.app.inject({ method: 'GET', url, headers: as(alice) });
      expect((page.json() as { messages: Array<{ body: string }> }).messages.map((m) => m.body)).toEqual(['one', 'two', 'three']);
    }
    const after = await scrape();
    const delta = (name: string) => value(after, name) - value(before, name);
    return { hits: delta('securechat_message_cache_hits_total'), misses: delta('securechat_message_cache_misses_total'), bytes: value(after, 'securechat_message_cache_bytes') };
  }

  it('counts the second read of a page as hits, and the bytes the bodies hold', async () => {
    // Sent bodies are not remembered (message-bodies.ts): the first read decrypts all three.
    const { hits, misses, bytes } = await readTwice(cached);
    expect({ hits, misses }).toEqual({ hits: 3, misses: 3 });
    // Each remembered body costs its token and its text as UTF-16, plus a little for the entry.
    const rows = await cached.database.db.selectFrom('messages').select('body_ciphertext').execute();
    const strings = rows.reduce((sum, row) => sum + 2 * row.body_ciphertext.length, 0) + 2 * 'onetwothree'.length;
    expect(rows).toHaveLength(3);
    expect(bytes).toBeGreaterThanOrEqual(strings);
    expect(bytes).toBeLessThanOrEqual(strings + 3 * 256);
  });

  it('decrypts every read and holds nothing when MESSAGE_CACHE_MB is 0', async () => {
    expect(uncached.config.messageCacheMb).toBe(0);
    expect(await readTwice(uncached)).toEqual({ hits: 0, misses: 6, bytes: 0 });
  });
});
