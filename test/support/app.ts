/**
 * A real SecureChat app on a fresh test database, as main.ts builds it, with a
 * movable clock and a cheaper scrypt cost (the production cost is covered by the
 * password unit tests; here it would only slow every registration down).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { composeServices, createLogger, type ServicesDeps, type Services } from '../../src/server/compose.js';
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
import type { Message, Room } from '../../src/shared/protocol.js';
import { createTestDatabase, type Dialect, type TestDatabase } from './databases.js';

export const TEST_PASSWORD = 'correct horse battery staple';
export const fastPasswords = createPasswordHasher({ N: 1024, r: 8, p: 1 });

// Suites register many users from one IP; the rate-limit suite sets its own small limits.
const TEST_ENV: Record<string, string> = {
  LOG_LEVEL: 'silent',
  RATE_LIMIT_LOGIN_PER_MINUTE: '1000000',
  RATE_LIMIT_REGISTER_PER_HOUR: '1000000',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '1000000',
  RATE_LIMIT_FRAMES_PER_MINUTE: '1000000',
};

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

/** Builds the app on a fresh database of the dialect; env entries override the defaults. */
export async function startTestApp(dialect: Dialect, env: Record<string, string> = {}): Promise<TestApp> {
  const testDatabase = await createTestDatabase(dialect);
  const config = { ...loadConfig({ ...TEST_ENV, ...env }), database: testDatabase.target };
  const queries: string[] = [];
  const database = openDatabase(testDatabase.target, { onQuery: (sql) => queries.push(sql) });
  await migrateToLatest(database.db);
  const keyring = createKeyring(generateFernetKey());
  const clock = new TestClock();
  await createKeysService({ db: database.db, keys: createKeysRepository(database.dialect), keyring, clock }).verify();
  const app = await buildApp(testServices({ config, database, keyring, clock }));
  await app.ready();
  return {
    app,
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
    },
  };
}

/** A signed-in user: the cookie header and CSRF token to send with requests. */
export interface Session {
  user: { id: string; username: string; createdAt: string };
  cookie: string;
  csrfToken: string;
}

let userCounter = 0;

/** A unique, valid username for this test run. */
export function uniqueName(prefix = 'user'): string {
  userCounter += 1;
  return `${prefix}${userCounter}_${Math.random().toString(36).slice(2, 7)}`;
}

export function cookieFrom(response: LightMyRequestResponse): string {
  const setCookie = response.headers['set-cookie'];
  const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (!first) throw new Error(`no cookie in response ${response.statusCode}: ${response.body}`);
  return first.split(';')[0]!;
}

/** Registers and logs in a new user through the API. */
export async function signUp(app: FastifyInstance, username = uniqueName(), options: { rememberMe?: boolean } = {}): Promise<Session> {
  const register = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { username, email: `${username}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD },
  });
  if (register.statusCode !== 201) throw new Error(`register failed: ${register.statusCode} ${register.body}`);
  return logIn(app, username, TEST_PASSWORD, options);
}

export async function logIn(app: FastifyInstance, username: string, password: string, options: { rememberMe?: boolean } = {}): Promise<Session> {
  const login = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password, rememberMe: options.rememberMe ?? false },
  });
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.statusCode} ${login.body}`);
  const body = login.json() as { user: Session['user']; csrfToken: string };
  return { user: body.user, cookie: cookieFrom(login), csrfToken: body.csrfToken };
}

/** Headers that authenticate a request as the session (with CSRF for state changes). */
export function as(session: Session): Record<string, string> {
  return { cookie: session.cookie, 'x-csrf-token': session.csrfToken };
}

/**
 * The requests most API tests make, against whichever app `appOf` returns when called
 * (suites start theirs in beforeAll). The helpers that set things up throw on anything
 * but success: a test asserts on what it is about, not on its preparations.
 */
export function apiClient(appOf: () => FastifyInstance) {
  const get = (session: Session | null, url: string) =>
    appOf().inject({ method: 'GET', url, headers: session ? { cookie: session.cookie } : {} });
  const post = (session: Session | null, url: string, payload?: unknown) =>
    appOf().inject({ method: 'POST', url, headers: session ? as(session) : {}, ...(payload === undefined ? {} : { payload: payload as object }) });

  return {
    get,
    post,
    async createRoom(owner: Session, fields: { name?: string; description?: string; isPrivate?: boolean } = {}): Promise<Room> {
      const response = await post(owner, '/api/v1/rooms', { name: uniqueName('Room'), ...fields });
      if (response.statusCode !== 201) throw new Error(`create room failed: ${response.statusCode} ${response.body}`);
      return response.json().room as Room;
    },
    async join(session: Session, roomId: string): Promise<void> {
      const response = await post(session, `/api/v1/rooms/${roomId}/join`);
      if (response.statusCode !== 200) throw new Error(`join failed: ${response.statusCode} ${response.body}`);
    },
    /** Sends over HTTP and returns the stored message. */
    async send(session: Session, roomId: string, body: string, clientId: string = randomUUID()): Promise<Message> {
      const response = await post(session, `/api/v1/rooms/${roomId}/messages`, { body, clientId });
      if (response.statusCode !== 201) throw new Error(`send failed: ${response.statusCode} ${response.body}`);
      return response.json().message as Message;
    },
  };
}
