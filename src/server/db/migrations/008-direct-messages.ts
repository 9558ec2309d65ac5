import { sql, SqliteAdapter, type Kysely } from 'kysely';

/**
 * Direct messages are rooms of kind 'dm'. `dm_key` names a DM's set of people (a hash of
 * the sorted member ids, rooms/dm-key.ts): unique, so concurrent creations of one set on
 * any instance land in one room. Other rooms keep it null (both databases allow any
 * number of nulls under a unique index). PostgreSQL also gets a pattern index for the
 * people search's prefix match on username_key; SQLite's own unique index on username_key
 * serves the range query used there.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rooms').addColumn('kind', 'text', (c) => c.notNull().defaultTo('room')).execute();
  await db.schema.alterTable('rooms').addColumn('dm_key', 'text').execute();
  await db.schema.createIndex('rooms_dm_key').on('rooms').column('dm_key').unique().execute();
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) {
    await sql`create index users_username_key_prefix on users (username_key text_pattern_ops)`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) await sql`drop index if exists users_username_key_prefix`.execute(db);
  await db.schema.dropIndex('rooms_dm_key').execute();
  // DMs would turn into nameless private rooms: remove them with their members and messages.
  await db.deleteFrom('rooms').where('kind', '=', 'dm').execute();
  await db.schema.alterTable('rooms').dropColumn('dm_key').execute();
  await db.schema.alterTable('rooms').dropColumn('kind').execute();
}
