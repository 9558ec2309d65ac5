import type { Kysely } from 'kysely';

// Invites can be revoked (kept, so a revoked link is told so), and a removal or ban is not
// undone by an invite made before it: each invite of the room at that moment excludes the user.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('room_invites').addColumn('revoked_at', 'bigint').execute();
  await db.schema.createIndex('room_invites_room_id').on('room_invites').column('room_id').execute();
  await db.schema
    .createTable('room_invite_exclusions')
    .addColumn('invite_id', 'text', (c) => c.notNull().references('room_invites.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('room_invite_exclusions_pk', ['invite_id', 'user_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('room_invite_exclusions').execute();
  await db.schema.dropIndex('room_invites_room_id').execute();
  await db.schema.alterTable('room_invites').dropColumn('revoked_at').execute();
}
