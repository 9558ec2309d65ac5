/** Liveness and readiness probes for load balancers and orchestrators. */
import type { FastifyPluginAsync } from 'fastify';

export const healthRoutes: FastifyPluginAsync<{ ping: () => Promise<void> }> = async (app, options) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await options.ping();
      return { status: 'ready' };
    } catch {
      return reply
        .status(503)
        .header('retry-after', '5')
        .send({ error: { code: 'database_unavailable', message: 'The database cannot be reached.' } });
    }
  });
};
