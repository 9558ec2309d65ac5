/**
 * The whole server on one page: every plugin and route, in order, on the parts that
 * compose.ts built. Nothing here constructs a service; tests build the same app on a
 * test database (test/support/app.ts).
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
import { authRoutes } from './auth/auth.routes.js';
import type { Services } from './compose.js';
import { clientStaticOptions } from './http/client-assets.js';
import { answerClientError, connectionOptions, limitConnections } from './http/connection-limits.js';
import { filesRoutes } from './files/files.routes.js';
import { answerFrameworkError, errors, registerErrorHandling } from './http/errors.js';
import { healthRoutes } from './http/health.routes.js';
import { metricsRoutes } from './http/metrics.js';
import { registerRequestHygiene } from './http/request-hygiene.js';
import { registerSecurity, trustedProxies } from './http/security.js';
import { createValidatorCompiler } from './http/validation.js';
import { messageChangesRoutes } from './messages/message-changes.routes.js';
import { messagesRoutes } from './messages/messages.routes.js';
import { realtimeRoutes } from './realtime/realtime.routes.js';
import { dmsRoutes } from './rooms/dms.routes.js';
import { invitePreviewRoutes } from './rooms/invite-preview.routes.js';
import { roomManagementRoutes } from './rooms/members.routes.js';
import { roomsRoutes } from './rooms/rooms.routes.js';
import { roomActivityRoutes } from './rooms/room-activity.routes.js';
import { searchRoutes } from './search/search.routes.js';
import { usersRoutes } from './users/users.routes.js';

export interface AppOptions {
  /** The built browser client; defaults to dist/client. */
  clientDir?: string;
}

const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../../dist/client', import.meta.url));

/** Builds the HTTP + WebSocket server; call `listen` (or `inject` in tests) on the result. */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config, database, gateway, guard } = services;

  const app = Fastify({
    loggerInstance: services.log,
    trustProxy: trustedProxies(config.trustProxy),
    bodyLimit: 64 * 1024,
    // A reaction's emoji travels percent-encoded in the path (up to 9 bytes a UTF-16 unit).
    routerOptions: { maxParamLength: 300 },
    ...connectionOptions(config),
    // Requests Node's parser refuses (URL or headers over 16 KiB, a deadline passed) get the API's error shape too.
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    // A request that arrives while closing gets our 503 (http/request-hygiene.ts), in the API's error shape.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  limitConnections(app, config.maxConnections);
  app.setValidatorCompiler(createValidatorCompiler());
  registerErrorHandling(app);
  registerRequestHygiene(app);

  // ---- cross-cutting: cookies, security headers, API documentation ----
  await app.register(cookie, { secret: services.sessionSecret });
  await registerSecurity(app, { forceHttps: config.forceHttps, publicUrl: config.publicUrl });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'SecureChat API',
        version: '1',
        description:
          'HTTP API of SecureChat. Real-time events: GET /api/v1/ws. The server closes a socket with 4401 when its session ends ' +
          '(logout, expiry, idle timeout, ended from another device, password change; frames sent after that are dropped), ' +
          '4429 when the user already has MAX_SOCKETS_PER_USER sockets open on the instance (reconnect later or poll), ' +
          '4008 when the client reads too slowly (reconnect and catch up with after=), 1001 when the server shuts down.',
      },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: guard.cookieName } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  // The gateway closes every socket itself with 1001 and a reason (its preClose hook, below);
  // the plugin's default preClose would close them first, with no code at all.
  await app.register(websocket, { options: { maxPayload: 64 * 1024 }, preClose: (done) => done() });

  // Sockets get a reason before the server stops accepting and closes; the services close last.
  app.decorateRequest('auth', null);
  app.addHook('preClose', async () => gateway.close());
  app.addHook('onClose', async () => services.close());

  // ---- features ----
  await app.register(healthRoutes, { ping: database.ping });
  await app.register(metricsRoutes, { metrics: services.metrics, token: config.metricsToken });
  await app.register(
    async (api) => {
      await api.register(authRoutes, {
        accounts: services.accounts,
        sessions: services.sessions,
        signIn: services.signIn,
        guard,
        secureCookies: config.forceHttps,
        rememberMaxAgeSeconds: config.sessionTtlDays * 24 * 60 * 60,
        limiter: services.sharedLimiter,
        limits: config.rateLimits,
        messageMaxLength: config.messageMaxLength,
      });
      await api.register(roomsRoutes, { rooms: services.rooms, moderation: services.moderation, invites: services.invites, guard, publicUrl: config.publicUrl, activity: services.roomActivity });
      await api.register(roomActivityRoutes, { activity: services.roomActivity, guard });
      await api.register(dmsRoutes, { dms: services.dms, guard });
      await api.register(usersRoutes, { users: services.users, guard });
      await api.register(messagesRoutes, { messages: services.messages, changes: services.messageChanges, guard, withEvents: services.roomEvents.withEvents });
      await api.register(messageChangesRoutes, { changes: services.messageChanges, guard });
      await api.register(roomManagementRoutes, { management: services.management, guard });
      await api.register(invitePreviewRoutes, { management: services.management, limiter: services.sharedLimiter, perMinute: config.rateLimits.invitePreviewsPerMinute });
      await api.register(searchRoutes, { search: services.search, guard });
      await api.register(filesRoutes, { files: services.files, guard, maxBytes: config.files.maxMb * 1024 * 1024 });
      await api.register(realtimeRoutes, { gateway, guard, publicUrl: config.publicUrl });
    },
    { prefix: '/api/v1' },
  );

  // ---- the browser client, with index.html for its own routes ----
  const clientDir = options.clientDir ?? DEFAULT_CLIENT_DIR;
  const clientBuilt = existsSync(`${clientDir}/index.html`);
  if (clientBuilt) await app.register(fastifyStatic, clientStaticOptions(clientDir));
  app.setNotFoundHandler((request, reply) => {
    const wantsPage = request.method === 'GET' && !request.url.startsWith('/api/') && request.headers.accept?.includes('text/html');
    if (wantsPage && clientBuilt) return reply.sendFile('index.html');
    const error = errors.notFound(`${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send(error.toBody());
  });

  return app;
}
