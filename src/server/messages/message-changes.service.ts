/**
 * Edits, deletes and reactions: each is one transaction that takes the room's next change
 * number (rooms.last_change, which also serializes a room's changes in the database),
 * applies the change and stamps the message with the number; after the commit the
 * message's full new state goes on the bus as `message-updated`. A client that was away
 * asks for `changedAfter=<the lastChange its hello gave it>` and gets every message changed since.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isReactionEmoji, REACTIONS_PER_MESSAGE_MAX } from '../../shared/emoji.js';
import { LIMITS, type Message, type MessageEdit, type MessagePage } from '../../shared/protocol.js';
import { mentionedNames } from '../../shared/mentions.js';
import { canDeleteMessage, canEditMessage } from '../../shared/room-rules.js';
import { isoTime, type Clock } from '../clock.js';
import type { Database, Db } from '../db/schema.js';
import { AppError, errors } from '../http/errors.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { MessageBodies } from './message-bodies.js';
import type { MessageChangesRepository } from './message-changes.repository.js';
import { bodyRef, presentMessage } from './messages.presenter.js';
import type { MentionsRepository } from './mentions.repository.js';
import type { Replies } from './replies.js';
import type { MessagesRepository, MessageWithSenderRow } from './messages.repository.js';
import type { ReactionsRepository } from './reactions.repository.js';
import type { Attachments } from '../files/attachments.service.js';

const messageNotFound = () => errors.notFound('That message');
const messageDeleted = () => new AppError(404, 'not_found', 'That message was deleted.');

/** Thrown inside a change's transaction when there is nothing to change: rolled back, nothing published. */
class NoChange extends Error {}

export function createMessageChangesService(deps: {
  db: Kysely<Database>;
  changes: MessageChangesRepository;
  messages: MessagesRepository;
  reactions: ReactionsRepository;
  /** Reply quotes, read after the change's transaction (they are not part of it). */
  replies: Replies;
  /** An edit names whom the new text mentions. */
  mentions: MentionsRepository;
  rooms: Pick<RoomsService, 'authorize'>;
  bodies: MessageBodies;
  clock: Clock;
  bus: Bus;
  maxLength: number;
  limiter: RateLimiter;
  /** Edits, deletes and reaction changes one user may make per minute, together. */
  changesPerMinute: number;
  /** A message's files: shown with its new state, released (no longer served) when it is deleted. */
  attachments: Pick<Attachments, 'ofRows' | 'release'>;
  /** After a delete that released files has committed: their bytes can go (files purge). */
  onFilesReleased: () => void;
}) {
  const { db, changes, messages, reactions, rooms, bodies, clock, bus, maxLength, limiter } = deps;

  // A deleted message's bodies leave every instance's cache, this one's included. A change
  // too large for the wire comes as a pointer that does not say what changed: forgotten too.
  bus.subscribe((event) => {
    if (event.kind === 'message-updated' && event.message.deletedAt) bodies.forget(bodyRef(event.roomId, event.message.seq));
    if (event.kind === 'message-updated-ref') bodies.forget(bodyRef(event.roomId, event.seq));
  });

  // A room's changes made on this instance commit and are published one after another,
  // so the bus carries them in change order (and clients keep the highest changeSeq anyway).
  const roomQueues = new Map<string, Promise<unknown>>();
  function inRoomOrder<T>(roomId: string, work: () => Promise<T>): Promise<T> {
    const previous = roomQueues.get(roomId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    roomQueues.set(roomId, settled);
    void settled.then(() => roomQueues.get(roomId) === settled && roomQueues.delete(roomId));
    return next;
  }

  async function present(trx: Db, row: MessageWithSenderRow): Promise<Message> {
    const seq = Number(row.seq);
    const [bySeq, files] = await Promise.all([reactions.forMessages(trx, row.room_id, [seq]), deps.attachments.ofRows(trx, row.room_id, [row])]);
    return presentMessage(row, bodies, bySeq.get(seq), files.get(seq));
  }

  /**
   * Runs `work` on the live message under the room's next change number, then publishes the
   * new state. Answers the message as it is now (unchanged when `work` found nothing to do).
   */
  function change(roomId: string, seq: number, work: (trx: Db, row: MessageWithSenderRow, change: number) => Promise<void>): Promise<Message> {
    return inRoomOrder(roomId, async () => {
      let unchanged: Message | undefined;
      let replyToSeq: number | null = null;
      const changed = await db
        .transaction()
        .execute(async (trx) => {
          const number = await changes.nextChange(trx, roomId);
          const row = await messages.findBySeq(trx, roomId, seq);
          if (number === undefined || !row) throw messageNotFound();
          if (row.deleted_at != null) throw messageDeleted();
          replyToSeq = row.reply_to_seq ?? null;
          try {
            await work(trx, row, number);
          } catch (error) {
            if (error instanceof NoChange) unchanged = await present(trx, row);
            throw error;
          }
          return present(trx, (await messages.findBySeq(trx, roomId, seq))!);
        })
        .catch((error: unknown) => {
          if (error instanceof NoChange && unchanged) return undefined;
          throw error;
        });
      const message = (await deps.replies.attach(roomId, [{ seq, reply_to_seq: replyToSeq }], [changed ?? unchanged!]))[0]!;
      if (!changed) return message;
      await bus.publish({ kind: 'message-updated', roomId, message });
      return message;
    });
  }

  const budget = (userId: string) => limiter.consume(`change:${userId}`, { limit: deps.changesPerMinute, windowMs: 60_000 });

  function checkedEmoji(emoji: string): string {
    if (!isReactionEmoji(emoji)) throw errors.validation(`A reaction is one emoji (at most ${LIMITS.emojiMax} characters).`, 'emoji');
    return emoji;
  }

  return {
    /** The author replaces the body; the one before is kept, encrypted, as an earlier version. */
    async edit(userId: string, roomId: string, seq: number, body: string): Promise<Message> {
      const text = body.trim();
      if (text.length === 0) throw errors.validation('Write something, or delete the message instead.', 'body');
      if (text.length > maxLength) throw errors.validation(`Messages may be at most ${maxLength} characters.`, 'body');
      await budget(userId);
      await rooms.authorize(userId, roomId, 'read');
      return change(roomId, seq, async (trx, row, number) => {
        if (!canEditMessage(userId, { senderId: row.sender_id })) throw errors.forbidden('Only its author can edit a message.');
        if (bodies.open(row.body_ciphertext, row.body_key_id ?? undefined, bodyRef(roomId, seq)) === text) throw new NoChange();
        const { ciphertext, keyId } = bodies.seal(text);
        await changes.replaceBody(trx, row, { ciphertext, keyId, editedAt: clock.now(), change: number, versionId: randomUUID() });
        const mentioned = await deps.mentions.membersNamed(trx, roomId, mentionedNames(text).slice(0, LIMITS.mentionsMax));
        await deps.mentions.replaceForMessage(trx, roomId, seq, mentioned);
      });
    },

    /** The author, or the room's moderators and owner; a second delete is a 404 (the message is gone). */
    async remove(userId: string, roomId: string, seq: number): Promise<void> {
      await budget(userId);
      const access = await rooms.authorize(userId, roomId, 'read');
      let released = 0;
      await change(roomId, seq, async (trx, row, number) => {
        if (!canDeleteMessage({ id: userId, role: access.role }, { senderId: row.sender_id }, { roomKind: access.kind })) {
          throw errors.forbidden('Only its author, a moderator or the owner can delete a message.');
        }
        await changes.erase(trx, roomId, seq, clock.now(), number);
        await reactions.removeAll(trx, roomId, seq);
        // Its files go with it: no longer served from this commit on; their bytes after it.
        released = await deps.attachments.release(trx, roomId, seq);
      });
      bodies.forget(bodyRef(roomId, seq));
      if (released > 0) deps.onFilesReleased();
    },

    /** Adds (`on`) or removes the caller's reaction; idempotent either way. */
    async react(userId: string, roomId: string, seq: number, rawEmoji: string, on: boolean): Promise<void> {
      const emoji = checkedEmoji(rawEmoji);
      await budget(userId);
      await rooms.authorize(userId, roomId, 'read');
      await change(roomId, seq, async (trx, _row, number) => {
        if (on) {
          const present = await reactions.emojiOf(trx, roomId, seq);
          if (!present.includes(emoji) && present.length >= REACTIONS_PER_MESSAGE_MAX) {
            throw errors.conflict('too_many_reactions', `A message may carry at most ${REACTIONS_PER_MESSAGE_MAX} different emoji; react with one already there.`, 'emoji');
          }
          if (!(await reactions.add(trx, { room_id: roomId, seq, emoji, user_id: userId, created_at: clock.now() }))) throw new NoChange();
        } else if (!(await reactions.remove(trx, roomId, seq, emoji, userId))) {
          throw new NoChange();
        }
        await changes.stamp(trx, roomId, seq, number);
      });
    },

    /** The earlier versions, newest first (members only; 404 once deleted). */
    async edits(userId: string, roomId: string, seq: number): Promise<MessageEdit[]> {
      await rooms.authorize(userId, roomId, 'read');
      const row = await messages.findBySeq(db, roomId, seq);
      if (!row) throw messageNotFound();
      if (row.deleted_at != null) throw messageDeleted();
      const versions = await changes.versions(db, roomId, seq);
      return versions.map((v) => ({ body: bodies.open(v.body_ciphertext, v.body_key_id ?? undefined, bodyRef(roomId, seq)), editedAt: isoTime(Number(v.edited_at)) }));
    },

    /**
     * Messages changed after change `after`, in change order. `lastChange` is read first:
     * every change up to it is in this page or the next ones (when hasMore, continue from
     * the last message's changeSeq).
     */
    async changedAfter(userId: string, roomId: string, after: number, limit: number = LIMITS.catchUpMax): Promise<MessagePage> {
      await rooms.authorize(userId, roomId, 'read');
      const lastChange = await changes.lastChange(db, roomId);
      const rows = await changes.changedAfter(db, roomId, after, limit + 1);
      const page = rows.slice(0, limit);
      const [bySeq, files] = await Promise.all([reactions.forMessages(db, roomId, page.map((row) => Number(row.seq))), deps.attachments.ofRows(db, roomId, page)]);
      return {
        messages: await deps.replies.attach(roomId, page, page.map((row) => presentMessage(row, bodies, bySeq.get(Number(row.seq)), files.get(Number(row.seq))))),
        hasMore: rows.length > limit,
        lastChange,
      };
    },
  };
}

export type MessageChangesService = ReturnType<typeof createMessageChangesService>;
