import type { Kysely } from 'kysely';

// Membership events (joined, left, removed) kept for the timeline. Each carries the room's
// last seq when it happened, so a client places it between two messages exactly (no clocks).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('room_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('after_seq', 'bigint', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('change', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .execute();
  await db.schema.createIndex('room_events_room_seq').on('room_events').columns(['room_id', 'after_seq']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('room_events').execute();
}
