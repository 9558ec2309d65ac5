import type { Kysely } from 'kysely';

/**
 * Edits, deletes and reactions. Each change bumps the room's change counter and stamps the
 * message with it, so a client that was away asks for `changedAfter=<counter>`. Earlier
 * versions are Fernet tokens like bodies (walked by key rotation by id, like messages).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rooms').addColumn('last_change', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('messages').addColumn('deleted_at', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('change_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('messages_room_change_seq').on('messages').columns(['room_id', 'change_seq']).execute();

  await db.schema
    .createTable('message_edits')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('body_format', 'text', (c) => c.notNull())
    .addColumn('body_ciphertext', 'text', (c) => c.notNull())
    .addColumn('body_key_id', 'text')
    .addColumn('edited_at', 'bigint', (c) => c.notNull())
    // The room's change counter at the edit: orders the versions newest first.
    .addColumn('change_seq', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('message_edits_room_seq').on('message_edits').columns(['room_id', 'seq']).execute();
  await db.schema.createIndex('message_edits_body_key_id').on('message_edits').column('body_key_id').execute();

  await db.schema
    .createTable('message_reactions')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('emoji', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_reactions_pk', ['room_id', 'seq', 'emoji', 'user_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('message_reactions').execute();
  await db.schema.dropTable('message_edits').execute();
  await db.schema.dropIndex('messages_room_change_seq').execute();
  await db.schema.alterTable('messages').dropColumn('change_seq').execute();
  await db.schema.alterTable('messages').dropColumn('deleted_at').execute();
  await db.schema.alterTable('rooms').dropColumn('last_change').execute();
}
