/**
 * Counters in the database, for instances sharing PostgreSQL (or one SQLite file): fixed
 * windows in `rate_limit_counters`, attempt budgets in `attempt_budgets`. Every hit and
 * every reservation is one atomic upsert, so no two instances read the same count.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../db/schema.js';
import { attemptDelayMs, type AttemptBudget, type CounterStore } from './counters.js';

const big = (value: number) => sql<number>`cast(${value} as bigint)`;

/** The budget's delay for a step computed in SQL, as a CASE over the (few) doubling steps. */
function delaySql(budget: AttemptBudget, step: RawBuilder<number>): RawBuilder<number> {
  const steps: RawBuilder<unknown>[] = [];
  for (let n = 1; attemptDelayMs(budget, n) < budget.maxDelayMs; n += 1) steps.push(sql`when ${step} <= ${n} then ${big(attemptDelayMs(budget, n))}`);
  // A budget without delays (every step is maxDelayMs, e.g. 0) has no step to tell apart.
  if (steps.length === 0) return big(budget.maxDelayMs);
  return sql<number>`(case ${sql.join(steps, sql` `)} else ${big(budget.maxDelayMs)} end)`;
}

export function createSqlCounterStore(db: Kysely<Database>): CounterStore {
  return {
    async hit(key, windowMs, now) {
      const row = await db
        .insertInto('rate_limit_counters')
        .values({ key, count: 1, reset_at: now + windowMs })
        .onConflict((conflict) =>
          conflict.column('key').doUpdateSet({
            count: sql<number>`case when rate_limit_counters.reset_at <= ${now} then 1 else rate_limit_counters.count + 1 end`,
            reset_at: sql<number>`case when rate_limit_counters.reset_at <= ${now} then ${now + windowMs} else rate_limit_counters.reset_at end`,
          }),
        )
        .returning(['count', 'reset_at'])
        .executeTakeFirstOrThrow();
      return { count: Number(row.count), resetAt: Number(row.reset_at) };
    },
    async reserveAttempt(key, budget, now) {
      // Every SET expression reads the row as it was before this statement; a granted
      // reservation writes our holder, a refused one leaves the row as it was.
      const holder = randomUUID();
      const { free, memoryMs } = budget;
      const old = sql.ref('attempt_budgets.count');
      const ended = sql`attempt_budgets.reset_at <= ${big(now)}`;
      const refused = sql`(not ${ended} and ${old} >= ${free} and attempt_budgets.next_at > ${big(now)})`;
      const count = sql<number>`(case when ${ended} then 0 else ${old} end + 1)`;
      const nextAt = sql<number>`(case when ${count} >= ${free} then ${big(now)} + ${delaySql(budget, sql<number>`${count} - ${free} + 1`)} else ${big(0)} end)`;
      const firstNextAt = free > 1 ? 0 : now + attemptDelayMs(budget, 1);
      const row = await db
        .insertInto('attempt_budgets')
        .values({ key, count: 1, next_at: firstNextAt, reset_at: (firstNextAt || now) + memoryMs, holder })
        .onConflict((conflict) =>
          conflict.column('key').doUpdateSet({
            count: sql<number>`case when ${refused} then ${old} else ${count} end`,
            next_at: sql<number>`case when ${refused} then attempt_budgets.next_at else ${nextAt} end`,
            reset_at: sql<number>`case when ${refused} then attempt_budgets.reset_at when ${count} >= ${free} then ${nextAt} + ${big(memoryMs)} else ${big(now + memoryMs)} end`,
            holder: sql<string>`case when ${refused} then attempt_budgets.holder else ${holder} end`,
          }),
        )
        .returning(['count', 'next_at', 'holder'])
        .executeTakeFirstOrThrow();
      return row.holder === holder ? { granted: true, count: Number(row.count) } : { granted: false, retryAt: Number(row.next_at) };
    },
    async releaseAttempt(key) {
      await db.updateTable('attempt_budgets').set({ count: sql<number>`count - 1` }).where('key', '=', key).where('count', '>', 0).execute();
    },
    async clearAttempts(key) {
      await db.deleteFrom('attempt_budgets').where('key', '=', key).execute();
    },
    async sweep(now) {
      const windows = await db.deleteFrom('rate_limit_counters').where('reset_at', '<=', now).executeTakeFirst();
      const budgets = await db.deleteFrom('attempt_budgets').where('reset_at', '<=', now).executeTakeFirst();
      return Number(windows.numDeletedRows) + Number(budgets.numDeletedRows);
    },
  };
}
