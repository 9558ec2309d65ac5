// Smoke test of the test-database harness (test/support/databases.ts) on every dialect.
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { openSqliteConnection } from '../../src/server/db/sqlite.js';
import { createTestDatabase, DIALECTS, type DatabaseTarget } from '../support/databases.js';

/** The minimal things the smoke test does, on either dialect. */
interface Conn {
  exec(sql: string): Promise<void>;
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

async function connect(target: DatabaseTarget): Promise<Conn> {
  if (target.dialect === 'sqlite') {
    const db = openSqliteConnection(target.file, { waitsInSqlite: true });
    return {
      exec: async (sql) => void db.exec(sql),
      // node:sqlite's rows have no prototype; spread them into plain objects to compare.
      rows: async (sql) => (db.prepare(sql).all() as Array<Record<string, unknown>>).map((row) => ({ ...row })),
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: target.url });
  client.on('error', () => undefined);
  await client.connect();
  return {
    exec: async (sql) => void (await client.query(sql)),
    rows: async (sql) => (await client.query(sql)).rows as Array<Record<string, unknown>>,
    close: () => client.end(),
  };
}

async function postgresDatabaseExists(url: string): Promise<boolean> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await admin.connect();
  try {
    const result = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return result.rowCount === 1;
  } finally {
    await admin.end();
  }
}

async function exists(target: DatabaseTarget): Promise<boolean> {
  return target.dialect === 'sqlite' ? existsSync(path.dirname(target.file)) : postgresDatabaseExists(target.url);
}

describe.each(DIALECTS)('test databases: %s', (dialect) => {
  it('creates a fresh database, writes and reads a row, and drops it', async () => {
    const db = await createTestDatabase(dialect);
    expect(db.target.dialect).toBe(dialect);
    try {
      const conn = await connect(db.target);
      try {
        await conn.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
        await conn.exec("INSERT INTO notes (id, body) VALUES (1, 'héllo ✓')");
        expect(await conn.rows('SELECT id, body FROM notes')).toEqual([{ id: 1, body: 'héllo ✓' }]);
      } finally {
        await conn.close();
      }
      expect(await exists(db.target)).toBe(true);
    } finally {
      await db.drop();
    }
    expect(await exists(db.target)).toBe(false);
    await db.drop(); // a second drop is harmless
  });

  it('gives each call its own empty database', async () => {
    const [a, b] = await Promise.all([createTestDatabase(dialect), createTestDatabase(dialect)]);
    try {
      expect(a.target).not.toEqual(b.target);
      const connA = await connect(a.target);
      const connB = await connect(b.target);
      try {
        await connA.exec('CREATE TABLE only_in_a (x INTEGER)');
        await expect(connB.rows('SELECT * FROM only_in_a')).rejects.toThrow(/only_in_a/);
      } finally {
        await connA.close();
        await connB.close();
      }
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });

  it('drops a database that still has open connections', async () => {
    const db = await createTestDatabase(dialect);
    const conn = await connect(db.target);
    try {
      await conn.exec('CREATE TABLE t (x INTEGER)');
      await db.drop();
      expect(await exists(db.target)).toBe(false);
    } finally {
      await conn.close().catch(() => undefined);
    }
  });
});
