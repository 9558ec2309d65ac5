import { sql, SqliteAdapter, type Kysely } from 'kysely';
import { nameKeys } from '../../names/name-keys.js';

/**
 * Names reserved by look-alike keys (server/names/name-keys.ts) instead of by the lower-cased
 * name: `username_keys` for accounts, `room_name_keys` for public rooms only. A private room
 * reserves no name, so rooms.name_key stops being unique (SQLite cannot drop a column's
 * UNIQUE: the table is rebuilt). Existing names are reserved oldest first; where two existing
 * names already clash, both are kept and the older one holds the shared key.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) await rebuildRoomsWithoutUniqueNameKey(db);
  else await sql`alter table rooms drop constraint rooms_name_key_key`.execute(db);
  await db.schema.createIndex('rooms_name_key').on('rooms').column('name_key').execute();

  await db.schema
    .createTable('username_keys')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('username_keys_user_id').on('username_keys').column('user_id').execute();
  await db.schema
    .createTable('room_name_keys')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('room_name_keys_room_id').on('room_name_keys').column('room_id').execute();

  const users = await db.selectFrom('users').select(['id', 'username as name']).orderBy('created_at').orderBy('id').execute();
  await reserveOldestFirst(db, 'username_keys', 'user_id', users);
  const rooms = await db.selectFrom('rooms').select(['id', 'name']).where('is_private', '=', 0).orderBy('created_at').orderBy('id').execute();
  await reserveOldestFirst(db, 'room_name_keys', 'room_id', rooms);
}

async function reserveOldestFirst(db: Kysely<any>, table: string, owner: string, rows: Array<{ id: string; name: string }>): Promise<void> {
  const taken = new Set<string>();
  const values: Array<Record<string, string>> = [];
  for (const row of rows) {
    for (const key of nameKeys(row.name)) {
      if (taken.has(key)) continue;
      taken.add(key);
      values.push({ key, [owner]: row.id });
    }
  }
  for (let i = 0; i < values.length; i += 500) await db.insertInto(table).values(values.slice(i, i + 500)).execute();
}

/** SQLite's documented table rebuild: same columns and indexes, name_key without UNIQUE. */
async function rebuildRoomsWithoutUniqueNameKey(db: Kysely<any>): Promise<void> {
  const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'rooms'`.execute(db);
  const createRooms = table.rows[0]?.sql ?? '';
  const createNew = createRooms.replace('"name_key" text not null unique', '"name_key" text not null').replace(/^create table "rooms"/i, 'create table "rooms_new"');
  if (createNew === createRooms || !createNew.startsWith('create table "rooms_new"')) {
    throw new Error('rooms is not as migration 001 created it; cannot drop the unique name_key');
  }
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'rooms' and sql is not null`.execute(db);
  // Off while the table is swapped, so dropping the old one cascades to no member or message;
  // the migrator runs SQLite migrations outside a transaction, where this pragma takes effect.
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (trx) => {
      await sql.raw(createNew).execute(trx);
      await sql`insert into rooms_new select * from rooms`.execute(trx);
      await sql`drop table rooms`.execute(trx);
      await sql`alter table rooms_new rename to rooms`.execute(trx);
      for (const index of indexes.rows) await sql.raw(index.sql).execute(trx);
      const broken = await sql`pragma foreign_key_check`.execute(trx);
      if (broken.rows.length > 0) throw new Error('foreign keys broken by the rooms rebuild');
    });
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}

/**
 * One-way: once private rooms share names, rooms.name_key cannot be made unique again
 * without renaming or deleting rooms, and a down that left it non-unique would hand the
 * older version a schema it does not expect. So it refuses, before changing anything.
 */
export async function down(): Promise<void> {
  throw new Error(
    'Migration 007-name-keys is one-way: rooms.name_key is no longer unique and private rooms may now share names. ' +
      'To go back to an older version, restore the backup taken before the upgrade.',
  );
}
