/**
 * Sending and reading messages. The path is short on purpose: validate → authorize →
 * encrypt → group commit (next seq + insert, idempotent on clientId; see
 * message-writer.ts) → publish. A message is acknowledged only once it is committed.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LIMITS, type FileInfo, type Message, type MessagePage, type User } from '../../shared/protocol.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { errors } from '../http/errors.js';
import type { Metrics } from '../http/metrics.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { MessageBodies } from './message-bodies.js';
import { messageOf, presentMessage } from './messages.presenter.js';
import type { MessageWriter } from './message-writer.js';
import type { MessagesRepository, MessageWithSenderRow } from './messages.repository.js';
import { mentionedNames } from '../../shared/mentions.js';
import type { MentionsRepository } from './mentions.repository.js';
import type { ReactionsRepository } from './reactions.repository.js';
import type { Replies } from './replies.js';
import { invalidAttachment, type Attachments } from '../files/attachments.service.js';
import { isAttachmentUnavailable } from './message-batch.js';

export interface SendResult {
  message: Message;
  /** False when the clientId had already been used: the earlier message is returned. */
  created: boolean;
}

export function createMessagesService(deps: {
  db: Kysely<Database>;
  messages: MessagesRepository;
  /** Where new messages are written, in group commits. */
  writer: MessageWriter;
  rooms: RoomsService;
  /** Encrypts new bodies and decrypts stored ones. */
  bodies: MessageBodies;
  /** Reactions of the messages read (message-changes.service.ts makes them). */
  reactions: Pick<ReactionsRepository, 'forMessages'>;
  clock: Clock;
  bus: Bus;
  maxLength: number;
  limiter: RateLimiter;
  sendsPerMinute: number;
  /** Counts committed messages. */
  metrics?: Pick<Metrics, 'messageSent'>;
  /** Reply excerpts (messages/replies.ts) and the members a body mentions. */
  replies: Replies;
  mentions: MentionsRepository;
  /** The files a send names (checked, then attached in its transaction) and those of the messages read. */
  attachments: Pick<Attachments, 'forSend' | 'ofRows'>;
}) {
  const { db, messages, writer, rooms, bodies, clock, bus, maxLength, limiter, sendsPerMinute } = deps;

  /** With files attached the body may be empty. */
  function validate(body: string, clientId: string, withFiles: boolean): string {
    const text = body.trim();
    if (text.length === 0 && !withFiles) throw errors.validation('Write something before sending.', 'body');
    if (text.length > maxLength) throw errors.validation(`Messages may be at most ${maxLength} characters.`, 'body');
    if (clientId.length === 0 || clientId.length > LIMITS.clientIdMax) {
      throw errors.validation(`clientId must be 1 to ${LIMITS.clientIdMax} characters.`, 'clientId');
    }
    return text;
  }

  async function existing(roomId: string, sender: User, clientId: string): Promise<Message | undefined> {
    const row = await messages.findByClientId(db, roomId, sender.id, clientId);
    return row ? (await present(roomId, [row]))[0] : undefined;
  }

  /**
   * Runs the read beside the access check rather than after it: on PostgreSQL the two round
   * trips overlap. The check's answer comes first: a caller without access is refused as
   * soon as the check says so, whether the read failed or has not finished, and rows are
   * returned (and decrypted) only once the check has passed.
   */
  async function readAuthorized<T>(userId: string, roomId: string, read: () => Promise<T>): Promise<T> {
    const rows = read();
    // Observed at once: after a refusal nobody awaits the read, and its failure must not go unhandled.
    rows.catch(() => undefined);
    await rooms.authorize(userId, roomId, 'read');
    return rows;
  }

  /**
   * Rows as members see them: reply excerpts read in one query; reactions only for messages
   * changed at least once, and files only for messages that carry some (the row says), so a
   * page of plain, unchanged ones costs no lookup for them.
   */
  async function present(roomId: string, rows: MessageWithSenderRow[]): Promise<Message[]> {
    const changed = rows.filter((row) => Number(row.change_seq ?? 0) > 0).map((row) => Number(row.seq));
    const [bySeq, files] = await Promise.all([
      changed.length > 0 ? deps.reactions.forMessages(db, roomId, changed) : undefined,
      deps.attachments.ofRows(db, roomId, rows),
    ]);
    return deps.replies.attach(roomId, rows, rows.map((row) => presentMessage(row, bodies, bySeq?.get(Number(row.seq)), files.get(Number(row.seq)))));
  }

  /** The files a send names, checked; a retry of a send whose files are attached already answers with that message. */
  async function filesFor(sender: User, roomId: string, clientId: string, ids: readonly string[]): Promise<{ files: FileInfo[]; earlier?: Message }> {
    if (ids.length === 0) return { files: [] };
    try {
      return { files: await deps.attachments.forSend(db, sender.id, roomId, ids) };
    } catch (error) {
      const earlier = await existing(roomId, sender, clientId);
      if (earlier) return { files: [], earlier };
      throw error;
    }
  }

  return {
    /** `attachments`: ids of the sender's uploads to the room, attached in the message's own transaction. */
    async send(sender: User, roomId: string, body: string, clientId: string, options: { replyTo?: number; attachments?: readonly string[] } = {}): Promise<SendResult> {
      const fileIds = options.attachments ?? [];
      const text = validate(body, clientId, fileIds.length > 0);
      await limiter.consume(`send:${sender.id}`, { limit: sendsPerMinute, windowMs: 60_000 });
      await rooms.authorize(sender.id, roomId, 'send');
      // Only a reply, a body with an @ or files pay for these reads; a plain message goes straight to the batch.
      const names = mentionedNames(text).slice(0, LIMITS.mentionsMax);
      const [replyTo, mentioned, checked] = await Promise.all([
        options.replyTo !== undefined ? deps.replies.check(roomId, options.replyTo) : undefined,
        deps.mentions.membersNamed(db, roomId, names),
        filesFor(sender, roomId, clientId, fileIds),
      ]);
      if (checked.earlier) return { message: checked.earlier, created: false };

      const { ciphertext, keyId } = bodies.seal(text);
      const id = randomUUID();
      const createdAt = clock.now();
      const written = await writer.write({
        id,
        room_id: roomId,
        sender_id: sender.id,
        client_id: clientId,
        body_format: 'fernet',
        body_ciphertext: ciphertext,
        body_key_id: keyId,
        created_at: createdAt,
        edited_at: null,
        reply_to_seq: replyTo?.seq ?? null,
        mention_ids: mentioned.length > 0 ? mentioned.join(',') : null,
        ...(fileIds.length > 0 ? { attachments: fileIds } : {}),
      }).catch((error: unknown) => {
        // Checked above, and taken since by another send: this one stores nothing.
        throw isAttachmentUnavailable(error) ? invalidAttachment(error.fileId) : error;
      });
      let seq: number;
      if (written.stored) {
        seq = written.seq;
      } else {
        // The clientId was used before (a retry): answer with that message. Unless it is
        // this very message — its batch committed but the answer was lost and the retry
        // found it — which still has to be announced.
        const earlier = await existing(roomId, sender, clientId);
        if (!earlier) throw new Error('clientId reported as used, but no message has it');
        if (earlier.id !== id) return { message: earlier, created: false };
        seq = earlier.seq;
      }

      const parts = { id, roomId, seq, sender: { id: sender.id, username: sender.username }, body: text, clientId, createdAt, editedAt: null };
      const message = messageOf({ ...parts, mentions: mentioned, replyTo, attachments: checked.files });
      deps.metrics?.messageSent();
      await bus.publish({ kind: 'message', roomId, message });
      return { message, created: true };
    },

    /** The newest page, or the page before `before`; oldest first. */
    async history(userId: string, roomId: string, options: { before?: number; limit?: number }): Promise<MessagePage> {
      const limit = options.limit ?? LIMITS.pageDefault;
      const rows = await readAuthorized(userId, roomId, () => messages.pageBefore(db, roomId, options.before, limit + 1));
      const hasMore = rows.length > limit;
      return { messages: await present(roomId, rows.slice(0, limit).reverse()), hasMore };
    },

    /** Everything after `after` (polling and catch-up), oldest first, in pages. */
    async since(userId: string, roomId: string, after: number, limit: number = LIMITS.catchUpMax): Promise<MessagePage> {
      const rows = await readAuthorized(userId, roomId, () => messages.pageAfter(db, roomId, after, limit + 1));
      const hasMore = rows.length > limit;
      return { messages: await present(roomId, rows.slice(0, limit)), hasMore };
    },

    /**
     * Messages named by room and seq (search results), as members see them, in the order
     * asked; one missing (its room was deleted meanwhile) is left out. No authorization:
     * the caller has checked membership.
     */
    async loadMany(refs: readonly { roomId: string; seq: number }[]): Promise<Message[]> {
      const seqsByRoom = new Map<string, number[]>();
      for (const { roomId, seq } of refs) seqsByRoom.set(roomId, [...(seqsByRoom.get(roomId) ?? []), seq]);
      const found = new Map<string, Message>();
      await Promise.all(
        [...seqsByRoom].map(async ([roomId, seqs]) => {
          for (const message of await present(roomId, await messages.findBySeqs(db, roomId, seqs))) found.set(`${roomId}:${message.seq}`, message);
        }),
      );
      return refs.flatMap(({ roomId, seq }) => found.get(`${roomId}:${seq}`) ?? []);
    },

    /**
     * One message as members see it, for fan-out: a remote bus sends a pointer when the
     * event is too large for the wire and each instance reads it here, once per event.
     * No authorization: it goes only to sockets already subscribed to the room.
     */
    async loadForFanOut(roomId: string, seq: number): Promise<Message | undefined> {
      const row = await messages.findBySeq(db, roomId, seq);
      return row ? (await present(roomId, [row]))[0] : undefined;
    },
  };
}

export type MessagesService = ReturnType<typeof createMessagesService>;
