/**
 * db/sqlite.ts on this Node's driver (node:sqlite on Node 22.16+ and 24, better-sqlite3 on
 * Node 20): the few things the server relies on behave alike on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { immediateTransaction, openSqliteConnection, sqliteCodeName, sqliteDriver, type SqliteConnection } from '../../src/server/db/sqlite.js';

describe(`SQLite through ${sqliteDriver()} on Node ${process.version}`, () => {
  let dir: string;
  let connection: SqliteConnection;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'securechat-sqlite-driver-'));
    connection = openSqliteConnection(path.join(dir, 'test.db'), { waitsInSqlite: false });
    connection.exec('create table parents (id text primary key, n integer not null)');
    connection.exec('create table children (id text primary key, parent_id text not null references parents (id), at bigint not null)');
  });
  afterEach(() => {
    connection.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses better-sqlite3 on Node 20 and node:sqlite on the Node versions CI and the README name (22, 24)', () => {
    expect(connection.driver).toBe(process.versions.node.startsWith('20.') ? 'better-sqlite3' : 'node:sqlite');
  });

  it('opens with WAL, synchronous FULL, foreign keys on and the asked busy timeout', () => {
    const pragma = (name: string) => Object.values(connection.prepare(`pragma ${name}`).get() as object)[0];
    expect(pragma('journal_mode')).toBe('wal');
    expect(pragma('synchronous')).toBe(2);
    expect(pragma('foreign_keys')).toBe(1);
    expect(pragma('busy_timeout')).toBe(0);
  });

  it('binds an array of parameters, tells readers from writes, reports changes, reads BIGINT ms as numbers', () => {
    const insert = connection.prepare('insert into parents (id, n) values (?, ?)');
    expect(insert.reader).toBe(false);
    expect(insert.run(['p1', 1])).toMatchObject({ changes: 1 });
    const bump = connection.prepare('update parents set n = n + ? where id = ? returning n');
    expect(bump.reader).toBe(true);
    expect(bump.all([2, 'p1'])).toEqual([expect.objectContaining({ n: 3 })]);
    const at = Date.now();
    connection.prepare('insert into children (id, parent_id, at) values (?, ?, ?)').run(['c1', 'p1', at]);
    const select = connection.prepare('select id, at from children where parent_id = ?');
    expect(select.reader).toBe(true);
    expect({ ...(select.get(['p1']) as object) }).toEqual({ id: 'c1', at });
    expect([...select.iterate(['p1'])].map((row) => ({ ...(row as object) }))).toEqual([{ id: 'c1', at }]);
  });

  it('names errors as better-sqlite3 does', () => {
    connection.prepare('insert into parents (id, n) values (?, ?)').run(['p1', 1]);
    const codeOf = (work: () => unknown) => {
      try {
        work();
      } catch (error) {
        return (error as { code?: unknown }).code;
      }
      return 'no error';
    };
    expect(codeOf(() => connection.prepare('insert into parents (id, n) values (?, ?)').run(['p1', 2]))).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(codeOf(() => connection.prepare('insert into children (id, parent_id, at) values (?, ?, ?)').run(['c1', 'nope', 1]))).toBe(
      'SQLITE_CONSTRAINT_FOREIGNKEY',
    );
    expect(codeOf(() => connection.exec('select * from missing'))).toBe('SQLITE_ERROR');
    expect([sqliteCodeName(5), sqliteCodeName(261), sqliteCodeName(517), sqliteCodeName(2067)]).toEqual([
      'SQLITE_BUSY',
      'SQLITE_BUSY_RECOVERY',
      'SQLITE_BUSY_SNAPSHOT',
      'SQLITE_CONSTRAINT_UNIQUE',
    ]);
  });

  it('commits an immediate transaction, and rolls it back when the work throws', () => {
    const insert = connection.prepare('insert into parents (id, n) values (?, ?)');
    expect(immediateTransaction(connection, () => (insert.run(['p1', 1]), 'done'))).toBe('done');
    expect(() =>
      immediateTransaction(connection, () => {
        insert.run(['p2', 2]);
        insert.run(['p1', 3]); // the primary key again
      }),
    ).toThrow(expect.objectContaining({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }));
    expect(connection.prepare('select id from parents order by id').all().map((row) => (row as { id: string }).id)).toEqual(['p1']);
    immediateTransaction(connection, () => insert.run(['p3', 3])); // no transaction was left open
  });
});
