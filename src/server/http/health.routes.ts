/** Liveness and readiness probes for load balancers and orchestrators. */
import type { FastifyPluginAsync } from 'fastify';
import { errors, sendError } from './errors.js';

export const healthRoutes: FastifyPluginAsync<{ ping: () => Promise<void> }> = async (app, options) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await options.ping();
      return { status: 'ready' };
    } catch {
      return sendError(reply, errors.databaseUnavailable());
    }
  });
};
