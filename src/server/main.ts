/**
 * `npm start`: configuration → database → keyring → app → listen, and a graceful stop
 * on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close sockets, exit).
 */
import type { ServerResponse } from 'node:http';
import { buildApp } from './app.js';
import { openServices, readConfig, sessionSecretFor, StartupError } from './boot.js';
import { systemClock } from './clock.js';
import { createPasswordHasher, PASSWORD_HASH_PARAMS } from './crypto/passwords.js';
import { BusStartError, createBus } from './realtime/create-bus.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const config = readConfig();
  const services = await openServices(config);
  const realtime = await createBus(config, { database: services.database, keyring: services.keyring }).catch(async (error: unknown) => {
    await services.database.close();
    throw error instanceof BusStartError ? new StartupError(error.message) : error;
  });
  const app = await buildApp({
    config,
    database: services.database,
    keyring: services.keyring,
    passwords: createPasswordHasher(PASSWORD_HASH_PARAMS),
    clock: systemClock,
    bus: realtime.bus,
    presence: realtime.presence,
    counters: realtime.counters,
    sessionSecret: await sessionSecretFor(config),
  });
  for (const warning of services.warnings) app.log.warn(warning);
  app.log.info({ bus: realtime.kind, instance: realtime.instanceId }, 'fan-out bus ready');

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
    await realtime.close();
    await services.database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
}

main().catch((error: unknown) => {
  if (error instanceof StartupError) {
    console.error(`securechat: ${error.message}`);
  } else {
    console.error('securechat: failed to start:', error);
  }
  process.exit(1);
});
