/**
 * The throttle in front of every password check: the slot is taken before the password is
 * checked, so concurrent guesses — on one instance or split across two sharing the counters
 * — reach scrypt only within the budget; a guesser from one address slows down alone (the
 * owner from another address gets in); past the account budget each guessing address waits
 * its own delay and the owner still gets in, and the owner's sign-ins do not renew the budget; password change counts against the same budgets; one
 * account's flood of password checks cannot hold back another account's sign-in; and the
 * shared counters hold no username or address in clear.
 */
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createHashingQueue, type HashingQueue } from '../../src/server/crypto/hashing-queue.js';
import { createPasswordHasher, type PasswordHasher } from '../../src/server/crypto/passwords.js';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database.js';
import { createRedisCounterStore } from '../../src/server/platform/cluster/counters-redis.js';
import { createSqlCounterStore } from '../../src/server/platform/cluster/counters-sql.js';
import { as, prepareDatabase, signUp, startTestApp, TestClock, TEST_PASSWORD, testServices, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { dropRedisPrefix, redisForTests, uniqueRedisPrefix } from '../support/redis.js';
import { UNTHROTTLED } from '../support/unthrottled.js';

const redis = await redisForTests();

/** A cheap hasher on its own queue (no per-account bound unless asked), counting the password checks that ran. */
function countingHasher(queue: HashingQueue = createHashingQueue({ slots: 1, perOwner: 1000, maxWaiting: 1000 })) {
  const inner = createPasswordHasher({ N: 1024, r: 8, p: 1 }, queue);
  let checks = 0;
  const hasher: PasswordHasher = {
    hash: (password, owner) => inner.hash(password, owner),
    verify: async (password, stored, owner) => {
      const check = await inner.verify(password, stored, owner);
      checks += 1;
      return check;
    },
  };
  return { hasher, checks: () => checks };
}

type CounterKind = 'sqlite' | 'postgres' | 'redis';

interface Instances {
  apps: FastifyInstance[];
  handles: DatabaseHandle[];
  clock: TestClock;
  checks(): number;
  close(): Promise<void>;
}

/** `count` app instances on one database, sharing the counters of the kind (the database's tables, or Redis). */
async function startInstances(kind: CounterKind, count: number, env: Record<string, string>): Promise<Instances> {
  if (kind === 'redis') redis.require();
  const testDatabase: TestDatabase = await createTestDatabase(kind === 'postgres' ? 'postgres' : 'sqlite');
  const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...UNTHROTTLED, ...env }), database: testDatabase.target };
  const keyring = createKeyring(generateFernetKey());
  const clock = new TestClock();
  const { hasher, checks } = countingHasher();
  const handles = Array.from({ length: count }, () => openDatabase(testDatabase.target));
  await prepareDatabase(handles[0]!, keyring, clock);
  const prefix = uniqueRedisPrefix();
  const clients: Redis[] = [];
  const apps: FastifyInstance[] = [];
  for (const handle of handles) {
    const client = kind === 'redis' ? new Redis(redis.url) : undefined;
    if (client) clients.push(client);
    const counters = client ? createRedisCounterStore(client, prefix) : createSqlCounterStore(handle.db);
    const app = await buildApp(testServices({ config, database: handle, keyring, clock, counters, passwords: hasher }));
    await app.ready();
    apps.push(app);
  }
  return {
    apps,
    handles,
    clock,
    checks,
    async close() {
      for (const app of apps) await app.close();
      for (const client of clients) client.disconnect();
      if (kind === 'redis') await dropRedisPrefix(redis.url, prefix);
      for (const handle of handles) await handle.close();
      await testDatabase.drop();
    },
  };
}

const login = (app: FastifyInstance, username: string, password: string, ip = '10.0.0.1') =>
  app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress: ip });

const statuses = (answers: Array<{ statusCode: number }>) => answers.map((answer) => answer.statusCode).sort();

const KINDS: Array<{ kind: CounterKind; title: string }> = [
  { kind: 'sqlite', title: 'SQLite tables' },
  { kind: 'postgres', title: 'PostgreSQL tables' },
  { kind: 'redis', title: `Redis${redis.note}` },
];

describe.each(KINDS)('two instances sharing the counters in $title', ({ kind }) => {
  let instances: Instances | undefined;
  afterEach(async () => {
    await instances?.close();
    instances = undefined;
  });

  it('lets concurrent wrong guesses split across the instances reach scrypt only within the budget', async () => {
    instances = await startInstances(kind, 2, { RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '5', RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '1000' });
    const { apps, clock } = instances;
    const victim = await signUp(apps[0]!);
    const checksBefore = instances.checks();

    // A fresh account: 12 guesses at once, alternating instances. Five are checked.
    const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => login(apps[i % 2]!, victim.user.username, `wrong guess ${i}`)));
    expect(instances.checks() - checksBefore).toBe(5);
    expect(statuses(burst)).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
    for (const answer of burst.filter((a) => a.statusCode === 429)) expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);

    // The delay lapses: of 40 guesses at once, one is checked; the next delay has doubled.
    clock.advance(1_000);
    const afterDelay = await Promise.all(Array.from({ length: 40 }, (_, i) => login(apps[i % 2]!, victim.user.username, `late guess ${i}`)));
    expect(instances.checks() - checksBefore).toBe(6);
    expect(statuses(afterDelay).filter((status) => status === 401)).toHaveLength(1);
    const later = await login(apps[1]!, victim.user.username, TEST_PASSWORD);
    expect(later.statusCode).toBe(429);
    expect(later.headers['retry-after']).toBe('2');
  });

  it('lets the owner in from a new address at once after guesses from many addresses spent the account budget, while each guessing address waits its own doubling delay', async () => {
    instances = await startInstances(kind, 2, { RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '5', RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '8' });
    const { apps, clock } = instances;
    const owner = await signUp(apps[0]!);
    const name = owner.user.username;
    const guessers = Array.from({ length: 8 }, (_, i) => `10.8.0.${i}`);
    // One guess from each of eight addresses spends the account budget.
    for (const [i, ip] of guessers.entries()) expect((await login(apps[i % 2]!, name, `guess ${i}`, ip)).statusCode).toBe(401);
    // The guesser keeps on, from every address, each time its window opens.
    const round = async () => Promise.all(guessers.map((ip, i) => login(apps[i % 2]!, name, `more guess ${i}`, ip)));
    for (const answer of await round()) expect(answer.statusCode).toBe(401);
    const refused = await round();
    expect(statuses(refused)).toEqual(Array(8).fill(429));
    // Past the account budget an address has no free failures: its second one waits 2 s.
    for (const answer of refused) expect(answer.headers['retry-after']).toBe('2');
    clock.advance(2_000);
    for (const answer of await round()) expect(answer.statusCode).toBe(401);
    expect((await round()).every((answer) => answer.headers['retry-after'] === '4')).toBe(true);
    // Every window the guesser could take is taken, yet the owner from a new address gets in.
    expect((await login(apps[1]!, name, TEST_PASSWORD, '10.9.0.3')).statusCode).toBe(200);
    // A typo from there waits only that address's own first delay.
    expect((await login(apps[0]!, name, 'a typo', '10.9.0.4')).statusCode).toBe(401);
    const typoDelay = await login(apps[0]!, name, TEST_PASSWORD, '10.9.0.4');
    expect(typoDelay.statusCode).toBe(429);
    expect(typoDelay.headers['retry-after']).toBe('1');
    clock.advance(1_000);
    expect((await login(apps[1]!, name, TEST_PASSWORD, '10.9.0.4')).statusCode).toBe(200);
  });

  it('does not give the account budget back when the owner signs in', async () => {
    instances = await startInstances(kind, 2, { RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '5', RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '8' });
    const { apps, clock } = instances;
    const owner = await signUp(apps[0]!);
    const name = owner.user.username;
    for (let i = 0; i < 8; i += 1) expect((await login(apps[i % 2]!, name, `guess ${i}`, `10.8.0.${i}`)).statusCode).toBe(401);
    // The owner signs in (waiting out any delay the throttle asks for).
    let signIn = await login(apps[0]!, name, TEST_PASSWORD, '10.9.0.3');
    while (signIn.statusCode === 429) {
      clock.advance(Number(signIn.headers['retry-after']) * 1_000);
      signIn = await login(apps[0]!, name, TEST_PASSWORD, '10.9.0.3');
    }
    expect(signIn.statusCode).toBe(200);
    // A fresh guessing address still finds the budget spent: no free failures, a delay after one.
    expect((await login(apps[1]!, name, 'guess again', '10.7.0.1')).statusCode).toBe(401);
    const next = await login(apps[0]!, name, 'and again', '10.7.0.1');
    expect(next.statusCode).toBe(429);
    expect(next.headers['retry-after']).toBe('1');
  });
});

describe('sign-in throttle', () => {
  let t: TestApp | undefined;
  let instances: Instances | undefined;
  afterEach(async () => {
    await t?.close();
    await instances?.close();
    t = undefined;
    instances = undefined;
  });

  it('slows the guessing address alone: the owner signs in from another address at once', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '5', RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '8' });
    const owner = await signUp(t.app);
    const name = owner.user.username;
    for (let i = 0; i < 5; i += 1) expect((await login(t.app, name, 'wrong password', '10.9.0.1')).statusCode).toBe(401);
    const slowed = await login(t.app, name, 'wrong password', '10.9.0.1');
    expect(slowed.statusCode).toBe(429);
    expect(slowed.headers['retry-after']).toBe('1');
    // Five wrong guesses by someone else do not keep the owner out.
    expect((await login(t.app, name, TEST_PASSWORD, '10.9.0.2')).statusCode).toBe(200);
    // The owner's success cleared the owner's address only: the guessing one still waits.
    expect((await login(t.app, name, TEST_PASSWORD, '10.9.0.1')).statusCode).toBe(429);
  });

  it('counts an IPv6 host by its /64: new addresses in the same /64 share its failures, another /64 does not', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '5', RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '1000' });
    const owner = await signUp(t.app);
    const name = owner.user.username;
    for (let i = 1; i <= 5; i += 1) expect((await login(t.app, name, 'wrong password', `2001:db8:0:1::${i}`)).statusCode).toBe(401);
    const slowed = await login(t.app, name, 'wrong password', '2001:db8:0:1:ffff::6');
    expect(slowed.statusCode).toBe(429);
    expect(slowed.headers['retry-after']).toBe('1');
    expect((await login(t.app, name, TEST_PASSWORD, '2001:db8:0:2::1')).statusCode).toBe(200);
  });

  it('past the account budget counts an IPv6 guesser by its /48: a fresh /64 of the same /48 is slowed, another /48 is not', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '5', RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '3' });
    const owner = await signUp(t.app);
    const name = owner.user.username;
    for (let i = 1; i <= 3; i += 1) expect((await login(t.app, name, 'wrong password', `10.8.0.${i}`)).statusCode).toBe(401);
    // The budget is spent: the first /64 of the guesser's /48 gets its one attempt at once …
    expect((await login(t.app, name, 'wrong password', '2001:db8:7:1::1')).statusCode).toBe(401);
    // … and a fresh /64 of that /48 is no new address.
    expect((await login(t.app, name, 'wrong password', '2001:db8:7:2::1')).statusCode).toBe(429);
    expect((await login(t.app, name, TEST_PASSWORD, '2001:db8:8:1::1')).statusCode).toBe(200);
  });

  it('throttles the current password of a password change like a sign-in, in the same budgets', async () => {
    t = await startTestApp('sqlite', { RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '5', RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '50' });
    const alice = await signUp(t.app);
    const change = (currentPassword: string, newPassword = 'a brand new passphrase') =>
      t!.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: as(alice), payload: { currentPassword, newPassword }, remoteAddress: '10.7.0.1' });
    for (let i = 0; i < 5; i += 1) expect((await change(`wrong current ${i}`)).statusCode).toBe(400);
    const limited = await change('wrong current again');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    expect(limited.headers['retry-after']).toBe('1');
    // The right password waits too, and so does a sign-in from that address: one budget.
    expect((await change(TEST_PASSWORD)).statusCode).toBe(429);
    expect((await login(t.app, alice.user.username, TEST_PASSWORD, '10.7.0.1')).statusCode).toBe(429);
    t.clock.advance(1_000);
    expect((await change(TEST_PASSWORD)).statusCode).toBe(204);
  });

  it('checks at most two passwords at once for one account and refuses the rest of a flood with a clear 429', async () => {
    // The production bounds: one account has at most two checks in flight.
    const queue = createHashingQueue({ slots: 1, perOwner: 2, maxWaiting: 64 });
    const { hasher, checks } = countingHasher(queue);
    t = await startTestApp('sqlite', {}, { passwords: hasher });
    const flooder = await signUp(t.app);
    const before = checks();
    // The slot is held while the flood arrives, so none of it can finish early and make room.
    let release!: () => void;
    const blocker = queue.run('blocker', () => new Promise<void>((resolve) => (release = resolve)));
    const answers: Array<{ statusCode: number; headers: Record<string, unknown>; json(): any }> = [];
    const flood = Array.from({ length: 32 }, (_, i) =>
      t!.app
        .inject({ method: 'POST', url: '/api/v1/auth/password', headers: as(flooder), payload: { currentPassword: `guess ${i}`, newPassword: 'a brand new passphrase' } })
        .then((answer) => answers.push(answer)),
    );
    await expect.poll(() => answers.length).toBe(30);
    expect(queue.stats().waiting).toBe(2);
    release();
    await Promise.all([blocker, ...flood]);
    const refused = answers.filter((answer) => answer.statusCode === 429);
    expect(refused).toHaveLength(30);
    expect(refused[0]!.json().error.message).toMatch(/Another password check for this account is still running/);
    expect(refused[0]!.headers['retry-after']).toBe('1');
    expect(answers.filter((answer) => answer.statusCode !== 429).map((answer) => answer.statusCode)).toEqual([400, 400]);
    expect(checks() - before).toBe(2);
  });

  it('admits another user’s sign-in before a flooding user’s queued password checks', async () => {
    const events: string[] = [];
    const queue = createHashingQueue({ slots: 1, perOwner: 2, maxWaiting: 64, observe: (event, owner) => events.push(`${event}:${owner}`) });
    const { hasher } = countingHasher(queue);
    t = await startTestApp('sqlite', {}, { passwords: hasher });
    const flooder = await signUp(t.app);
    const other = await signUp(t.app);
    events.length = 0;
    // Hold the one slot, so the flood and the other sign-in must queue.
    let release!: () => void;
    const blocker = queue.run('blocker', () => new Promise<void>((resolve) => (release = resolve)));
    const flood = Array.from({ length: 32 }, (_, i) =>
      t!.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: as(flooder), payload: { currentPassword: `guess ${i}`, newPassword: 'a brand new passphrase' } }),
    );
    await expect.poll(() => queue.stats().waiting).toBe(2);
    const otherSignIn = login(t.app, other.user.username, TEST_PASSWORD, '10.6.0.1');
    await expect.poll(() => queue.stats().waiting).toBe(3);
    release();
    await blocker;
    expect((await otherSignIn).statusCode).toBe(200);
    expect(statuses(await Promise.all(flood)).filter((status) => status === 429)).toHaveLength(30);
    const flooderKey = flooder.user.username.toLowerCase();
    const otherAdmitted = events.indexOf(`admitted:${other.user.username.toLowerCase()}`);
    const flooderFinished = events.map((event, i) => (event === `finished:${flooderKey}` ? i : -1)).filter((i) => i >= 0);
    expect(flooderFinished).toHaveLength(2);
    expect(otherAdmitted).toBeGreaterThan(flooderFinished[0]!);
    expect(otherAdmitted).toBeLessThan(flooderFinished[1]!);
  });

  it('names shared counters by a keyed hash, never the username or address', async () => {
    instances = await startInstances('postgres', 1, { RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '5' });
    const typo = 'correcthorsebatterystaple-typo';
    expect((await login(instances.apps[0]!, typo, 'whatever it was', '10.5.4.3')).statusCode).toBe(401);
    const db = instances.handles[0]!.db;
    const keys = [
      ...(await db.selectFrom('attempt_budgets').select('key').execute()),
      ...(await db.selectFrom('rate_limit_counters').select('key').execute()),
    ].map((row) => row.key);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) {
      expect(key).not.toContain(typo);
      expect(key).not.toContain('10.5.4.3');
      expect(key).toMatch(/^[a-z-]+:[0-9a-f]{32}$/);
    }
  });
});
