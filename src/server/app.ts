/**
 * The whole server on one page: every plugin and feature is registered here, in order.
 * Dependencies come in from outside (main.ts, the CLI, tests), so a test builds the
 * real app on a temporary database without patching anything.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { createAccountsRepository } from './auth/accounts.repository.js';
import { createAccountsService } from './auth/accounts.service.js';
import { createAuthGuard } from './auth/auth.guard.js';
import { authRoutes } from './auth/auth.routes.js';
import { createSessionsRepository } from './auth/sessions.repository.js';
import { createSessionsService } from './auth/sessions.service.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Keyring } from './crypto/keyring.js';
import type { PasswordHasher } from './crypto/passwords.js';
import type { DatabaseHandle } from './db/database.js';
import { answerFrameworkError, errors, registerErrorHandling } from './http/errors.js';
import { healthRoutes } from './http/health.routes.js';
import { createMetrics, metricsRoutes } from './http/metrics.js';
import { createMemoryCounterStore, type CounterStore } from './http/counters.js';
import { createLoginThrottle, createRateLimiter } from './http/rate-limit.js';
import { registerRequestHygiene } from './http/request-hygiene.js';
import { registerSecurity } from './http/security.js';
import { createValidatorCompiler } from './http/validation.js';
import { createMessageStore } from './messages/message-store.js';
import { createMessagesRepository } from './messages/messages.repository.js';
import { messagesRoutes } from './messages/messages.routes.js';
import { createMessageBodies } from './messages/message-bodies.js';
import { createMessagesService } from './messages/messages.service.js';
import type { Bus } from './realtime/bus.js';
import { createGateway } from './realtime/gateway.js';
import { createMemoryPresence, type Presence } from './realtime/presence.js';
import { realtimeRoutes } from './realtime/realtime.routes.js';
import { createRoomsRepository } from './rooms/rooms.repository.js';
import { roomsRoutes } from './rooms/rooms.routes.js';
import { createRoomsService } from './rooms/rooms.service.js';

export interface AppDependencies {
  config: Config;
  database: DatabaseHandle;
  keyring: Keyring;
  passwords: PasswordHasher;
  clock: Clock;
  bus: Bus;
  /** Who is online; shared between instances along with the bus (see realtime/create-bus.ts). Default: this process only. */
  presence?: Presence;
  /** Rate-limit counters shared between instances (sign-in, registration). Default: this process only. */
  counters?: CounterStore;
  sessionSecret: string;
  /** The built browser client; defaults to dist/client. */
  clientDir?: string;
}

const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../../dist/client', import.meta.url));
const DAY_MS = 24 * 60 * 60 * 1000;

/** Builds the HTTP + WebSocket server; call `listen` (or `inject` in tests) on the result. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, database, keyring, passwords, clock, bus } = deps;
  const { db } = database;

  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Credentials and cookies never reach the logs; bodies are not logged at all.
      redact: ['req.headers.cookie', 'req.headers.authorization', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]'],
    },
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    frameworkErrors: answerFrameworkError,
    // A request that arrives while closing gets our 503 (http/request-hygiene.ts), in the API's error shape.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandling(app);
  registerRequestHygiene(app);

  // ---- cross-cutting: cookies, security headers, API documentation ----
  await app.register(cookie, { secret: deps.sessionSecret });
  await registerSecurity(app, { forceHttps: config.forceHttps });
  await app.register(swagger, {
    openapi: {
      info: { title: 'SecureChat API', version: '1', description: 'HTTP API of SecureChat. Real-time events: GET /api/v1/ws.' },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'securechat_session' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  // The gateway closes every socket itself with 1001 and a reason (its preClose hook, below);
  // the plugin's default preClose would close them first, with no code at all.
  await app.register(websocket, { options: { maxPayload: 64 * 1024 }, preClose: (done) => done() });

  // ---- features: repositories → services → routes ----
  const sharedCounters = deps.counters ?? createMemoryCounterStore();
  const sharedLimiter = createRateLimiter(sharedCounters, clock);
  // Per-message budgets stay in this process: a round trip per message would cost more than it guards.
  const localLimiter = createRateLimiter(createMemoryCounterStore(), clock);
  const metrics = createMetrics({ poolStats: database.poolStats });
  const presence = deps.presence ?? createMemoryPresence();
  const rooms = createRoomsService({ db, rooms: createRoomsRepository(database.dialect), keyring, clock, bus, presence });
  const messagesRepository = createMessagesRepository();
  const messageStore = createMessageStore(database);
  // After the gateway's preClose and the server's close: no send is still on its way in.
  app.addHook('onClose', async () => messageStore.close());
  const messages = createMessagesService({
    db,
    messages: messagesRepository,
    store: messageStore,
    rooms,
    bodies: createMessageBodies(keyring, { maxBytes: config.messageCacheMb * 1024 * 1024, metrics }),
    clock,
    bus,
    maxLength: config.messageMaxLength,
    limiter: localLimiter,
    sendsPerMinute: config.rateLimits.messagesPerMinute,
    metrics,
  });
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
    loginThrottle: createLoginThrottle(sharedCounters, clock),
    onRegistered: rooms.joinGeneral,
  });
  // Sessions nobody comes back for would otherwise stay in the table for ever.
  const sweep = setInterval(() => void sessions.sweepExpired().catch((error: unknown) => app.log.warn({ err: error }, 'session sweep failed')), 60 * 60 * 1000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
  const guard = createAuthGuard(sessions);
  app.decorateRequest('auth', null);
  const gateway = createGateway({
    rooms,
    messages,
    bus,
    presence,
    log: app.log,
    limiter: localLimiter,
    framesPerMinute: config.rateLimits.framesPerMinute,
    metrics,
  });
  // A remote bus sends pointers for events too large for its wire; it reads them back here.
  bus.attach?.({
    loadMessage: messages.loadForFanOut,
    loadRoomIds: async (userId) => (await rooms.roomSeqs(userId)).map((room) => room.id),
    log: app.log,
    observeLag: metrics.busReceived,
  });
  // Sockets get a reason before the server stops accepting and closes.
  app.addHook('preClose', async () => gateway.close());

  await app.register(healthRoutes, { ping: database.ping });
  await app.register(metricsRoutes, { metrics, token: config.metricsToken });
  await app.register(
    async (api) => {
      await api.register(authRoutes, {
        accounts,
        sessions,
        guard,
        secureCookies: config.forceHttps,
        rememberMaxAgeSeconds: config.sessionTtlDays * 24 * 60 * 60,
        limiter: sharedLimiter,
        limits: config.rateLimits,
      });
      await api.register(roomsRoutes, { rooms, guard, publicUrl: config.publicUrl });
      await api.register(messagesRoutes, { messages, guard });
      await api.register(realtimeRoutes, { gateway, guard, publicUrl: config.publicUrl });
    },
    { prefix: '/api/v1' },
  );

  // ---- the browser client, with index.html for its own routes ----
  const clientDir = deps.clientDir ?? DEFAULT_CLIENT_DIR;
  const clientBuilt = existsSync(`${clientDir}/index.html`);
  if (clientBuilt) await app.register(fastifyStatic, { root: clientDir, wildcard: false, index: false });
  app.setNotFoundHandler((request, reply) => {
    const wantsPage = request.method === 'GET' && !request.url.startsWith('/api/') && request.headers.accept?.includes('text/html');
    if (wantsPage && clientBuilt) return reply.sendFile('index.html');
    const error = errors.notFound(`${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send(error.toBody());
  });

  return app;
}
