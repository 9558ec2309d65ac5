/**
 * Keeping timelines current: a room's newest page when opened, older pages on demand,
 * live messages with gap filling, catch-up after a (re)connect (`hello`), and polling
 * the open room while the socket is down.
 */
import type { Message } from '../../shared/protocol.js';
import { PAGE_SIZE } from '../limits.js';
import * as api from './api.js';
import { ApiError } from './api.js';
import { messageOf, setTimeline, timelineOf, without, type ChatContext } from './chat-state.js';
import type { ReadMarkers } from './read-markers.js';
import { mergeRoomEvents } from './room-events.js';
import * as tl from './timeline.js';

const POLL_MESSAGES_MS = 3_000;
const POLL_ROOMS_MS = 30_000;
const CATCH_UP_RETRY_MS = 3_000;

export interface SyncDeps {
  markers: ReadMarkers;
  reloadRooms(): Promise<void>;
  reloadMembers(roomId: string): Promise<void>;
  /** While polling: fetch the edits, deletes and reactions the socket would have pushed. */
  pollChanges(roomId: string): void;
}

export class Sync {
  private readonly loadingHistory = new Set<string>();
  private readonly catchUpFrom = new Map<string, number>();
  private readonly catchingUp = new Set<string>();
  private messagePoll: ReturnType<typeof setInterval> | undefined;
  private roomsPoll: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly ctx: ChatContext,
    private readonly deps: SyncDeps,
  ) {}

  async ensureHistory(roomId: string): Promise<void> {
    const { state } = this.ctx;
    if (timelineOf(state, roomId).historyLoaded || this.loadingHistory.has(roomId)) return;
    this.loadingHistory.add(roomId);
    try {
      const page = await api.listMessages(roomId, { limit: PAGE_SIZE, events: true });
      setTimeline(state, roomId, tl.applyNewestPage(timelineOf(state, roomId), page));
      mergeRoomEvents(state, roomId, page.events);
      this.ctx.afterMessages(roomId, page.messages);
      state.update({ historyErrors: without(state.getSnapshot().historyErrors, roomId) });
    } catch (error) {
      state.update({ historyErrors: { ...state.getSnapshot().historyErrors, [roomId]: messageOf(error) } });
    } finally {
      this.loadingHistory.delete(roomId);
    }
  }

  /** Fetches the page before the oldest message held (`limit` messages, a jump to an old one takes more). */
  async loadOlder(roomId: string, limit: number = PAGE_SIZE): Promise<void> {
    const { state } = this.ctx;
    const timeline = timelineOf(state, roomId);
    const first = tl.firstSeq(timeline);
    if (!timeline.hasOlder || first === null || state.getSnapshot().loadingOlder[roomId]) return;
    state.update({ loadingOlder: { ...state.getSnapshot().loadingOlder, [roomId]: true } });
    try {
      const page = await api.listMessages(roomId, { before: first, limit, events: true });
      setTimeline(state, roomId, tl.applyOlderPage(timelineOf(state, roomId), page));
      mergeRoomEvents(state, roomId, page.events);
    } catch {
      // Scrolling up again retries.
    } finally {
      state.update({ loadingOlder: { ...state.getSnapshot().loadingOlder, [roomId]: false } });
    }
  }

  /** A live message: merged in, with any seq gap before it fetched. */
  receive(message: Message): void {
    const { timeline, gapAfter } = tl.receiveMessage(timelineOf(this.ctx.state, message.roomId), message);
    setTimeline(this.ctx.state, message.roomId, timeline);
    this.ctx.afterMessages(message.roomId, [message]);
    if (gapAfter !== null) this.catchUp(message.roomId, gapAfter);
  }

  /** Fetches everything after `afterSeq` (repeating while the server has more). */
  catchUp(roomId: string, afterSeq: number): void {
    const queued = this.catchUpFrom.get(roomId);
    this.catchUpFrom.set(roomId, queued === undefined ? afterSeq : Math.min(queued, afterSeq));
    if (!this.catchingUp.has(roomId)) void this.runCatchUp(roomId);
  }

  private async runCatchUp(roomId: string): Promise<void> {
    this.catchingUp.add(roomId);
    let after: number | undefined;
    try {
      while ((after = this.catchUpFrom.get(roomId)) !== undefined) {
        this.catchUpFrom.delete(roomId);
        for (;;) {
          const page = await api.listMessages(roomId, { after, events: true });
          setTimeline(this.ctx.state, roomId, tl.mergeMessages(timelineOf(this.ctx.state, roomId), page.messages));
          mergeRoomEvents(this.ctx.state, roomId, page.events);
          this.ctx.afterMessages(roomId, page.messages);
          const last = page.messages.at(-1)?.seq;
          if (!page.hasMore || last === undefined) break;
          after = last;
        }
      }
    } catch (error) {
      // Fetching the same range again is harmless, so a failed catch-up is simply retried,
      // unless the room is no longer ours to read.
      const retryable = !(error instanceof ApiError) || error.status === 0 || error.status === 429 || error.status >= 500;
      if (retryable && after !== undefined && !this.ctx.isStopped()) {
        const from = after;
        setTimeout(() => this.catchUp(roomId, from), CATCH_UP_RETRY_MS);
      }
    } finally {
      this.catchingUp.delete(roomId);
    }
  }

  /** After (re)connecting: fetch what was missed in every room held, resync the rest. */
  hello(rooms: ReadonlyArray<{ id: string; lastSeq: number }>): void {
    const { state } = this.ctx;
    const { deps } = this;
    for (const { id, lastSeq } of rooms) {
      deps.markers.noteSeq(id, lastSeq);
      const held = tl.lastSeq(timelineOf(state, id));
      if (held !== null && lastSeq > held) this.catchUp(id, held);
    }
    deps.markers.refreshUnread();
    // Membership may have changed while the link was down (an invite accepted elsewhere, a kick).
    const snapshot = state.getSnapshot();
    const known = snapshot.rooms && new Set(snapshot.rooms.map((room) => room.id));
    if (known && (rooms.length !== known.size || rooms.some((room) => !known.has(room.id)))) void deps.reloadRooms();
    const active = this.ctx.activeRoomId();
    if (active) {
      void this.ensureHistory(active);
      // Presence changed unseen while the link was down.
      if (state.getSnapshot().members[active]) void deps.reloadMembers(active);
    }
  }

  startPolling(): void {
    if (this.messagePoll !== undefined) return;
    this.messagePoll = setInterval(() => this.pollActiveRoom(), POLL_MESSAGES_MS);
    this.roomsPoll = setInterval(() => void this.deps.reloadRooms(), POLL_ROOMS_MS);
    this.pollActiveRoom();
  }

  stopPolling(): void {
    clearInterval(this.messagePoll);
    clearInterval(this.roomsPoll);
    this.messagePoll = undefined;
    this.roomsPoll = undefined;
  }

  private pollActiveRoom(): void {
    const roomId = this.ctx.activeRoomId();
    if (!roomId) return;
    const timeline = timelineOf(this.ctx.state, roomId);
    if (!timeline.historyLoaded) return void this.ensureHistory(roomId);
    this.catchUp(roomId, tl.lastSeq(timeline) ?? 0);
    this.deps.pollChanges(roomId);
  }
}
