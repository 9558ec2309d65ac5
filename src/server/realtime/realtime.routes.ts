/** `GET /api/v1/ws`: the WebSocket endpoint. Cookie-authenticated, same-origin only. */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import { errors, sendError } from '../http/errors.js';
import { siteOrigin } from '../http/origin.js';
import type { Gateway } from './gateway.js';

export const realtimeRoutes: FastifyPluginAsync<{ gateway: Gateway; guard: AuthGuard; publicUrl: string | undefined }> = async (
  app,
  { gateway, guard, publicUrl },
) => {
  // Browsers send cookies on cross-site WebSocket handshakes; the Origin check is what
  // stops another site from opening a socket as the user.
  async function checkOrigin(request: FastifyRequest): Promise<void> {
    if (request.headers.origin !== siteOrigin(request, publicUrl)) {
      throw errors.forbidden('WebSocket connections are accepted only from this site.');
    }
  }

  app.route({
    method: 'GET',
    url: '/ws',
    onRequest: [checkOrigin, guard.requireUser],
    schema: { hide: true },
    // A plain HTTP request (no Upgrade): say what to do, in the API's error shape.
    handler: async (_request, reply) => sendError(reply, errors.upgradeRequired()),
    wsHandler: (socket, request) => {
      gateway.attach(socket, callerOf(request));
    },
  });
};
