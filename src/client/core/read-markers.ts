/**
 * Unread counts and read markers: the newest seq known and the last read, per room; the
 * open room is marked read (and, a little later, reported to the server) while visible.
 */
import type { Message, Room } from '../../shared/protocol.js';
import * as api from './api.js';
import type { ChatContext } from './chat-state.js';

const READ_REPORT_DELAY_MS = 500;

export class ReadMarkers {
  private readonly readSeq = new Map<string, number>();
  private readonly latestSeq = new Map<string, number>();
  private readonly readReports = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly ctx: Pick<ChatContext, 'state' | 'activeRoomId'>) {}

  stop(): void {
    for (const timer of this.readReports.values()) clearTimeout(timer);
  }

  trackRoom(room: Room): void {
    this.noteSeq(room.id, room.lastSeq);
    const known = this.readSeq.get(room.id);
    // Without a server-side read marker, what existed when the client loaded counts as read.
    const serverRead = room.lastReadSeq ?? (known === undefined ? room.lastSeq : undefined);
    if (serverRead !== undefined) this.readSeq.set(room.id, Math.max(known ?? 0, serverRead));
  }

  noteSeq(roomId: string, seq: number): void {
    this.latestSeq.set(roomId, Math.max(this.latestSeq.get(roomId) ?? 0, seq));
  }

  /** Notes newly held messages; what one writes, one has read (the server moves the marker the same way). */
  noteMessages(roomId: string, messages: readonly Message[], selfId: string): void {
    for (const message of messages) {
      this.noteSeq(roomId, message.seq);
      if (message.sender.id === selfId) this.readSeq.set(roomId, Math.max(this.readSeq.get(roomId) ?? 0, message.seq));
    }
  }

  forget(roomId: string): void {
    this.readSeq.delete(roomId);
    this.latestSeq.delete(roomId);
    clearTimeout(this.readReports.get(roomId));
    this.readReports.delete(roomId);
  }

  /** The read marker, if anything after it was unread (the divider's place when a room opens). */
  unreadDividerAfter(roomId: string): number | null {
    const read = this.readSeq.get(roomId);
    const latest = this.latestSeq.get(roomId);
    return read !== undefined && latest !== undefined && read < latest ? read : null;
  }

  computeUnread(rooms: readonly Room[]): Record<string, number> {
    const unread: Record<string, number> = {};
    for (const room of rooms) {
      const latest = this.latestSeq.get(room.id) ?? room.lastSeq;
      unread[room.id] = Math.max(0, latest - (this.readSeq.get(room.id) ?? latest));
    }
    return unread;
  }

  refreshUnread(): void {
    const { rooms } = this.ctx.state.getSnapshot();
    if (rooms) this.ctx.state.update({ unread: this.computeUnread(rooms) });
  }

  /** Marks the open room read up to its newest message, if the page is visible. */
  markRead(roomId: string): void {
    if (roomId !== this.ctx.activeRoomId() || document.visibilityState !== 'visible') return;
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
}
