/** What a client sees of a message. Bodies are decrypted here, and only here. */
import type { Message } from '../../shared/protocol.js';
import { isoTime } from '../clock.js';
import type { MessageBodies } from './message-bodies.js';
import type { MessageWithSenderRow } from './messages.repository.js';

export function presentMessage(row: MessageWithSenderRow, bodies: MessageBodies): Message {
  return {
    id: row.id,
    roomId: row.room_id,
    seq: Number(row.seq),
    sender: { id: row.sender_id, username: row.sender_username },
    body: bodies.open(row.body_ciphertext, row.body_key_id ?? undefined),
    clientId: row.client_id,
    createdAt: isoTime(Number(row.created_at)),
    ...(row.edited_at !== null ? { editedAt: isoTime(Number(row.edited_at)) } : {}),
  };
}
