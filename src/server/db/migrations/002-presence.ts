import type { Kysely } from 'kysely';

/**
 * Presence shared by several instances (used with the PostgreSQL bus): one row while an
 * instance holds at least one socket of a user. `heartbeat_at` is the database's own
 * clock, refreshed by the instance; rows of an instance that stopped refreshing them
 * (it crashed) expire, so its users go offline after a bounded time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('presence')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('presence_pk', ['user_id', 'instance_id'])
    .execute();
  await db.schema.createIndex('presence_instance_id').on('presence').column('instance_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('presence').execute();
}
