/**
 * Everything the chat screen shows, kept current from the socket (or polling while the
 * socket is down) and the HTTP API: rooms with unread counts, each room's timeline,
 * members with presence, typing, and the connection state. Views read immutable
 * snapshots and call the methods; nothing here knows about Preact.
 */
import type { Member, Message, Role, Room, ServerFrame, User } from '../shared/protocol.js';
import * as api from './core/api.js';
import { ApiError, type CreateRoomBody } from './core/api.js';
import { newClientId } from './core/client-id.js';
import { PAGE_SIZE } from './limits.js';
import * as store from './core/timeline.js';
import type { Timeline } from './core/timeline.js';
import { ChatSocket, socketUrl, type LinkState } from './core/socket.js';
import { TypingTracker } from './core/typing-tracker.js';

export type ConnectionState = 'connected' | 'reconnecting' | 'polling';

/** Something the user should be told that no control of theirs caused (e.g. being removed from a room). */
export interface ChatNotice {
  /** Grows with each notice, so a view can tell a new one from the one it already handled. */
  id: number;
  /** The room it concerns. */
  roomId: string;
  text: string;
}

export interface ChatSnapshot {
  self: User;
  connection: ConnectionState;
  /** null until the first GET /rooms answers. */
  rooms: readonly Room[] | null;
  roomsError: string | null;
  unread: Readonly<Record<string, number>>;
  timelines: Readonly<Record<string, Timeline>>;
  /** Why a room's history could not be loaded, if it couldn't. */
  historyErrors: Readonly<Record<string, string>>;
  loadingOlder: Readonly<Record<string, boolean>>;
  members: Readonly<Record<string, readonly Member[]>>;
  /** Presence by user id, from member lists and `presence` frames. */
  online: Readonly<Record<string, boolean>>;
  /** Names of the people typing, by room. */
  typing: Readonly<Record<string, readonly string[]>>;
  /** The latest notice, until dismissed. */
  notice: ChatNotice | null;
}

const ACK_TIMEOUT_MS = 10_000;
const POLL_MESSAGES_MS = 3_000;
const POLL_ROOMS_MS = 30_000;
const TYPING_SEND_EVERY_MS = 3_000;
const CATCH_UP_RETRY_MS = 3_000;
const READ_REPORT_DELAY_MS = 500;

export class ChatClient {
  private snapshot: ChatSnapshot;
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;
  private readonly socket: ChatSocket;
  private stopped = false;

  private activeRoomId: string | null = null;
  private readonly readSeq = new Map<string, number>();
  private readonly latestSeq = new Map<string, number>();
  private readonly readReports = new Map<string, ReturnType<typeof setTimeout>>();

  private roomsRequest = 0;
  /** The GET /rooms whose answer is awaited, if any. */
  private roomsInFlight = 0;
  private noticeCount = 0;
  private readonly membersRequest = new Map<string, number>();
  private roomsReloadTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly loadingHistory = new Set<string>();
  private readonly catchUpFrom = new Map<string, number>();
  private readonly catchingUp = new Set<string>();

  private readonly ackTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly pendingRooms = new Map<string, string>();
  private readonly typingSentAt = new Map<string, number>();
  private readonly typing = new TypingTracker((roomId, names) =>
    this.update({ typing: { ...this.snapshot.typing, [roomId]: names } }),
  );

  private messagePoll: ReturnType<typeof setInterval> | undefined;
  private roomsPoll: ReturnType<typeof setInterval> | undefined;

  constructor(self: User) {
    this.snapshot = {
      self,
      connection: 'reconnecting',
      rooms: null,
      roomsError: null,
      unread: {},
      timelines: {},
      historyErrors: {},
      loadingOlder: {},
      members: {},
      online: {},
      typing: {},
      notice: null,
    };
    this.socket = new ChatSocket({
      url: socketUrl(window.location),
      onFrame: (frame) => this.handleFrame(frame),
      onStateChange: (state) => this.handleLinkState(state),
    });
  }

  // ---- lifecycle and subscription ------------------------------------------------

  start(): void {
    this.socket.start();
    void this.reloadRooms();
    document.addEventListener('visibilitychange', this.handleVisibility);
  }

  stop(): void {
    this.stopped = true;
    this.socket.stop();
    this.stopPolling();
    document.removeEventListener('visibilitychange', this.handleVisibility);
    for (const timer of [...this.ackTimers.values(), ...this.readReports.values()]) clearTimeout(timer);
    this.typing.clear();
    clearTimeout(this.roomsReloadTimer);
  }

  getSnapshot = (): ChatSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private update(patch: Partial<ChatSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    // Frames often come in bursts (catch-up pages, presence storms): render once per burst.
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const listener of this.listeners) listener();
    });
  }

  // ---- rooms -------------------------------------------------------------------------

  /** The room the user is looking at (null for none): loads its history and members. */
  openRoom(roomId: string | null): void {
    this.activeRoomId = roomId;
    if (!roomId) return;
    void this.ensureHistory(roomId);
    if (!this.snapshot.members[roomId]) void this.reloadMembers(roomId);
    this.markRead(roomId);
  }

  async reloadRooms(): Promise<void> {
    const request = ++this.roomsRequest;
    this.roomsInFlight = request;
    try {
      const rooms = await api.listRooms();
      if (request !== this.roomsRequest || this.stopped) return;
      for (const room of rooms) this.trackRoomSeqs(room);
      this.update({ rooms: sortRooms(rooms), roomsError: null, unread: this.computeUnread(rooms) });
    } catch (error) {
      if (request === this.roomsRequest && this.snapshot.rooms === null) {
        this.update({ roomsError: messageOf(error) });
      }
    } finally {
      if (this.roomsInFlight === request) this.roomsInFlight = 0;
    }
  }

  async createRoom(body: CreateRoomBody): Promise<Room> {
    const { room } = await api.createRoom(body);
    this.addRoom(room);
    return room;
  }

  async joinRoomByName(name: string): Promise<Room> {
    const { room } = await api.joinRoomByName(name);
    this.addRoom(room);
    return room;
  }

  async joinRoom(roomId: string): Promise<void> {
    await api.joinRoom(roomId);
    await this.reloadRooms();
  }

  async acceptInvite(code: string): Promise<Room> {
    const { room } = await api.acceptInvite(code);
    this.addRoom(room);
    return room;
  }

  async leaveRoom(roomId: string): Promise<void> {
    await api.leaveRoom(roomId);
    this.forgetRoom(roomId);
  }

  async reloadMembers(roomId: string): Promise<void> {
    const request = (this.membersRequest.get(roomId) ?? 0) + 1;
    this.membersRequest.set(roomId, request);
    try {
      const members = await api.listMembers(roomId);
      // An older answer must not replace a newer one, nor bring back a room just left.
      if (this.membersRequest.get(roomId) !== request || this.stopped) return;
      if (this.snapshot.rooms && !this.snapshot.rooms.some((room) => room.id === roomId)) return;
      const online = { ...this.snapshot.online };
      for (const member of members) online[member.user.id] = member.online;
      this.update({ members: { ...this.snapshot.members, [roomId]: members }, online });
    } catch {
      // The panel keeps what it had; the next member frame or reconnect tries again.
    }
  }

  // ---- moderation (owner and moderators) -------------------------------------------------

  /**
   * Removes a member from a room, and with `ban` keeps them out. Throws the ApiError the
   * server answered with, for the confirm dialog to show.
   */
  async removeMember(roomId: string, userId: string, options: { ban: boolean }): Promise<void> {
    await (options.ban ? api.banMember(roomId, userId) : api.removeMember(roomId, userId));
    const members = this.snapshot.members[roomId];
    if (members) this.setMembers(roomId, members.filter((member) => member.user.id !== userId));
    this.afterModeration(roomId);
  }

  /** Owner only: makes a member a moderator or a moderator a member. */
  async setMemberRole(roomId: string, userId: string, role: Exclude<Role, 'owner'>): Promise<void> {
    await api.setMemberRole(roomId, userId, role);
    const members = this.snapshot.members[roomId];
    if (members) this.setMembers(roomId, members.map((member) => (member.user.id === userId ? { ...member, role } : member)));
    this.afterModeration(roomId);
  }

  dismissNotice(): void {
    if (this.snapshot.notice) this.update({ notice: null });
  }

  private setMembers(roomId: string, members: readonly Member[]): void {
    this.update({ members: { ...this.snapshot.members, [roomId]: members } });
  }

  /** The change shows at once; the server's `member` frame then resyncs, or we do if it can't come. */
  private afterModeration(roomId: string): void {
    this.reloadRoomsSoon();
    if (this.snapshot.connection !== 'connected') void this.reloadMembers(roomId);
  }

  private addRoom(room: Room): void {
    this.trackRoomSeqs(room);
    const others = (this.snapshot.rooms ?? []).filter((r) => r.id !== room.id);
    const rooms = sortRooms([...others, room]);
    this.update({ rooms, unread: this.computeUnread(rooms) });
  }

  private forgetRoom(roomId: string): void {
    const rooms = this.snapshot.rooms?.filter((room) => room.id !== roomId) ?? null;
    this.readSeq.delete(roomId);
    this.latestSeq.delete(roomId);
    this.membersRequest.delete(roomId);
    clearTimeout(this.readReports.get(roomId));
    this.readReports.delete(roomId);
    // A room list asked for before this could still hold the room: ask again instead.
    if (this.roomsInFlight) {
      this.roomsRequest++;
      this.roomsInFlight = 0;
      this.reloadRoomsSoon();
    }
    this.update({
      rooms,
      timelines: without(this.snapshot.timelines, roomId),
      members: without(this.snapshot.members, roomId),
      unread: this.computeUnread(rooms ?? []),
    });
  }

  /** Member frames come in bursts when many people join; refresh the list once. */
  private reloadRoomsSoon(): void {
    clearTimeout(this.roomsReloadTimer);
    this.roomsReloadTimer = setTimeout(() => void this.reloadRooms(), 300);
  }

  // ---- unread and read markers -------------------------------------------------------

  private trackRoomSeqs(room: Room): void {
    this.noteSeq(room.id, room.lastSeq);
    const known = this.readSeq.get(room.id);
    // Without a server-side read marker, what existed when the client loaded counts as read.
    const serverRead = room.lastReadSeq ?? (known === undefined ? room.lastSeq : undefined);
    if (serverRead !== undefined) this.readSeq.set(room.id, Math.max(known ?? 0, serverRead));
  }

  private noteSeq(roomId: string, seq: number): void {
    this.latestSeq.set(roomId, Math.max(this.latestSeq.get(roomId) ?? 0, seq));
  }

  private computeUnread(rooms: readonly Room[]): Record<string, number> {
    const unread: Record<string, number> = {};
    for (const room of rooms) {
      const latest = this.latestSeq.get(room.id) ?? room.lastSeq;
      unread[room.id] = Math.max(0, latest - (this.readSeq.get(room.id) ?? latest));
    }
    return unread;
  }

  private refreshUnread(): void {
    if (this.snapshot.rooms) this.update({ unread: this.computeUnread(this.snapshot.rooms) });
  }

  /** Marks the open room read up to its newest message, if the page is visible. */
  private markRead(roomId: string): void {
    if (roomId !== this.activeRoomId || document.visibilityState !== 'visible') return;
    const latest = this.latestSeq.get(roomId) ?? 0;
    if (latest <= (this.readSeq.get(roomId) ?? 0)) return;
    this.readSeq.set(roomId, latest);
    this.refreshUnread();
    clearTimeout(this.readReports.get(roomId));
    this.readReports.set(
      roomId,
      setTimeout(() => {
        this.readReports.delete(roomId);
        // Best effort: if the report fails, unread counts stay local to this page.
        api.markRoomRead(roomId, this.readSeq.get(roomId) ?? latest).catch(() => {});
      }, READ_REPORT_DELAY_MS),
    );
  }

  private readonly handleVisibility = (): void => {
    if (this.activeRoomId) this.markRead(this.activeRoomId);
  };

  // ---- history -----------------------------------------------------------------------

  private timeline(roomId: string): Timeline {
    return this.snapshot.timelines[roomId] ?? store.EMPTY_TIMELINE;
  }

  private setTimeline(roomId: string, timeline: Timeline): void {
    if (timeline !== this.snapshot.timelines[roomId]) {
      this.update({ timelines: { ...this.snapshot.timelines, [roomId]: timeline } });
    }
  }

  private async ensureHistory(roomId: string): Promise<void> {
    if (this.timeline(roomId).historyLoaded || this.loadingHistory.has(roomId)) return;
    this.loadingHistory.add(roomId);
    try {
      const page = await api.listMessages(roomId, { limit: PAGE_SIZE });
      this.setTimeline(roomId, store.applyNewestPage(this.timeline(roomId), page));
      this.afterMessages(roomId, page.messages);
      this.update({ historyErrors: without(this.snapshot.historyErrors, roomId) });
    } catch (error) {
      this.update({ historyErrors: { ...this.snapshot.historyErrors, [roomId]: messageOf(error) } });
    } finally {
      this.loadingHistory.delete(roomId);
    }
  }

  /** Fetches the page before the oldest message held. */
  async loadOlder(roomId: string): Promise<void> {
    const timeline = this.timeline(roomId);
    const first = store.firstSeq(timeline);
    if (!timeline.hasOlder || first === null || this.snapshot.loadingOlder[roomId]) return;
    this.update({ loadingOlder: { ...this.snapshot.loadingOlder, [roomId]: true } });
    try {
      const page = await api.listMessages(roomId, { before: first, limit: PAGE_SIZE });
      this.setTimeline(roomId, store.applyOlderPage(this.timeline(roomId), page));
    } catch {
      // Scrolling up again retries.
    } finally {
      this.update({ loadingOlder: { ...this.snapshot.loadingOlder, [roomId]: false } });
    }
  }

  /** Fetches everything after `afterSeq` (repeating while the server has more). */
  private catchUp(roomId: string, afterSeq: number): void {
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
          const page = await api.listMessages(roomId, { after });
          this.applyMessages(roomId, page.messages);
          const last = page.messages.at(-1)?.seq;
          if (!page.hasMore || last === undefined) break;
          after = last;
        }
      }
    } catch (error) {
      // Fetching the same range again is harmless, so a failed catch-up is simply retried,
      // unless the room is no longer ours to read.
      const retryable = !(error instanceof ApiError) || error.status === 0 || error.status === 429 || error.status >= 500;
      if (retryable && after !== undefined && !this.stopped) {
        const from = after;
        setTimeout(() => this.catchUp(roomId, from), CATCH_UP_RETRY_MS);
      }
    } finally {
      this.catchingUp.delete(roomId);
    }
  }

  private applyMessages(roomId: string, messages: readonly Message[]): void {
    this.setTimeline(roomId, store.mergeMessages(this.timeline(roomId), messages));
    this.afterMessages(roomId, messages);
  }

  /** Bookkeeping for newly held messages: unread counts, read marker, typing. */
  private afterMessages(roomId: string, messages: readonly Message[]): void {
    for (const message of messages) {
      this.noteSeq(roomId, message.seq);
      const read = this.readSeq.get(roomId);
      // One's own message is not unread news.
      if (message.sender.id === this.snapshot.self.id && read !== undefined && read >= message.seq - 1) {
        this.readSeq.set(roomId, message.seq);
      }
      this.typing.stopped(roomId, message.sender.id);
    }
    this.refreshUnread();
    this.markRead(roomId);
  }

  // ---- sending -----------------------------------------------------------------------

  /** Sends a message: shown as pending at once, confirmed by the ack (or the HTTP answer). */
  send(roomId: string, body: string): void {
    const clientId = newClientId();
    this.pendingRooms.set(clientId, roomId);
    this.setTimeline(roomId, store.addPending(this.timeline(roomId), clientId, body));
    this.deliver(roomId, clientId, body);
  }

  retry(roomId: string, clientId: string): void {
    const pending = store.findPending(this.timeline(roomId), clientId);
    if (!pending) return;
    this.setTimeline(roomId, store.markSending(this.timeline(roomId), clientId));
    this.deliver(roomId, clientId, pending.body);
  }

  discard(roomId: string, clientId: string): void {
    this.pendingRooms.delete(clientId);
    this.setTimeline(roomId, store.discardPending(this.timeline(roomId), clientId));
  }

  private deliver(roomId: string, clientId: string, body: string): void {
    if (!this.socket.send({ type: 'send', roomId, body, clientId })) {
      void this.postOverHttp(roomId, clientId, body);
      return;
    }
    // The server is idempotent on clientId, so resending over HTTP is safe even if the
    // socket did deliver it.
    this.ackTimers.set(
      clientId,
      setTimeout(() => {
        this.ackTimers.delete(clientId);
        if (store.findPending(this.timeline(roomId), clientId)?.status === 'sending') {
          void this.postOverHttp(roomId, clientId, body);
        }
      }, ACK_TIMEOUT_MS),
    );
  }

  private async postOverHttp(roomId: string, clientId: string, body: string): Promise<void> {
    try {
      const { message } = await api.postMessage(roomId, body, clientId);
      this.acknowledge(clientId, message);
    } catch (error) {
      this.fail(clientId, messageOf(error));
    }
  }

  private acknowledge(clientId: string, message: Message): void {
    clearTimeout(this.ackTimers.get(clientId));
    this.ackTimers.delete(clientId);
    this.pendingRooms.delete(clientId);
    const { timeline, gapAfter } = store.acknowledge(this.timeline(message.roomId), clientId, message);
    this.setTimeline(message.roomId, timeline);
    this.afterMessages(message.roomId, [message]);
    if (gapAfter !== null) this.catchUp(message.roomId, gapAfter);
  }

  private fail(clientId: string, reason: string): void {
    const roomId = this.pendingRooms.get(clientId);
    if (!roomId) return;
    clearTimeout(this.ackTimers.get(clientId));
    this.ackTimers.delete(clientId);
    this.setTimeline(roomId, store.markFailed(this.timeline(roomId), clientId, reason));
  }

  /** Tells the room the user is typing, at most once every few seconds. */
  notifyTyping(roomId: string): void {
    const now = Date.now();
    if (now - (this.typingSentAt.get(roomId) ?? 0) < TYPING_SEND_EVERY_MS) return;
    if (this.socket.send({ type: 'typing', roomId })) this.typingSentAt.set(roomId, now);
  }

  // ---- real time ---------------------------------------------------------------------

  private handleLinkState(state: LinkState): void {
    const connection: ConnectionState = state === 'offline' ? 'polling' : state;
    this.update({ connection });
    if (connection === 'connected') this.stopPolling();
    else this.resendUnacknowledged();
    if (connection === 'polling') this.startPolling();
  }

  /** Messages sent on a link that just died will get no ack on it: send them over HTTP now. */
  private resendUnacknowledged(): void {
    for (const [clientId, timer] of this.ackTimers) {
      clearTimeout(timer);
      this.ackTimers.delete(clientId);
      const roomId = this.pendingRooms.get(clientId);
      const pending = roomId ? store.findPending(this.timeline(roomId), clientId) : undefined;
      if (roomId && pending?.status === 'sending') void this.postOverHttp(roomId, clientId, pending.body);
    }
  }

  private handleFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'hello':
        return this.handleHello(frame.rooms);
      case 'message': {
        const { message } = frame;
        const { timeline, gapAfter } = store.receiveMessage(this.timeline(message.roomId), message);
        this.setTimeline(message.roomId, timeline);
        this.afterMessages(message.roomId, [message]);
        if (gapAfter !== null) this.catchUp(message.roomId, gapAfter);
        if (!this.snapshot.rooms?.some((room) => room.id === message.roomId)) this.reloadRoomsSoon();
        return;
      }
      case 'ack':
        return this.acknowledge(frame.clientId, frame.message);
      case 'error':
        if (frame.clientId) this.fail(frame.clientId, frame.error.message);
        return;
      case 'presence':
        return this.update({ online: { ...this.snapshot.online, [frame.userId]: frame.online } });
      case 'typing':
        if (frame.userId === this.snapshot.self.id) return;
        return this.typing.typing(frame.roomId, frame.userId, this.usernameOf(frame.roomId, frame.userId) ?? 'Someone');
      case 'member':
        if (frame.userId === this.snapshot.self.id && (frame.change === 'left' || frame.change === 'removed')) {
          if (frame.change === 'removed') this.noticeRemoval(frame.roomId);
          return this.forgetRoom(frame.roomId);
        }
        this.reloadRoomsSoon();
        if (this.snapshot.members[frame.roomId]) void this.reloadMembers(frame.roomId);
        return;
    }
  }

  /** Tells the user an owner or moderator removed them from a room they still hold. */
  private noticeRemoval(roomId: string): void {
    const room = this.snapshot.rooms?.find((candidate) => candidate.id === roomId);
    if (!room) return;
    this.update({ notice: { id: ++this.noticeCount, roomId, text: `You were removed from ${room.name}.` } });
  }

  /** After (re)connecting: fetch what was missed in every room held, resync the rest. */
  private handleHello(rooms: ReadonlyArray<{ id: string; lastSeq: number }>): void {
    for (const { id, lastSeq } of rooms) {
      this.noteSeq(id, lastSeq);
      const held = store.lastSeq(this.timeline(id));
      if (held !== null && lastSeq > held) this.catchUp(id, held);
    }
    this.refreshUnread();
    // Membership may have changed while the link was down (an invite accepted elsewhere, a kick).
    const known = this.snapshot.rooms && new Set(this.snapshot.rooms.map((room) => room.id));
    if (known && (rooms.length !== known.size || rooms.some((room) => !known.has(room.id)))) void this.reloadRooms();
    const active = this.activeRoomId;
    if (active) {
      void this.ensureHistory(active);
      // Presence changed unseen while the link was down.
      if (this.snapshot.members[active]) void this.reloadMembers(active);
    }
  }

  private startPolling(): void {
    if (this.messagePoll !== undefined) return;
    this.messagePoll = setInterval(() => this.pollActiveRoom(), POLL_MESSAGES_MS);
    this.roomsPoll = setInterval(() => void this.reloadRooms(), POLL_ROOMS_MS);
    this.pollActiveRoom();
  }

  private stopPolling(): void {
    clearInterval(this.messagePoll);
    clearInterval(this.roomsPoll);
    this.messagePoll = undefined;
    this.roomsPoll = undefined;
  }

  private pollActiveRoom(): void {
    const roomId = this.activeRoomId;
    if (!roomId) return;
    const timeline = this.timeline(roomId);
    if (!timeline.historyLoaded) void this.ensureHistory(roomId);
    else this.catchUp(roomId, store.lastSeq(timeline) ?? 0);
  }

  private usernameOf(roomId: string, userId: string): string | undefined {
    const member = this.snapshot.members[roomId]?.find((m) => m.user.id === userId);
    if (member) return member.user.username;
    return this.timeline(roomId).messages.findLast((m) => m.sender.id === userId)?.sender.username;
  }
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function sortRooms(rooms: readonly Room[]): Room[] {
  return [...rooms].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
}

function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : 'Something went wrong. Try again.';
}
