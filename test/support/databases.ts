/**
 * Fresh, empty databases for integration tests, one per call.
 *
 *   for (const dialect of DIALECTS) { const db = await createTestDatabase(dialect); ...; await db.drop(); }
 *
 * SQLite: a file path in a new temp folder (the file itself is not created).
 * PostgreSQL: a new database `sc_test_<random>` on the server that the global setup
 * provides (embedded PostgreSQL, or TEST_DATABASE_URL).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { withPgClient } from './pg-client.js';

// The server declares the same shape (today in src/server/config.ts); to share it, replace
// this line with: export type { DatabaseTarget } from '../../src/server/config.js';
export type DatabaseTarget = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

export type Dialect = DatabaseTarget['dialect'];

/** Every dialect the server supports; integration tests run against each. */
export const DIALECTS: ReadonlyArray<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];

export interface TestDatabase {
  target: DatabaseTarget;
  /** Removes the database (closing any connections still open to it). Safe to call twice. */
  drop(): Promise<void>;
}

/** A fresh empty database of that dialect; drop() removes it. */
export async function createTestDatabase(dialect: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  switch (dialect) {
    case 'sqlite':
      return createSqliteDatabase();
    case 'postgres':
      return createPostgresDatabase();
    default: {
      const unknown: never = dialect;
      throw new Error(`unknown dialect: ${String(unknown)}`);
    }
  }
}

async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'securechat-sqlite-'));
  return {
    target: { dialect: 'sqlite', file: path.join(dir, 'test.db') },
    drop: () => fs.rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `sc_test_${randomBytes(8).toString('hex')}`;
  const ident = `"${name}"`; // lowercase hex: a safe identifier
  // template0: nobody is ever connected to it, so parallel CREATEs can't collide on it.
  await withPgClient(inject('postgresAdminUrl'), (c) => c.query(`CREATE DATABASE ${ident} TEMPLATE template0 ENCODING 'UTF8'`));

  const url = new URL(inject('postgresAdminUrl'));
  url.pathname = `/${name}`;

  let dropped = false;
  return {
    target: { dialect: 'postgres', url: url.toString() },
    drop: async () => {
      if (dropped) return;
      await withPgClient(inject('postgresAdminUrl'), async (c) => {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
      });
      dropped = true;
    },
  };
}
