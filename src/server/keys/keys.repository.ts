/**
 * SQL for key management. Rotation is the one job that touches every encrypted column
 * of every feature, so its SQL lives here rather than in each feature's repository.
 */
import { sql, type Kysely } from 'kysely';
import type { DatabaseTarget } from '../config.js';
import type { Db } from '../db/schema.js';
import { createFileKeysRepository } from './file-keys.repository.js';

/** One encrypted column: where a ciphertext lives and the column naming its key. */
export interface EncryptedColumn {
  table: 'users' | 'rooms' | 'messages' | 'message_edits' | 'files';
  ciphertext: 'email_ciphertext' | 'description_ciphertext' | 'body_ciphertext' | 'meta_ciphertext';
  keyId: 'email_key_id' | 'description_key_id' | 'body_key_id' | 'meta_key_id';
  /** Blind index recomputed alongside (emails). */
  index?: 'email_index';
  /** Only rows in this format are ours to re-encrypt (end-to-end bodies are not). */
  format?: { column: 'body_format'; value: string };
}

export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { table: 'users', ciphertext: 'email_ciphertext', keyId: 'email_key_id', index: 'email_index' },
  { table: 'rooms', ciphertext: 'description_ciphertext', keyId: 'description_key_id' },
  { table: 'messages', ciphertext: 'body_ciphertext', keyId: 'body_key_id', format: { column: 'body_format', value: 'fernet' } },
  // Earlier versions of edited messages.
  { table: 'message_edits', ciphertext: 'body_ciphertext', keyId: 'body_key_id', format: { column: 'body_format', value: 'fernet' } },
  // A file's name, type and dimensions (its contents are blobs: see file-rotation.ts).
  { table: 'files', ciphertext: 'meta_ciphertext', keyId: 'meta_key_id' },
];

/** Where rotation is in a table: the walk key of the last row it read. */
export type WalkPosition = string | number;

/** A row as rotation reads it; it re-encrypts only those under another key in our format. */
export interface CiphertextRow {
  id: string;
  ciphertext: string | null;
  keyId: string | null;
  /** The body format, for columns that have one. */
  format?: string;
  position: WalkPosition;
}

/** The new ciphertext for a row read by nextBatch (and its blind index, for emails). */
export interface CiphertextReplacement {
  /** The row's id and the ciphertext that was read (the guard). */
  row: { id: string; ciphertext: string };
  ciphertext: string;
  keyId: string;
  index?: string;
}

const CANARY_ID = 'master';

// Kysely cannot type a table chosen at run time; these queries are checked by the tests instead.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const untyped = (db: Db) => db as unknown as Kysely<any>;

/**
 * `dialect` picks the order rotation walks a table in. On SQLite it is the rowid: the
 * order rows sit in the file, so a batch rewrites a few neighbouring pages (walking by the
 * random UUID touched a page per row and ran 2.6x slower). PostgreSQL has no stable
 * physical order, so it walks the primary key.
 */
export function createKeysRepository(dialect: DatabaseTarget['dialect']) {
  const walk = dialect === 'sqlite' ? 'rowid' : 'id';
  return {
    /** File contents (blobs, not a column): their rows' key ids. */
    files: createFileKeysRepository(),

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

    /**
     * The next `limit` rows after `after` in walk order, whatever key they are under: the
     * caller skips those already done. Filtering here instead would let PostgreSQL, misled
     * by stale statistics on a freshly filled table, scan and sort the table per batch.
     */
    async nextBatch(db: Db, column: EncryptedColumn, after: WalkPosition | undefined, limit: number): Promise<CiphertextRow[]> {
      const position = sql.ref(walk);
      let query = untyped(db)
        .selectFrom(column.table)
        .select([sql<WalkPosition>`${position}`.as('position'), 'id', `${column.ciphertext} as ciphertext`, `${column.keyId} as keyId`])
        .orderBy(position)
        .limit(limit);
      if (column.format) query = query.select(`${column.format.column} as format`);
      if (after !== undefined) query = query.where(position, '>', after);
      return query.execute();
    },

    /**
     * Replaces a batch of ciphertexts in one statement, each only if it is still the one
     * that was read: a row edited meanwhile keeps its new text (and is picked up by the
     * next pass). Returns how many were replaced. One statement per batch rather than one
     * per row: on PostgreSQL each statement is a round trip.
     */
    async replaceCiphertexts(db: Db, column: EncryptedColumn, replacements: readonly CiphertextReplacement[]): Promise<number> {
      if (replacements.length === 0) return 0;
      // PostgreSQL takes the rows as one array per column: one short text to parse instead
      // of five parameters a row. SQLite has no arrays; it prepares the VALUES text once.
      const each = (pick: (r: CiphertextReplacement) => string | null) => replacements.map(pick);
      const replacement =
        dialect === 'postgres'
          ? sql`select * from unnest(${each((r) => r.row.id)}::text[], ${each((r) => r.row.ciphertext)}::text[],
              ${each((r) => r.ciphertext)}::text[], ${each((r) => r.keyId)}::text[], ${each((r) => r.index ?? null)}::text[])`
          : sql`values ${sql.join(replacements.map(({ row, ciphertext, keyId, index }) => sql`(${row.id}, ${row.ciphertext}, ${ciphertext}, ${keyId}, ${index ?? null})`))}`;
      const table = sql.table(column.table);
      const setIndex = column.index ? sql`, ${sql.ref(column.index)} = replacement.new_index` : sql``;
      // Rooms on PostgreSQL are locked in id order first, as the message batch locks them
      // (an UPDATE alone locks rows in the order its scan meets them), so a rotation batch
      // and a message batch cannot deadlock. Only rooms: no other writer holds several rows
      // of the other tables, and on messages the extra lock halved rotation's speed.
      const lockInOrder = dialect === 'postgres' && column.table === 'rooms';
      const locked = lockInOrder
        ? sql`, locked as (select id from ${table} where id in (select id from replacement) order by id for no key update)`
        : sql``;
      const joinLocked = lockInOrder ? sql` join locked on locked.id = replacement.id` : sql``;
      const result = await sql`
        with replacement(id, old_ciphertext, new_ciphertext, new_key_id, new_index) as (${replacement})${locked}
        update ${table}
        set ${sql.ref(column.ciphertext)} = replacement.new_ciphertext, ${sql.ref(column.keyId)} = replacement.new_key_id${setIndex}
        from replacement${joinLocked}
        where ${table}.id = replacement.id and ${table}.${sql.ref(column.ciphertext)} = replacement.old_ciphertext
      `.execute(db);
      return Number(result.numAffectedRows ?? 0);
    },
  };
}

export type KeysRepository = ReturnType<typeof createKeysRepository>;
