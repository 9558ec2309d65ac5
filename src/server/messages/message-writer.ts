/**
 * Group commit for new messages. Sends that arrive while a transaction is committing
 * wait and go into the next one together: a burst costs one commit (one fsync) instead
 * of one each. The store (message-store.ts) takes every room's seqs for the batch and
 * inserts all its rows in that transaction, so seqs stay contiguous, ordered as the sends
 * arrived, and are assigned in the committing transaction.
 *
 * A retried clientId makes the batch's INSERT fail on the unique index; the batch is
 * then rolled back whole (its seqs with it) and its messages are written one per
 * transaction, where a duplicate only fails itself. Retries are rare, so the common
 * path never pays for a lookup. A file two sends named at once fails a batch the same way
 * (AttachmentUnavailableError): one by one, the send that lost it fails alone.
 */
import { isAttachmentUnavailable, isUniqueViolation, type MessageStore, type NewMessage } from './message-batch.js';

export type { NewMessage } from './message-batch.js';

/** `duplicate`: this (room, sender, clientId) was stored before; nothing was written. */
export type WriteResult = { stored: true; seq: number } | { stored: false };

interface Pending {
  message: NewMessage;
  resolve(result: WriteResult): void;
  reject(error: unknown): void;
}

// Enough to amortise a commit; small enough to stay well under SQLite's bound-parameter limit.
const MAX_BATCH = 256;

export function createMessageWriter(store: MessageStore) {
  const queue: Pending[] = [];
  let writing = false;

  /** One message in its own transaction: the slow path after a batch failed. */
  async function writeOne(message: NewMessage): Promise<WriteResult> {
    try {
      const [seq] = await store.insertBatch([message]);
      return { stored: true, seq: seq! };
    } catch (error) {
      if (isUniqueViolation(error)) return { stored: false };
      throw error;
    }
  }

  async function writeNextBatch(): Promise<void> {
    const batch = queue.splice(0, MAX_BATCH);
    try {
      const seqs = await store.insertBatch(batch.map((pending) => pending.message));
      batch.forEach((pending, i) => pending.resolve({ stored: true, seq: seqs[i]! }));
    } catch (error) {
      // Only a reused clientId or a file taken is worth retrying one by one; anything else
      // (the database is gone, the writer thread died) fails the batch's sends, which clients retry.
      if (isUniqueViolation(error) || isAttachmentUnavailable(error)) {
        for (const pending of batch) await writeOne(pending.message).then(pending.resolve, pending.reject);
      } else {
        for (const pending of batch) pending.reject(error);
      }
    }
    if (queue.length > 0) scheduleBatch();
    else writing = false;
  }

  // The next batch starts after the event loop's poll phase, so the sends that arrived on
  // sockets meanwhile join it instead of waiting for the one after.
  const scheduleBatch = () => setImmediate(() => void writeNextBatch());

  return {
    /** Stores the message in the next group commit; resolves once that commit is done. */
    write(message: NewMessage): Promise<WriteResult> {
      return new Promise<WriteResult>((resolve, reject) => {
        queue.push({ message, resolve, reject });
        if (writing) return;
        writing = true;
        scheduleBatch();
      });
    },
  };
}

export type MessageWriter = ReturnType<typeof createMessageWriter>;
