/**
 * `npm start` as a process: compose the system, listen, and stop gracefully on
 * SIGTERM/SIGINT (stop accepting, finish in-flight requests, close sockets, exit).
 */
import type { ServerResponse } from 'node:http';
import { buildApp } from './app.js';
import { readConfig, StartupError } from './boot.js';
import { composeSystem } from './compose.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const config = readConfig();
  const system = await composeSystem(config);
  const app = await buildApp(system.services).catch(async (error: unknown) => {
    await system.services.close();
    await system.close();
    throw error;
  });
  for (const warning of system.warnings) app.log.warn(warning);
  app.log.info({ bus: system.cluster.kind, instance: system.cluster.instanceId }, 'fan-out bus ready');

  // Responses still being written. A stop lets them finish, then closes every other
  // connection: keep-alive ones that were busy when it began (Node reaps only those idle
  // at that moment) and ones opened but never used; either would hold close() past the deadline.
  const inFlight = new Set<ServerResponse>();
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.upgrade) return; // sockets are the gateway's to close
    inFlight.add(reply.raw);
    reply.raw.once('close', () => inFlight.delete(reply.raw));
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      app.log.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    const closing = app.close();
    while (inFlight.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    app.server.closeAllConnections();
    await closing;
    await system.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ host: config.host, port: config.port });
  // For the person at the terminal; stdout stays structured JSON for the log shipper.
  const shown = config.host === '0.0.0.0' || config.host === '::' ? address.replace(/\/\/[^/]+:/, '//localhost:') : address;
  for (const line of [`SecureChat listening on ${shown}`, ...system.notices]) console.error(line);
}

main().catch((error: unknown) => {
  if (error instanceof StartupError) {
    console.error(`securechat: ${error.message}`);
  } else {
    console.error('securechat: failed to start:', error);
  }
  process.exit(1);
});
