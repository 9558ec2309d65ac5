/**
 * Replies: a message may answer an earlier message of the same room. The row keeps only the
 * seq (`reply_to_seq`), so a send writes one more column and reads nothing; the quoted excerpt is read
 * from the original when messages are read (one query per page) and, for the live frame,
 * from the original the send path checked. An original deleted since shows `""`, `deleted`.
 */
import { excerptOf } from '../../shared/mentions.js';
import type { Message, ReplyRef } from '../../shared/protocol.js';
import type { Db } from '../db/schema.js';
import { errors } from '../http/errors.js';
import type { MessageBodies } from './message-bodies.js';
import { bodyRef } from './messages.presenter.js';
import type { MessageWithSenderRow } from './messages.repository.js';

type OriginalRow = Pick<MessageWithSenderRow, 'seq' | 'sender_id' | 'sender_username' | 'body_ciphertext' | 'body_key_id' | 'deleted_at'>;

export function createReplies(deps: { db: Db; bodies: MessageBodies }) {
  const { db, bodies } = deps;

  function originals(roomId: string, seqs: readonly number[]): Promise<OriginalRow[]> {
    return db
      .selectFrom('messages')
      .innerJoin('users', 'users.id', 'messages.sender_id')
      .select(['messages.seq', 'messages.sender_id', 'users.username as sender_username', 'messages.body_ciphertext', 'messages.body_key_id', 'messages.deleted_at'])
      .where('messages.room_id', '=', roomId)
      .where('messages.seq', 'in', [...seqs])
      .execute();
  }

  /** Opened under the original's reference, so deleting it drops this plaintext from the cache too. */
  function refOf(roomId: string, row: OriginalRow): ReplyRef {
    const deleted = row.deleted_at != null;
    return {
      seq: Number(row.seq),
      sender: { id: row.sender_id, username: row.sender_username },
      excerpt: deleted ? '' : excerptOf(bodies.open(row.body_ciphertext, row.body_key_id ?? undefined, bodyRef(roomId, Number(row.seq)))),
      ...(deleted ? { deleted: true } : {}),
    };
  }

  return {
    /** The original a new message replies to; a 400 when it is not a message of this room. */
    async check(roomId: string, seq: number): Promise<ReplyRef> {
      const [row] = await originals(roomId, [seq]);
      if (!row) throw errors.validation('replyTo must be the seq of a message in this room.', 'replyTo');
      return refOf(roomId, row);
    },

    /** Fills `replyTo` on the messages read from these rows: one query for all their originals. */
    async attach(roomId: string, rows: ReadonlyArray<Pick<MessageWithSenderRow, 'seq' | 'reply_to_seq'>>, messages: Message[]): Promise<Message[]> {
      const wanted = [...new Set(rows.map((row) => row.reply_to_seq).filter((seq): seq is number => seq !== null).map(Number))];
      if (wanted.length === 0) return messages;
      const found = new Map((await originals(roomId, wanted)).map((row) => [Number(row.seq), refOf(roomId, row)]));
      const bySeq = new Map(rows.map((row) => [Number(row.seq), row.reply_to_seq]));
      for (const message of messages) {
        const replyTo = bySeq.get(message.seq);
        if (replyTo == null) continue;
        // An original that is gone altogether (not a tombstone) still shows as deleted.
        message.replyTo = found.get(Number(replyTo)) ?? { seq: Number(replyTo), sender: { id: '', username: '' }, excerpt: '', deleted: true };
      }
      return messages;
    },
  };
}

export type Replies = ReturnType<typeof createReplies>;
