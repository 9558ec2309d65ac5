import type { Kysely } from 'kysely';

// The search index lives in each instance's memory; this one row is how
// `securechat search reindex` asks every running instance to build it again.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('search_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('generation', 'bigint', (c) => c.notNull())
    .execute();
  await (db as Kysely<{ search_state: { id: number; generation: number } }>).insertInto('search_state').values({ id: 1, generation: 0 }).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('search_state').execute();
}
