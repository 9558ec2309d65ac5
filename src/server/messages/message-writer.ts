/**
 * Group commit for new messages. Sends that arrive while a transaction is committing
 * wait and go into the next one together: a burst costs one commit (one fsync) instead
 * of one each. Inside a batch every room's seqs are taken with one
 * `UPDATE … SET last_seq = last_seq + n RETURNING last_seq` and all rows go in with one
 * multi-row INSERT, so seqs stay contiguous, ordered as the sends arrived, and are
 * assigned in the committing transaction.
 *
 * A retried clientId makes the batch's INSERT fail on the unique index; the batch is
 * then rolled back whole (its seqs with it) and its messages are written one per
 * transaction, where a duplicate only fails itself. Retries are rare, so the common
 * path never pays for a lookup.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { MessageRow, MessagesRepository } from './messages.repository.js';

/** A message to store; the writer assigns `seq`. */
export type NewMessage = Omit<MessageRow, 'seq'>;

/** `duplicate`: this (room, sender, clientId) was stored before; nothing was written. */
export type WriteResult = { stored: true; seq: number } | { stored: false };

interface Pending {
  message: NewMessage;
  resolve(result: WriteResult): void;
  reject(error: unknown): void;
}

// Enough to amortise a commit; small enough to stay well under SQLite's bound-parameter limit.
const MAX_BATCH = 256;

/** A unique-index violation on SQLite or PostgreSQL (here: the same clientId again). */
const isUniqueViolation = (error: unknown) => {
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
};

export function createMessageWriter(deps: { db: Kysely<Database>; messages: MessagesRepository }) {
  const { db, messages } = deps;
  const queue: Pending[] = [];
  let writing = false;

  async function writeBatch(batch: Pending[]): Promise<number[]> {
    return db.transaction().execute(async (trx) => {
      const perRoom = new Map<string, Pending[]>();
      for (const pending of batch) {
        const room = perRoom.get(pending.message.room_id);
        if (room) room.push(pending);
        else perRoom.set(pending.message.room_id, [pending]);
      }
      const seqs = new Map<Pending, number>();
      for (const [roomId, pendings] of perRoom) {
        const last = await messages.takeSeqs(trx, roomId, pendings.length);
        pendings.forEach((pending, i) => seqs.set(pending, last - pendings.length + 1 + i));
      }
      await messages.insertMany(
        trx,
        batch.map((pending) => ({ ...pending.message, seq: seqs.get(pending)! })),
      );
      return batch.map((pending) => seqs.get(pending)!);
    });
  }

  /** One message in its own transaction: the slow path after a batch failed. */
  async function writeOne(message: NewMessage): Promise<WriteResult> {
    try {
      const seq = await db.transaction().execute(async (trx) => {
        const next = await messages.takeSeqs(trx, message.room_id, 1);
        await messages.insertMany(trx, [{ ...message, seq: next }]);
        return next;
      });
      return { stored: true, seq };
    } catch (error) {
      if (isUniqueViolation(error)) return { stored: false };
      throw error;
    }
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        const seqs = await writeBatch(batch);
        batch.forEach((pending, i) => pending.resolve({ stored: true, seq: seqs[i]! }));
      } catch {
        for (const pending of batch) await writeOne(pending.message).then(pending.resolve, pending.reject);
      }
    }
    writing = false;
  }

  return {
    /** Stores the message in the next group commit; resolves once that commit is done. */
    write(message: NewMessage): Promise<WriteResult> {
      return new Promise<WriteResult>((resolve, reject) => {
        queue.push({ message, resolve, reject });
        if (writing) return;
        writing = true;
        // Let the sends already on their way (resolved in this turn of the event loop)
        // join the first batch instead of each starting its own.
        setImmediate(() => void drain());
      });
    },
  };
}

export type MessageWriter = ReturnType<typeof createMessageWriter>;
