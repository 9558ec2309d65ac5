/**
 * What the group commit (message-writer.ts) and the two batch stores share: a batch's
 * messages, the store's interface, and the helpers both stores use. The stores themselves
 * are in message-store.ts (PostgreSQL, and the choice) and sqlite-message-store.ts.
 */
import type { MessageRow } from './messages.repository.js';

/** A message to store; the store assigns `seq`. */
export type NewMessage = Omit<MessageRow, 'seq'>;

export interface MessageStore {
  /**
   * Stores the messages in one transaction and returns their seqs, in the order given:
   * each room's messages get its next contiguous seqs, and each sender's read marker moves
   * up to their last one. Nothing is stored when it throws
   * (a reused clientId throws a unique violation, see isUniqueViolation).
   */
  insertBatch(messages: readonly NewMessage[]): Promise<number[]>;
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
