import type { Kysely } from 'kysely';

/**
 * Replies, mentions and notification levels. A reply stores the seq it answers (its excerpt
 * is read from the original, so a delete or edit shows through). Mentions are kept twice:
 * on the row (`mention_ids`, what the message shows) and in `message_mentions`, whose key
 * (room, user, seq) counts a member's mentions after the read marker from the index alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('reply_to_seq', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('mention_ids', 'text').execute();

  await db.schema
    .alterTable('room_members')
    .addColumn('notification_level', 'text', (c) => c.notNull().defaultTo('all'))
    .execute();

  await db.schema
    .createTable('message_mentions')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_mentions_pk', ['room_id', 'user_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('message_mentions').execute();
  await db.schema.alterTable('room_members').dropColumn('notification_level').execute();
  await db.schema.alterTable('messages').dropColumn('mention_ids').execute();
  await db.schema.alterTable('messages').dropColumn('reply_to_seq').execute();
}
