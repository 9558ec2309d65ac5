/** What a client sees of a message: the one builder of the wire shape. Bodies are decrypted here, and only here. */
import type { Message, ReplyRef } from '../../shared/protocol.js';
import { isoTime } from '../clock.js';
import type { MessageBodies } from './message-bodies.js';
import type { MessageWithSenderRow } from './messages.repository.js';

/** A message's parts in plain values (times in ms), as the send path has them before any row exists. */
export interface MessageParts {
  id: string;
  roomId: string;
  seq: number;
  sender: { id: string; username: string };
  body: string;
  clientId: string;
  createdAt: number;
  editedAt: number | null;
  mentions?: readonly string[];
  replyTo?: ReplyRef;
}

export function messageOf(parts: MessageParts): Message {
  const message: Message = {
    id: parts.id,
    roomId: parts.roomId,
    seq: parts.seq,
    sender: parts.sender,
    body: parts.body,
    clientId: parts.clientId,
    createdAt: isoTime(parts.createdAt),
    mentions: [...(parts.mentions ?? [])],
  };
  if (parts.replyTo) message.replyTo = parts.replyTo;
  if (parts.editedAt !== null) message.editedAt = isoTime(parts.editedAt);
  return message;
}

export function presentMessage(row: MessageWithSenderRow, bodies: MessageBodies): Message {
  return messageOf({
    id: row.id,
    roomId: row.room_id,
    seq: Number(row.seq),
    sender: { id: row.sender_id, username: row.sender_username },
    body: bodies.open(row.body_ciphertext, row.body_key_id ?? undefined),
    clientId: row.client_id,
    createdAt: Number(row.created_at),
    editedAt: row.edited_at !== null ? Number(row.edited_at) : null,
    mentions: row.mention_ids ? row.mention_ids.split(',') : [],
  });
}
