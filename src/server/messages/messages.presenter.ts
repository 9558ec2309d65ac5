/** What a client sees of a message: the one builder of the wire shape. Bodies are decrypted here, and only here. */
import type { FileInfo, Message, Reaction, ReplyRef } from '../../shared/protocol.js';
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
  deletedAt?: number | null;
  changeSeq?: number;
  reactions?: Reaction[];
  mentions?: readonly string[];
  replyTo?: ReplyRef;
  attachments?: readonly FileInfo[];
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
    reactions: parts.reactions ?? [],
    mentions: [...(parts.mentions ?? [])],
    // A tombstone carries no files: they were released with it.
    attachments: parts.deletedAt != null ? [] : [...(parts.attachments ?? [])],
  };
  if (parts.replyTo) message.replyTo = parts.replyTo;
  if (parts.editedAt !== null) message.editedAt = isoTime(parts.editedAt);
  if (parts.deletedAt != null) message.deletedAt = isoTime(parts.deletedAt);
  if (parts.changeSeq) message.changeSeq = parts.changeSeq;
  return message;
}

/** The cache's handle on a message's bodies (its current one and earlier versions), so a delete can forget them all. */
export const bodyRef = (roomId: string, seq: number) => `${roomId}:${seq}`;

/** `reactions`: the message's, when it has any (a message never changed has none); `attachments` likewise. */
export function presentMessage(row: MessageWithSenderRow, bodies: MessageBodies, reactions?: Reaction[], attachments?: readonly FileInfo[]): Message {
  const seq = Number(row.seq);
  const deleted = row.deleted_at != null;
  return messageOf({
    id: row.id,
    roomId: row.room_id,
    seq,
    sender: { id: row.sender_id, username: row.sender_username },
    body: deleted ? '' : bodies.open(row.body_ciphertext, row.body_key_id ?? undefined, bodyRef(row.room_id, seq)),
    clientId: row.client_id,
    createdAt: Number(row.created_at),
    editedAt: row.edited_at !== null ? Number(row.edited_at) : null,
    deletedAt: deleted ? Number(row.deleted_at) : null,
    changeSeq: Number(row.change_seq ?? 0),
    reactions,
    mentions: row.mention_ids ? row.mention_ids.split(',') : [],
    attachments,
  });
}
