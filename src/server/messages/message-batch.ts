/**
 * What the group commit (message-writer.ts) and the two batch stores share: a batch's
 * messages, the store's interface, and the helpers both stores use. The stores themselves
 * are in message-store.ts (PostgreSQL, and the choice) and sqlite-message-store.ts.
 */
import type { ChunkWriter } from '../files/chunk-writer.js';
import type { MessageRow } from './messages.repository.js';

/**
 * A message to store; the store assigns `seq`. `attachments`: ids of files to attach in the
 * same transaction (files.message_seq), each only if it is still the sender's stored,
 * unattached upload to the room; otherwise the transaction fails with AttachmentUnavailableError.
 */
export type NewMessage = Omit<MessageRow, 'seq'> & { attachments?: readonly string[] };

/** The code the stores (and the SQLite writer thread's replies) give a file that could not be attached. */
export const ATTACHMENT_UNAVAILABLE = 'ATTACHMENT_UNAVAILABLE';

/** A file a message names could not be attached (taken by another send meanwhile, or never attachable): nothing was stored. */
export class AttachmentUnavailableError extends Error {
  readonly code = ATTACHMENT_UNAVAILABLE;
  constructor(readonly fileId: string) {
    super(`file ${fileId} could not be attached`);
  }
}

export function isAttachmentUnavailable(error: unknown): error is AttachmentUnavailableError {
  return error instanceof AttachmentUnavailableError;
}

export interface MessageStore {
  /**
   * Stores the messages in one transaction and returns their seqs, in the order given:
   * each room's messages get its next contiguous seqs, and each sender's read marker moves
   * up to their last one, and the files each names are attached to it. Nothing is stored when it throws
   * (a reused clientId throws a unique violation, see isUniqueViolation; a file that cannot
   * be attached, AttachmentUnavailableError).
   */
  insertBatch(messages: readonly NewMessage[]): Promise<number[]>;
  /** SQLite only: the database file storage's writes, queued with the batches on the same writer. */
  readonly chunks?: ChunkWriter;
  close(): Promise<void>;
}

/** A unique-index violation on SQLite or PostgreSQL (for messages: the same clientId again). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** Groups messages by room, keeping their order; each room's positions in the input. */
export function positionsByRoom(messages: readonly NewMessage[]): Map<string, number[]> {
  const rooms = new Map<string, number[]>();
  messages.forEach((message, i) => {
    const positions = rooms.get(message.room_id);
    if (positions) positions.push(i);
    else rooms.set(message.room_id, [i]);
  });
  return rooms;
}
