/**
 * SQL for key management. Rotation is the one job that touches every encrypted column
 * of every feature, so its SQL lives here rather than in each feature's repository.
 */
import type { Kysely } from 'kysely';
import type { Db } from '../db/schema.js';

/** One encrypted column: where a ciphertext lives and the column naming its key. */
export interface EncryptedColumn {
  table: 'users' | 'rooms' | 'messages';
  ciphertext: 'email_ciphertext' | 'description_ciphertext' | 'body_ciphertext';
  keyId: 'email_key_id' | 'description_key_id' | 'body_key_id';
  /** Blind index recomputed alongside (emails). */
  index?: 'email_index';
  /** Only rows in this format are ours to re-encrypt (end-to-end bodies are not). */
  format?: { column: 'body_format'; value: string };
}

export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { table: 'users', ciphertext: 'email_ciphertext', keyId: 'email_key_id', index: 'email_index' },
  { table: 'rooms', ciphertext: 'description_ciphertext', keyId: 'description_key_id' },
  { table: 'messages', ciphertext: 'body_ciphertext', keyId: 'body_key_id', format: { column: 'body_format', value: 'fernet' } },
];

export interface CiphertextRow {
  id: string;
  ciphertext: string;
  keyId: string;
}

const CANARY_ID = 'master';

// Kysely cannot type a table chosen at run time; these queries are checked by the tests instead.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const untyped = (db: Db) => db as unknown as Kysely<any>;

export function createKeysRepository() {
  return {
    async readCanary(db: Db) {
      return db.selectFrom('key_canary').selectAll().where('id', '=', CANARY_ID).executeTakeFirst();
    },

    async writeCanary(db: Db, ciphertext: string, keyId: string, now: number): Promise<void> {
      await db
        .insertInto('key_canary')
        .values({ id: CANARY_ID, ciphertext, key_id: keyId, created_at: now })
        .onConflict((conflict) => conflict.column('id').doUpdateSet({ ciphertext, key_id: keyId }))
        .execute();
    },

    /** A key id used by some stored ciphertext of this column that is not in `known`, if any. */
    async findUnknownKeyId(db: Db, column: EncryptedColumn, known: readonly string[]): Promise<string | undefined> {
      const row = await untyped(db)
        .selectFrom(column.table)
        .select(`${column.keyId} as keyId`)
        .where(column.keyId, 'is not', null)
        .where(column.keyId, 'not in', known)
        .limit(1)
        .executeTakeFirst();
      return row?.keyId;
    },

    async countNotUnder(db: Db, column: EncryptedColumn, keyId: string): Promise<number> {
      let query = untyped(db)
        .selectFrom(column.table)
        .select((eb) => eb.fn.countAll().as('count'))
        .where(column.keyId, 'is not', null)
        .where(column.keyId, '!=', keyId);
      if (column.format) query = query.where(column.format.column, '=', column.format.value);
      const row = await query.executeTakeFirst();
      return Number(row?.count ?? 0);
    },

    /** The next batch of ciphertexts not under `keyId`, in id order after `afterId`. */
    async nextBatchNotUnder(db: Db, column: EncryptedColumn, keyId: string, afterId: string, limit: number): Promise<CiphertextRow[]> {
      let query = untyped(db)
        .selectFrom(column.table)
        .select(['id', `${column.ciphertext} as ciphertext`, `${column.keyId} as keyId`])
        .where(column.keyId, 'is not', null)
        .where(column.keyId, '!=', keyId)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit);
      if (column.format) query = query.where(column.format.column, '=', column.format.value);
      return query.execute();
    },

    /**
     * Replaces one ciphertext, but only if it is still the one that was read: a row
     * edited meanwhile keeps its new text (and is picked up by the next pass). True when replaced.
     */
    async replaceCiphertext(
      db: Db,
      column: EncryptedColumn,
      row: CiphertextRow,
      replacement: { ciphertext: string; keyId: string; index?: string },
    ): Promise<boolean> {
      const result = await untyped(db)
        .updateTable(column.table)
        .set({
          [column.ciphertext]: replacement.ciphertext,
          [column.keyId]: replacement.keyId,
          ...(column.index && replacement.index ? { [column.index]: replacement.index } : {}),
        })
        .where('id', '=', row.id)
        .where(column.ciphertext, '=', row.ciphertext)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

export type KeysRepository = ReturnType<typeof createKeysRepository>;
