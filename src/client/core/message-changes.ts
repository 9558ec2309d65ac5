/**
 * Edits, deletes and reactions in the client: the requests, `message_updated` frames
 * applied (replace by seq, the highest changeSeq wins), and convergence after being away.
 * Each `hello` gives a room's change counter (`lastChange`); when it moved past the one
 * seen before, the changes in between are fetched with `changedAfter` (pages while
 * `hasMore`). Changes after the hello arrive as frames (the socket subscribes first); while
 * the socket is down, polling asks for them the same way.
 */
import type { Message, MessageEdit } from '../../shared/protocol.js';
import * as api from './api.js';
import { setTimeline, timelineOf, type ChatContext } from './chat-state.js';
import * as tl from './timeline.js';

export class MessageChanges {
  /** The change counter each room was at when last caught up (from hello or a catch-up). */
  private readonly seen = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly ctx: ChatContext) {}

  /** A changed message (frame or answer): applied where it is held. */
  apply(messages: readonly Message[]): void {
    const byRoom = new Map<string, Message[]>();
    for (const message of messages) byRoom.set(message.roomId, [...(byRoom.get(message.roomId) ?? []), message]);
    for (const [roomId, updates] of byRoom) setTimeline(this.ctx.state, roomId, tl.applyUpdates(timelineOf(this.ctx.state, roomId), updates));
  }

  /** After (re)connecting: catch up on the changes of every room whose counter moved. */
  hello(rooms: ReadonlyArray<{ id: string; lastChange?: number }>): void {
    for (const { id, lastChange } of rooms) {
      if (lastChange === undefined) continue;
      const known = this.seen.get(id);
      // First sight: the pages read from now on show the state at least as of this hello.
      if (known === undefined || !timelineOf(this.ctx.state, id).historyLoaded) this.seen.set(id, Math.max(known ?? 0, lastChange));
      else if (lastChange > known) this.catchUp(id, known);
    }
  }

  /** Polling: the changes since the counter last seen (none known yet: the socket never said hello, so there is no baseline). */
  poll(roomId: string): void {
    const known = this.seen.get(roomId);
    if (known !== undefined && !this.running.has(roomId)) this.catchUp(roomId, known);
  }

  private catchUp(roomId: string, from: number): void {
    const previous = this.running.get(roomId) ?? Promise.resolve();
    const next = previous.then(async () => {
      let after = Math.max(from, 0);
      for (;;) {
        const page = await api.listMessages(roomId, { changedAfter: after });
        this.apply(page.messages);
        const last = page.messages.at(-1)?.changeSeq ?? after;
        if (!page.hasMore || page.messages.length === 0) {
          this.seen.set(roomId, Math.max(this.seen.get(roomId) ?? 0, page.lastChange ?? last, last));
          return;
        }
        after = last;
      }
    });
    // A failed catch-up is tried again at the next hello (the counter stays where it was).
    const settled = next.catch(() => undefined);
    this.running.set(roomId, settled);
    void settled.then(() => this.running.get(roomId) === settled && this.running.delete(roomId));
  }

  async edit(roomId: string, seq: number, body: string): Promise<void> {
    const { message } = await api.editMessage(roomId, seq, body);
    this.apply([message]);
  }

  remove(roomId: string, seq: number): Promise<void> {
    return api.deleteMessage(roomId, seq);
  }

  /** Toggles the caller's reaction; the new state comes back as `message_updated`. */
  react(roomId: string, seq: number, emoji: string, on: boolean): Promise<void> {
    return api.setReaction(roomId, seq, emoji, on);
  }

  async edits(roomId: string, seq: number): Promise<MessageEdit[]> {
    return (await api.listEdits(roomId, seq)).edits;
  }
}
