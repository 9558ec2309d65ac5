/**
 * Instances of one cluster inside the test process: each its own connection pool, bus
 * subscriber and app on a loopback port, all on the same database and keyring.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import type { Config } from '../../src/server/config.js';
import type { Keyring } from '../../src/server/crypto/keyring.js';
import { openDatabase } from '../../src/server/db/database.js';
import { createLogger } from '../../src/server/logger.js';
import { connectCluster } from '../../src/server/platform/cluster/connect.js';
import type { ServicesDeps } from '../../src/server/compose.js';
import { listenOnLoopback, testServices } from './app.js';

export interface ClusterInstance {
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

/**
 * Starts `count` instances on `config.database` (already migrated), each answering search
 * once its index is built; close each when done. `deps`: more of the services' options.
 */
export async function startClusterInstances(
  count: number,
  config: Config,
  keyring: Keyring,
  sessionSecret: string,
  deps: Pick<ServicesDeps, 'searchGenerationPollMs'> = {},
): Promise<ClusterInstance[]> {
  const instances: ClusterInstance[] = [];
  for (let i = 0; i < count; i += 1) {
    const database = openDatabase(config.database);
    const log = createLogger(config);
    const cluster = await connectCluster(config, { database, keyring, log });
    const services = testServices({ config, database, keyring, bus: cluster.bus, presence: cluster.presence, sessionSecret, log, ...deps });
    const app = await buildApp(services);
    await app.ready();
    await services.searchReady;
    instances.push({
      app,
      base: await listenOnLoopback(app),
      async close() {
        await app.close();
        await cluster.close();
        await database.close();
      },
    });
  }
  return instances;
}
