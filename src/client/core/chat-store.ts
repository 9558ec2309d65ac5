/**
 * Everything the chat screen shows, kept current from the socket (or polling while the
 * socket is down) and the HTTP API: rooms with unread counts, each room's timeline,
 * members with presence, typing, notices and the connection state. Views read immutable
 * snapshots (whole, or slices through selectors) and call the methods; nothing here
 * knows about Preact. Sending lives in Outbox, timelines in Sync, unread in ReadMarkers.
 */
import type { FileInfo } from '../../shared/file-shapes.js';
import type { Member, Message, NotificationLevel, Role, ServerFrame, User } from '../../shared/protocol.js';
import { Alerts } from './alerts.js';
import * as api from './api.js';
import { initialSnapshot, timelineOf, type ChatContext, type ChatSnapshot, type ConnectionState } from './chat-state.js';
import { MessageChanges } from './message-changes.js';
import { Outbox } from './outbox.js';
import { ReadMarkers } from './read-markers.js';
import { mergeRoomEvents } from './room-events.js';
import { RoomMembership } from './room-membership.js';
import { Rooms } from './rooms.js';
import { ChatSocket, socketUrl, type LinkState } from './socket.js';
import { Store, type Readable } from './store.js';
import { Sync } from './sync.js';
import { TypingTracker } from './typing-tracker.js';

export type { ChatNotice, ChatSnapshot, ConnectionState } from './chat-state.js';

const TYPING_SEND_EVERY_MS = 3_000;

export class ChatStore implements Readable<ChatSnapshot> {
  private readonly state: Store<ChatSnapshot>;
  private readonly socket: ChatSocket;
  private stopped = false;
  private activeRoomId: string | null = null;

  private noticeCount = 0;
  private readonly typingSentAt = new Map<string, number>();

  private readonly ctx: ChatContext;
  private readonly markers: ReadMarkers;
  private readonly rooms: Rooms;
  private readonly sync: Sync;
  private readonly outbox: Outbox;
  private readonly typing: TypingTracker;
  /** Edits, deletes and reactions (the message actions call these). */
  readonly changes: MessageChanges;
  /** Creating, joining and leaving rooms and DMs. */
  readonly membership: RoomMembership;
  private readonly alerts: Alerts;

  readonly getSnapshot: () => ChatSnapshot;
  readonly subscribe: (listener: () => void) => () => void;

  constructor(self: User) {
    this.state = new Store(initialSnapshot(self));
    this.getSnapshot = this.state.getSnapshot;
    this.subscribe = this.state.subscribe;
    this.ctx = {
      state: this.state,
      socket: { send: (frame) => this.socket.send(frame) },
      isStopped: () => this.stopped,
      activeRoomId: () => this.activeRoomId,
      afterMessages: (roomId, messages) => this.afterMessages(roomId, messages),
    };
    this.markers = new ReadMarkers(this.ctx);
    this.rooms = new Rooms(this.ctx, this.markers, (rooms) => this.alerts.trackRooms(rooms));
    this.sync = new Sync(this.ctx, {
      markers: this.markers,
      reloadRooms: () => this.reloadRooms(),
      reloadMembers: (roomId) => this.reloadMembers(roomId),
      pollChanges: (roomId) => this.changes.poll(roomId),
    });
    this.changes = new MessageChanges(this.ctx);
    this.membership = new RoomMembership(this.rooms);
    this.alerts = new Alerts(this.ctx, (roomId) => this.onOpenRequest?.(roomId));
    this.outbox = new Outbox(this.ctx, (roomId, afterSeq) => this.sync.catchUp(roomId, afterSeq));
    this.typing = new TypingTracker((roomId, names) =>
      this.state.update({ typing: { ...this.state.getSnapshot().typing, [roomId]: names } }),
    );
    this.socket = new ChatSocket({
      url: socketUrl(window.location),
      onFrame: (frame) => this.handleFrame(frame),
      onStateChange: (state) => this.handleLinkState(state),
    });
  }

  /** Set by the view: a clicked notification opens its room. */
  onOpenRequest?: (roomId: string) => void;

  private get snapshot(): ChatSnapshot {
    return this.state.getSnapshot();
  }

  private update(patch: Partial<ChatSnapshot>): void {
    this.state.update(patch);
  }

  // ---- lifecycle -----------------------------------------------------------------------

  start(): void {
    // Messages an earlier page could not send are shown again, and sent once the link is up.
    this.outbox.restore();
    this.socket.start();
    void this.reloadRooms();
    document.addEventListener('visibilitychange', this.handleVisibility);
  }

  stop(): void {
    this.stopped = true;
    this.socket.stop();
    this.sync.stopPolling();
    document.removeEventListener('visibilitychange', this.handleVisibility);
    this.outbox.stop();
    this.markers.stop();
    this.typing.clear();
    this.rooms.stop();
  }

  // ---- rooms ---------------------------------------------------------------------------

  /** The room the user is looking at (null for none): loads its history and members. */
  openRoom(roomId: string | null): void {
    this.activeRoomId = roomId;
    if (!roomId) return;
    void this.sync.ensureHistory(roomId);
    if (!this.snapshot.members[roomId]) void this.reloadMembers(roomId);
    this.markRead(roomId);
  }

  /** Where the "new messages" divider goes in a room being opened (call before openRoom marks it read). */
  unreadDividerAfter(roomId: string): number | null {
    return this.markers.unreadDividerAfter(roomId);
  }

  reloadRooms(): Promise<void> {
    return this.rooms.reload();
  }

  /** Which of the room's messages notify me (all, mentions, none). */
  setNotificationLevel(roomId: string, level: NotificationLevel): Promise<void> {
    return this.alerts.setLevel(roomId, level);
  }

  async joinRoom(roomId: string): Promise<void> {
    await api.joinRoom(roomId);
    await this.reloadRooms();
  }

  reloadMembers(roomId: string): Promise<void> {
    return this.rooms.reloadMembers(roomId);
  }

  // ---- moderation (owner and moderators) and notices -------------------------------------

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
    this.rooms.reloadSoon();
    if (this.snapshot.connection !== 'connected') void this.reloadMembers(roomId);
  }

  /** Tells the user an owner or moderator removed them from a room they still hold. */
  private noticeRemoval(roomId: string): void {
    const room = this.snapshot.rooms?.find((candidate) => candidate.id === roomId);
    if (!room) return;
    this.update({ notice: { id: ++this.noticeCount, roomId, text: `You were removed from ${room.name}.` } });
  }

  // ---- timelines and sending (Sync, Outbox) -----------------------------------------------

  /** Fetches the page before the oldest message held (of `limit` messages; default a page). */
  loadOlder(roomId: string, limit?: number): Promise<void> {
    return this.sync.loadOlder(roomId, limit);
  }

  /** Sends a message: shown as pending at once, confirmed by the ack (or the HTTP answer). */
  send(roomId: string, body: string, replyTo?: number, attachments: readonly FileInfo[] = []): void {
    this.outbox.send(roomId, body, replyTo, attachments);
  }

  retry(roomId: string, clientId: string): void {
    this.outbox.retry(roomId, clientId);
  }

  discard(roomId: string, clientId: string): void {
    this.outbox.discard(roomId, clientId);
  }

  /** Tells the room the user is typing, at most once every few seconds. */
  notifyTyping(roomId: string): void {
    const now = Date.now();
    if (now - (this.typingSentAt.get(roomId) ?? 0) < TYPING_SEND_EVERY_MS) return;
    if (this.socket.send({ type: 'typing', roomId })) this.typingSentAt.set(roomId, now);
  }

  /** Bookkeeping for newly held messages: unread counts, read marker, typing. */
  private afterMessages(roomId: string, messages: readonly Message[]): void {
    this.markers.noteMessages(roomId, messages, this.snapshot.self.id);
    for (const message of messages) this.typing.stopped(roomId, message.sender.id);
    this.markers.refreshUnread();
    this.markRead(roomId);
  }

  private markRead(roomId: string): void {
    this.markers.markRead(roomId);
    if (roomId === this.activeRoomId && document.visibilityState === 'visible') this.alerts.read(roomId);
  }

  private readonly handleVisibility = (): void => {
    if (this.activeRoomId) this.markRead(this.activeRoomId);
  };

  // ---- real time -------------------------------------------------------------------------

  private handleLinkState(state: LinkState): void {
    const connection: ConnectionState = state === 'offline' ? 'polling' : state;
    this.update({ connection });
    if (connection === 'connected') this.sync.stopPolling();
    else this.outbox.resendUnacknowledged();
    if (connection === 'polling') this.sync.startPolling();
    if (connection !== 'reconnecting') this.outbox.linkUp();
  }

  private handleFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'hello':
        this.changes.hello(frame.rooms);
        return this.sync.hello(frame.rooms);
      case 'message_updated': {
        const held = timelineOf(this.state, frame.message.roomId).messages.find((m) => m.seq === frame.message.seq);
        if (this.alerts.mentionCountMoved(held, frame.message)) this.rooms.reloadSoon();
        return this.changes.apply([frame.message]);
      }
      case 'message':
        this.alerts.live(frame.message);
        this.sync.receive(frame.message);
        if (!this.snapshot.rooms?.some((room) => room.id === frame.message.roomId)) this.rooms.reloadSoon();
        return;
      case 'ack':
        return this.outbox.acknowledge(frame.clientId, frame.message);
      case 'error':
        if (frame.clientId) this.outbox.fail(frame.clientId, frame.error.message);
        return;
      case 'dm':
        // A DM someone started with us (or we did, in another tab): listed at once.
        return this.rooms.add(frame.room);
      case 'presence':
        return this.update({ online: { ...this.snapshot.online, [frame.userId]: frame.online } });
      case 'typing':
        if (frame.userId === this.snapshot.self.id) return;
        return this.typing.typing(frame.roomId, frame.userId, this.usernameOf(frame.roomId, frame.userId) ?? 'Someone');
      case 'room_deleted':
        return this.rooms.forget(frame.roomId);
      case 'notification_level':
        return this.alerts.levelChanged(frame.roomId, frame.level);
      case 'member':
        if (frame.event) mergeRoomEvents(this.state, frame.roomId, [frame.event]);
        if (frame.userId === this.snapshot.self.id && (frame.change === 'left' || frame.change === 'removed')) {
          if (frame.change === 'removed') this.noticeRemoval(frame.roomId);
          return this.rooms.forget(frame.roomId);
        }
        this.rooms.reloadSoon();
        if (this.snapshot.members[frame.roomId]) void this.reloadMembers(frame.roomId);
        return;
    }
  }

  private usernameOf(roomId: string, userId: string): string | undefined {
    const member = this.snapshot.members[roomId]?.find((m) => m.user.id === userId);
    if (member) return member.user.username;
    return timelineOf(this.state, roomId).messages.findLast((m) => m.sender.id === userId)?.sender.username;
  }
}
