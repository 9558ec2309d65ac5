/**
 * The composition root: the one place the server's parts are built and wired, in order —
 * configuration → database and keyring → cluster (bus, presence, shared counters) →
 * repositories and services → the socket gateway. `app.ts` puts the result on HTTP;
 * `main.ts` runs it as a process; tests compose the same parts on a test database.
 */
import type { FastifyBaseLogger } from 'fastify';
import { createAccountsRepository } from './auth/accounts.repository.js';
import { createAccountsService } from './auth/accounts.service.js';
import { createAuthGuard, sessionCookieName } from './auth/auth.guard.js';
import { createSessionsRepository } from './auth/sessions.repository.js';
import { createSessionsService } from './auth/sessions.service.js';
import { createSignIn } from './auth/sign-in.js';
import { createSignInThrottle } from './auth/sign-in-throttle.js';
import { openPlatform, sessionSecretFor, StartupError } from './boot.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { Keyring } from './crypto/keyring.js';
import { createPasswordHasher, PASSWORD_HASH_PARAMS, type PasswordHasher } from './crypto/passwords.js';
import type { DatabaseHandle } from './db/database.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { createLogger } from './logger.js';
import { createRateLimiter } from './http/rate-limit.js';
import { composeFiles } from './files/compose-files.js';
import type { PrepareImage } from './files/files.service.js';
import { composeMessages } from './messages/compose-messages.js';
import { composeSearch } from './search/compose-search.js';
import { createRoomActivityRepository } from './rooms/room-activity.repository.js';
import { createRoomActivityService } from './rooms/room-activity.service.js';
import type { Bus } from './platform/cluster/bus.js';
import { ClusterStartError, connectCluster, type Cluster } from './platform/cluster/connect.js';
import { createMemoryCounterStore, withHashedKeys, type CounterStore } from './platform/cluster/counters.js';
import { createMemoryPresence, type Presence } from './platform/cluster/presence.js';
import { createGateway } from './realtime/gateway.js';
import { createInvitesRepository } from './rooms/invites.repository.js';
import { createInvitesService } from './rooms/invites.service.js';
import { createModerationService } from './rooms/moderation.service.js';
import { createDmsRepository } from './rooms/dms.repository.js';
import { createDmsService } from './rooms/dms.service.js';
import { createRoomViews } from './rooms/room-views.js';
import { createRoomEventsRepository } from './rooms/room-events.repository.js';
import { createRoomEvents } from './rooms/room-events.service.js';
import { createRoomManagementRepository } from './rooms/room-management.repository.js';
import { createRoomManagementService, type RoomFiles } from './rooms/room-management.service.js';
import { createRoomAccess } from './rooms/rooms.access.js';
import { createRoomsRepository } from './rooms/rooms.repository.js';
import { createRoomsService } from './rooms/rooms.service.js';
import { createUsersRepository } from './users/users.repository.js';
import { createUsersService } from './users/users.service.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const SESSION_SWEEP_MS = 60 * 60 * 1000;
const COUNTER_SWEEP_MS = 5 * 60 * 1000;

/** What the services are built from: the platform, opened by `composeSystem` or by a test. */
export interface ServicesDeps {
  config: Config;
  database: DatabaseHandle;
  keyring: Keyring;
  passwords: PasswordHasher;
  clock: Clock;
  bus: Bus;
  /** Who is online; shared between instances along with the bus. Default: this process only. */
  presence?: Presence;
  /** Rate-limit counters shared between instances (sign-in, registration). Default: this process only. */
  counters?: CounterStore;
  sessionSecret: string;
  log: FastifyBaseLogger;
  /** The same registry the cluster reports bus lag to (connectCluster's observeLag). */
  metrics: Metrics;
  /** The image step of uploads (files/compose-files.ts has the default); tests pass their own. */
  prepareImage?: PrepareImage;
  /** How often each instance reads the search reindex generation (default 5 s). */
  searchGenerationPollMs?: number;
}

/** Repositories → services → gateway, on a platform that is already open. */
export function composeServices(deps: ServicesDeps) {
  const { config, database, keyring, passwords, clock, bus, log, metrics } = deps;
  const { db } = database;
  // Shared counters are named by a keyed hash: a failed sign-in's username (often a mistyped
  // password) or an address is never stored in clear.
  const sharedCounters = withHashedKeys(deps.counters ?? createMemoryCounterStore(), keyring.counterKey);
  // Per-message budgets stay in this process: a round trip per message would cost more than it guards.
  const localLimiter = createRateLimiter(createMemoryCounterStore(), clock);
  const sharedLimiter = createRateLimiter(sharedCounters, clock);
  const presence = deps.presence ?? createMemoryPresence();

  const roomsRepository = createRoomsRepository(database.dialect);
  // One access check for the three, so their checks are batched together.
  const roomEvents = createRoomEvents({ db, events: createRoomEventsRepository(), clock });
  const access = createRoomAccess({ db, rooms: roomsRepository, keyring, clock, bus, events: roomEvents });
  const invitesRepository = createInvitesRepository();
  const dmsRepository = createDmsRepository();
  const usersRepository = createUsersRepository(database.dialect);
  const views = createRoomViews({ db, dms: dmsRepository, keyring, presence });
  const dms = createDmsService({ db, rooms: roomsRepository, dms: dmsRepository, users: usersRepository, views, events: roomEvents, clock, bus, limiter: localLimiter, opensPerMinute: config.rateLimits.dmOpensPerMinute });
  const users = createUsersService({ db, users: usersRepository, limiter: localLimiter, searchesPerMinute: config.rateLimits.userSearchesPerMinute });
  // The files service is built below (it needs `rooms`); a room is deleted only once requests come in.
  const roomFiles: RoomFiles = {
    collectRoomBlobs: (trx, roomId) => files.collectRoomBlobs(trx, roomId),
    afterRoomDeleted: (deleteBytes) => void deleteBytes().catch((error: unknown) => log.warn({ err: error }, "deleting a deleted room's files failed")),
  };
  const management = createRoomManagementService({ db, rooms: roomsRepository, invites: invitesRepository, management: createRoomManagementRepository(), access, clock, bus, presence, files: roomFiles });
  const rooms = createRoomsService({
    db,
    rooms: roomsRepository,
    invites: invitesRepository,
    access,
    keyring,
    clock,
    bus,
    presence,
    views,
    events: roomEvents,
    ownerLeaves: management.ownerLeaves,
  });
  const moderation = createModerationService({ db, rooms: roomsRepository, invites: invitesRepository, access, clock, bus, events: roomEvents });
  const invites = createInvitesService({ db, rooms: roomsRepository, invites: invitesRepository, access, clock });
  const roomActivity = createRoomActivityService({ db, activity: createRoomActivityRepository(), rooms, bus });
  // A deleted message's files stop being served in its transaction; their bytes go after it.
  const onFilesReleased = () => void files.purgeReleased().catch((error: unknown) => log.warn({ err: error }, 'file purge failed'));
  const { messages, messageChanges, messageStore } = composeMessages({ config, database, keyring, clock, bus, rooms, limiter: localLimiter, metrics, onFilesReleased });
  const { files, close: closeFiles } = composeFiles({ config, db, chunkWriter: messageStore.chunks, keyring, rooms, clock, limiter: localLimiter, metrics, log, prepareImage: deps.prepareImage });
  const sessions = createSessionsService({
    db,
    sessions: createSessionsRepository(database.dialect),
    clock,
    secret: deps.sessionSecret,
    bus,
    policy: {
      rememberTtlMs: config.sessionTtlDays * DAY_MS,
      browserTtlMs: DAY_MS,
      idleMs: config.sessionIdleHours * 60 * 60 * 1000,
    },
  });
  const accounts = createAccountsService({
    db,
    accounts: createAccountsRepository(),
    keyring,
    passwords,
    clock,
    passwordMinLength: config.passwordMinLength,
    throttle: createSignInThrottle(sharedCounters, clock, {
      failuresPerAddress: config.rateLimits.signInFailuresPerAddress,
      failuresPerAccount: config.rateLimits.signInFailuresPerAccount,
    }),
    onRegistered: rooms.joinGeneral,
  });
  const search = composeSearch({ config, db, keyring, log, messages, rooms, dms: dmsRepository, limiter: localLimiter, metrics, generationPollMs: deps.searchGenerationPollMs });
  const gateway = createGateway({
    rooms,
    messages,
    bus,
    presence,
    log,
    limiter: localLimiter,
    framesPerMinute: config.rateLimits.framesPerMinute,
    sessions,
    clock,
    maxSocketsPerUser: config.maxSocketsPerUser,
    metrics,
    // The index follows the bus through the gateway: after the sockets, pointers read once.
    alsoHear: search.indexer?.hear,
  });

  // Sessions nobody comes back for would otherwise stay in the table for ever.
  const sweep = setInterval(() => void sessions.sweepExpired().catch((error: unknown) => log.warn({ err: error }, 'session sweep failed')), SESSION_SWEEP_MS);
  sweep.unref();
  // Ended windows and budgets (every address that ever failed once) are deleted, not kept for ever.
  const counterSweep = setInterval(() => void sharedCounters.sweep(clock.now()).catch((error: unknown) => log.warn({ err: error }, 'counter sweep failed')), COUNTER_SWEEP_MS);
  counterSweep.unref();

  return {
    config,
    database,
    log,
    metrics,
    /** Signs the session cookie. */
    sessionSecret: deps.sessionSecret,
    accounts,
    sessions,
    guard: createAuthGuard(sessions, sessionCookieName(config.forceHttps)),
    signIn: createSignIn({ accounts, sessions, limiter: sharedLimiter, limits: config.rateLimits }),
    rooms,
    moderation,
    invites,
    dms,
    users,
    management,
    roomEvents,
    messages,
    messageChanges,
    roomActivity,
    files,
    search: search.search,
    /** Resolves once this instance's search index is built (search answers 503 before). */
    searchReady: search.ready,
    gateway,
    sharedLimiter,
    /** After the gateway has closed its sockets and the server has stopped: no send is still on its way in. */
    async close(): Promise<void> {
      clearInterval(sweep);
      clearInterval(counterSweep);
      closeFiles();
      await search.close();
      await messageStore.close();
    },
  };
}

export type Services = ReturnType<typeof composeServices>;

/** The whole system for `npm start`: platform, cluster and services, and how to close them. */
export async function composeSystem(config: Config): Promise<{ services: Services; cluster: Cluster; warnings: string[]; notices: string[]; close(): Promise<void> }> {
  const platform = await openPlatform(config);
  const log = createLogger(config);
  const metrics = createMetrics({ poolStats: platform.database.poolStats });
  const cluster = await connectCluster(config, { database: platform.database, keyring: platform.keyring, log, observeLag: metrics.busReceived }).catch(async (error: unknown) => {
    await platform.database.close();
    throw error instanceof ClusterStartError ? new StartupError(error.message) : error;
  });
  const close = async () => {
    await cluster.close();
    await platform.database.close();
  };
  let services: Services;
  try {
    services = composeServices({
      config,
      database: platform.database,
      keyring: platform.keyring,
      passwords: createPasswordHasher(PASSWORD_HASH_PARAMS),
      clock: systemClock,
      bus: cluster.bus,
      presence: cluster.presence,
      counters: cluster.counters,
      sessionSecret: await sessionSecretFor(config),
      log,
      metrics,
    });
  } catch (error) {
    await close();
    throw error;
  }
  return {
    services,
    cluster,
    warnings: platform.warnings,
    notices: platform.notices,
    close,
  };
}
