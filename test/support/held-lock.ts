/**
 * A lock another writer holds: a transaction takes it with `statement`, and keeps it until
 * the returned function is called (which resolves once that transaction has ended).
 */
import type { Kysely, RawBuilder } from 'kysely';
import type { Database } from '../../src/server/db/schema.js';

export async function holdLock(db: Kysely<Database>, statement: RawBuilder<unknown>): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const holding = new Promise<void>((resolve) => (held = resolve));
  const holder = db.transaction().execute(async (trx) => {
    await statement.execute(trx);
    held();
    await released;
  });
  await holding;
  return async () => {
    release();
    await holder;
  };
}
