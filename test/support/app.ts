/**
 * A real SecureChat app on a fresh test database, as main.ts builds it, with a
 * movable clock and a cheaper scrypt cost (the production cost is covered by the
 * password unit tests; here it would only slow every registration down).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { composeServices, type ServicesDeps, type Services } from '../../src/server/compose.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/http/metrics.js';
import { systemClock, type Clock } from '../../src/server/clock.js';
import { loadConfig, type Config } from '../../src/server/config.js';
import { createKeyring, type Keyring } from '../../src/server/crypto/keyring.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createPasswordHasher } from '../../src/server/crypto/passwords.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import { createMemoryBus } from '../../src/server/platform/cluster/bus.js';
import { createKeysRepository } from '../../src/server/keys/keys.repository.js';
import { createKeysService } from '../../src/server/keys/keys.service.js';
import type { Invite, Message, MessagePage, Room } from '../../src/shared/protocol.js';
import { createInvite, createRoom, inviteInto, joinRoom, readPage, sendMessage, type RoomFields } from './factories.js';
import { as, type Session } from './http.js';
import type { BaseUrl } from './ws-client.js';
import { createTestDatabase, type Dialect, type TestDatabase } from './databases.js';
import { UNTHROTTLED } from './unthrottled.js';

export const fastPasswords = createPasswordHasher({ N: 1024, r: 8, p: 1 });

const TEST_ENV: Record<string, string> = { LOG_LEVEL: 'silent', ...UNTHROTTLED };

export class TestClock implements Clock {
  constructor(private current = Date.now()) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface TestApp {
  app: FastifyInstance;
  /** The services the app was built on (the gateway, to close its sockets without closing the app). */
  services: Services;
  database: DatabaseHandle;
  /** The SQL of every query the app has run, in order (clear it to count a step's queries). */
  queries: string[];
  keyring: Keyring;
  clock: TestClock;
  config: Config;
  testDatabase: TestDatabase;
  close(): Promise<void>;
}

const TEST_SESSION_SECRET = 'test-session-secret-that-is-long-enough-0123456789';

/**
 * The services as compose.ts builds them, with the test defaults: a cheaper scrypt cost,
 * the system clock, an in-process bus, a silent logger and a fresh metrics registry.
 */
export function testServices(
  deps: Pick<ServicesDeps, 'config' | 'database' | 'keyring'> & Partial<Omit<ServicesDeps, 'config' | 'database' | 'keyring'>>,
): Services {
  return composeServices({
    passwords: fastPasswords,
    clock: systemClock,
    bus: createMemoryBus(),
    sessionSecret: TEST_SESSION_SECRET,
    log: createLogger(deps.config),
    metrics: createMetrics({ poolStats: deps.database.poolStats }),
    ...deps,
  });
}

/** Migrates the database to the latest schema and verifies the keyring (recording it on a new database), as main.ts does before it serves. */
export async function prepareDatabase(database: Pick<DatabaseHandle, 'db' | 'dialect'>, keyring: Keyring, clock: Clock = systemClock): Promise<void> {
  await migrateToLatest(database.db);
  await createKeysService({ db: database.db, keys: createKeysRepository(database.dialect), keyring, clock }).verify();
}

/** Listens on a free loopback port; the base URL, `http://127.0.0.1:<port>`. */
export async function listenOnLoopback(app: FastifyInstance): Promise<BaseUrl> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** Builds the app on a fresh database of the dialect; env entries override the defaults, `deps` the test services' parts. */
export async function startTestApp(
  dialect: Dialect,
  env: Record<string, string> = {},
  deps: Partial<Pick<ServicesDeps, 'passwords' | 'counters' | 'prepareImage'>> = {},
): Promise<TestApp> {
  const testDatabase = await createTestDatabase(dialect);
  // Uploaded files go to a folder of this app's own (never the working copy's data/), removed on close.
  const filesDir = env.FILES_DIR === undefined ? await mkdtemp(path.join(os.tmpdir(), 'securechat-files-')) : undefined;
  const config = { ...loadConfig({ ...TEST_ENV, ...(filesDir ? { FILES_DIR: filesDir } : {}), ...env }), database: testDatabase.target };
  const queries: string[] = [];
  const database = openDatabase(testDatabase.target, { onQuery: (sql) => queries.push(sql) });
  const keyring = createKeyring(generateFernetKey());
  const clock = new TestClock();
  await prepareDatabase(database, keyring, clock);
  const services = testServices({ config, database, keyring, clock, ...deps });
  const app = await buildApp(services);
  await app.ready();
  await services.searchReady;
  return {
    app,
    services,
    database,
    queries,
    keyring,
    clock,
    config,
    testDatabase,
    async close() {
      await app.close();
      await database.close();
      await testDatabase.drop();
      if (filesDir) await rm(filesDir, { recursive: true, force: true });
    },
  };
}

/**
 * The suite's app: started in beforeAll (registered here, so it runs before the suite's
 * own) and closed in afterAll (after the suite's own). Its fields read the started app.
 */
export function useTestApp(dialect: Dialect, env: Record<string, string> = {}): TestApp {
  let started: TestApp | undefined;
  beforeAll(async () => {
    started = await startTestApp(dialect, env);
  });
  afterAll(async () => {
    await started?.close();
  });
  const current = (): TestApp => {
    if (!started) throw new Error('the test app starts in beforeAll');
    return started;
  };
  return {
    get app() { return current().app; },
    get services() { return current().services; },
    get database() { return current().database; },
    get queries() { return current().queries; },
    get keyring() { return current().keyring; },
    get clock() { return current().clock; },
    get config() { return current().config; },
    get testDatabase() { return current().testDatabase; },
    close: () => current().close(),
  };
}

export { as, cookieFrom, type Session } from './http.js';
export { logIn, signUp, TEST_PASSWORD, uniqueName } from './factories.js';

/**
 * The requests most API tests make, against whichever app `appOf` returns when called
 * (suites start theirs in beforeAll): raw `get`/`post` answering as `inject` does, and
 * the factories of factories.ts bound to the app.
 */
export function apiClient(appOf: () => FastifyInstance) {
  const get = (session: Session | null, url: string) =>
    appOf().inject({ method: 'GET', url, headers: session ? { cookie: session.cookie } : {} });
  const post = (session: Session | null, url: string, payload?: unknown) =>
    appOf().inject({ method: 'POST', url, headers: session ? as(session) : {}, ...(payload === undefined ? {} : { payload: payload as object }) });

  return {
    get,
    post,
    createRoom: (owner: Session, fields: RoomFields = {}): Promise<Room> => createRoom(appOf, owner, fields),
    join: (session: Session, roomId: string): Promise<void> => joinRoom(appOf, session, roomId),
    /** Sends over HTTP and returns the stored message. */
    send: (session: Session, roomId: string, body: string, clientId?: string): Promise<Message> => sendMessage(appOf, session, roomId, body, clientId),
    createInvite: (session: Session, roomId: string, fields: { expiresInHours?: number; maxUses?: number } = {}): Promise<Invite> =>
      createInvite(appOf, session, roomId, fields),
    /** The owner invites the guest into the room, and the guest accepts. */
    invite: (owner: Session, roomId: string, guest: Session): Promise<void> => inviteInto(appOf, owner, roomId, guest),
    readPage: (session: Session, roomId: string, query = ''): Promise<MessagePage> => readPage(appOf, session, roomId, query),
  };
}
