/**
 * The master key against the stored data: start-up refuses a key that cannot read what
 * is there, and rotation re-encrypts every ciphertext under the primary key.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import type { FileStorages } from '../files/storages.js';
import { REMAINING_STATES, ROTATED_STATES } from './file-keys.repository.js';
import { rotateFileContents } from './file-rotation.js';
import {
  ENCRYPTED_COLUMNS,
  type CiphertextReplacement,
  type CiphertextRow,
  type EncryptedColumn,
  type KeysRepository,
  type WalkPosition,
} from './keys.repository.js';

const CANARY_PLAINTEXT = 'securechat key canary v1';

/** The configured keys cannot read the stored data; the message says what to do. */
export class KeyMismatchError extends Error {
  override readonly name = 'KeyMismatchError';
}

export interface RotationProgress {
  done: number;
  total: number;
}

export interface RotationResult {
  reencrypted: number;
  /** Written under another key while rotation ran (an instance not yet on the new key). */
  remaining: number;
  /** Stored files whose blob is missing or incomplete, left under their old key (absent when none). */
  brokenFiles?: string[];
}

/** The batch's rows that are ours and not yet under the primary key, re-encrypted under it. */
export function reencryptBatch(keyring: Keyring, column: EncryptedColumn, batch: readonly CiphertextRow[]): CiphertextReplacement[] {
  const replacements: CiphertextReplacement[] = [];
  for (const row of batch) {
    if (row.ciphertext === null || row.keyId === null || row.keyId === keyring.primaryKeyId) continue;
    if (column.format && row.format !== column.format.value) continue;
    const plaintext = keyring.decrypt(row.ciphertext, row.keyId);
    const { ciphertext, keyId } = keyring.encrypt(plaintext);
    replacements.push({ row: { id: row.id, ciphertext: row.ciphertext }, ciphertext, keyId, ...(column.index ? { index: keyring.blindIndex(plaintext) } : {}) });
  }
  return replacements;
}

/**
 * The same promise, with its failure marked as handled now: it is awaited (and throws)
 * only after the next batch is read, and a write failing during that read must not
 * surface as an unhandled rejection, which ends the process.
 */
function observed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * `storages` (where file contents live) is needed to rotate files: without it (tests of the
 * columns alone) a rotation that finds file contents under an old key refuses rather than skip them.
 */
export function createKeysService(deps: { db: Kysely<Database>; keys: KeysRepository; keyring: Keyring; clock: Clock; storages?: FileStorages }) {
  const { db, keys, keyring, clock, storages } = deps;

  /** Ciphertexts not under the primary key: column values, then file chunks (in `states`). */
  async function countNotUnder(states: typeof ROTATED_STATES): Promise<{ columns: number; chunks: number }> {
    let columns = 0;
    for (const column of ENCRYPTED_COLUMNS) columns += await keys.countNotUnder(db, column, keyring.primaryKeyId);
    const { chunks } = await keys.files.countNotUnder(db, keyring.primaryKeyId, states);
    return { columns, chunks };
  }

  async function countRemaining(): Promise<number> {
    const { columns, chunks } = await countNotUnder(REMAINING_STATES);
    return columns + chunks;
  }

  return {
    countRemaining,

    /**
     * Proves the keyring can read the database: the canary decrypts, and no stored
     * ciphertext names a key the keyring lacks. Writes the canary on a new database.
     */
    async verify(): Promise<void> {
      const canary = await keys.readCanary(db);
      if (!canary) {
        const { ciphertext, keyId } = keyring.encrypt(CANARY_PLAINTEXT);
        await keys.writeCanary(db, ciphertext, keyId, clock.now());
      } else {
        let plaintext: string | undefined;
        try {
          plaintext = keyring.decrypt(canary.ciphertext, canary.key_id);
        } catch {
          plaintext = undefined;
        }
        if (plaintext !== CANARY_PLAINTEXT) {
          throw new KeyMismatchError(
            `The configured master key cannot decrypt this database (it was written with key ${canary.key_id}). ` +
              'Start with the key the data was encrypted with, or add it to MASTER_ENCRYPTION_KEY_FALLBACKS.',
          );
        }
      }
      // A database keyed before a feature's migration has no such table yet (verify runs before migrating).
      const tables = new Set((await db.introspection.getTables()).map((table) => table.name));
      const unknownContent = tables.has('files') ? await keys.files.findUnknownKeyId(db, keyring.keyIds) : undefined;
      if (unknownContent) {
        throw new KeyMismatchError(
          `Some file contents are encrypted with key ${unknownContent}, which is not configured. ` +
            'Add that key to MASTER_ENCRYPTION_KEY_FALLBACKS (or the key file) and start again.',
        );
      }
      for (const column of ENCRYPTED_COLUMNS.filter((candidate) => tables.has(candidate.table))) {
        const unknown = await keys.findUnknownKeyId(db, column, keyring.keyIds);
        if (unknown) {
          throw new KeyMismatchError(
            `Some ${column.table} data is encrypted with key ${unknown}, which is not configured. ` +
              'Add that key to MASTER_ENCRYPTION_KEY_FALLBACKS (or the key file) and start again.',
          );
        }
      }
    },

    /**
     * Re-encrypts every ciphertext not under the primary key, batch by batch. Each batch is
     * one statement whose every row is guarded (replaced only if unchanged since read), so
     * the job can be killed and run again at any point, and runs beside live servers
     * (which must already hold the primary key). While one batch is being written, the
     * next is read and re-encrypted: on PostgreSQL the crypto overlaps the round trip.
     * Then file contents, file by file (file-rotation.ts); the progress counts their chunks.
     */
    async rotate(options: { batchSize?: number; onProgress?: (progress: RotationProgress) => void } = {}): Promise<RotationResult> {
      const batchSize = options.batchSize ?? 500;
      const counted = await countNotUnder(ROTATED_STATES);
      if (counted.chunks > 0 && !storages) throw new Error('file contents need rotating, but the keys service was built without the file storages');
      const total = counted.columns + counted.chunks;
      let done = 0;
      options.onProgress?.({ done, total });
      const written = (count: number) => {
        done += count;
        options.onProgress?.({ done, total: Math.max(total, done) });
      };
      for (const column of ENCRYPTED_COLUMNS) {
        let writing: Promise<number> | undefined;
        try {
          for (let after: WalkPosition | undefined; ; ) {
            const batch = await keys.nextBatch(db, column, after, batchSize);
            if (batch.length === 0) break;
            after = batch[batch.length - 1]!.position;
            const replacements = reencryptBatch(keyring, column, batch);
            if (writing) written(await writing);
            writing = replacements.length > 0 ? observed(keys.replaceCiphertexts(db, column, replacements)) : undefined;
          }
          if (writing) written(await writing);
        } finally {
          // A failure (or a stop from onProgress) returns only once the write in flight has ended.
          await writing?.catch(() => undefined);
        }
      }
      // A file stored meanwhile under an old key is rotated if the walk reaches it, else counted in `remaining`.
      const { broken } = storages
        ? await rotateFileContents({ db, files: keys.files, keyring, storages, onChunks: written })
        : { broken: [] };
      const { ciphertext, keyId } = keyring.encrypt(CANARY_PLAINTEXT);
      await keys.writeCanary(db, ciphertext, keyId, clock.now());
      return { reencrypted: done, remaining: await countRemaining(), ...(broken.length > 0 ? { brokenFiles: broken } : {}) };
    },
  };
}

export type KeysService = ReturnType<typeof createKeysService>;
