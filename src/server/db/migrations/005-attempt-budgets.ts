import type { Kysely } from 'kysely';

// Shared sign-in attempt budgets for instances without Redis: one row per (hashed) key,
// reserved in one upsert before a password is checked.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Counter rows are named by a keyed hash (withHashedKeys), so no username or IP is stored;
  // rows named in clear are deleted: nothing reads them, and they hold exactly that.
  await db.deleteFrom('rate_limit_counters' as never).execute();
  await db.schema
    .createTable('attempt_budgets')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('next_at', 'bigint', (c) => c.notNull())
    .addColumn('reset_at', 'bigint', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('attempt_budgets_reset_at').on('attempt_budgets').column('reset_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('attempt_budgets').execute();
}
