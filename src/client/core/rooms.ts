/**
 * The room list and each room's members, from GET /rooms and GET /rooms/:id/members:
 * answers that come back out of order, or for a room just left, are dropped.
 */
import type { Room } from '../../shared/protocol.js';
import * as api from './api.js';
import { messageOf, without, type ChatContext } from './chat-state.js';
import type { ReadMarkers } from './read-markers.js';

export class Rooms {
  private roomsRequest = 0;
  /** The GET /rooms whose answer is awaited, if any. */
  private roomsInFlight = 0;
  private readonly membersRequest = new Map<string, number>();
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: Pick<ChatContext, 'state' | 'isStopped'>,
    private readonly markers: ReadMarkers,
    /** Each fresh list, whichever path loaded it (mention counts come with it). */
    private readonly onLoaded: (rooms: readonly Room[]) => void,
  ) {}

  stop(): void {
    clearTimeout(this.reloadTimer);
  }

  async reload(): Promise<void> {
    const { state } = this.ctx;
    const request = ++this.roomsRequest;
    this.roomsInFlight = request;
    try {
      const rooms = await api.listRooms();
      if (request !== this.roomsRequest || this.ctx.isStopped()) return;
      for (const room of rooms) this.markers.trackRoom(room);
      seedOnline(state, rooms);
      state.update({ rooms: sortRooms(rooms), roomsError: null, unread: this.markers.computeUnread(rooms) });
      this.onLoaded(rooms);
    } catch (error) {
      if (request === this.roomsRequest && state.getSnapshot().rooms === null) {
        state.update({ roomsError: messageOf(error) });
      }
    } finally {
      if (this.roomsInFlight === request) this.roomsInFlight = 0;
    }
  }

  /** Member frames come in bursts when many people join; refresh the list once. */
  reloadSoon(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 300);
  }

  async reloadMembers(roomId: string): Promise<void> {
    const { state } = this.ctx;
    const request = (this.membersRequest.get(roomId) ?? 0) + 1;
    this.membersRequest.set(roomId, request);
    try {
      const members = await api.listMembers(roomId);
      // An older answer must not replace a newer one, nor bring back a room just left.
      if (this.membersRequest.get(roomId) !== request || this.ctx.isStopped()) return;
      const snapshot = state.getSnapshot();
      if (snapshot.rooms && !snapshot.rooms.some((room) => room.id === roomId)) return;
      const online = { ...snapshot.online };
      for (const member of members) online[member.user.id] = member.online;
      state.update({ members: { ...snapshot.members, [roomId]: members }, online });
    } catch {
      // The panel keeps what it had; the next member frame or reconnect tries again.
    }
  }

  add(room: Room): void {
    this.markers.trackRoom(room);
    seedOnline(this.ctx.state, [room]);
    const others = (this.ctx.state.getSnapshot().rooms ?? []).filter((r) => r.id !== room.id);
    const rooms = sortRooms([...others, room]);
    this.ctx.state.update({ rooms, unread: this.markers.computeUnread(rooms) });
  }

  forget(roomId: string): void {
    const snapshot = this.ctx.state.getSnapshot();
    const rooms = snapshot.rooms?.filter((room) => room.id !== roomId) ?? null;
    this.markers.forget(roomId);
    this.membersRequest.delete(roomId);
    // A room list asked for before this could still hold the room: ask again instead.
    if (this.roomsInFlight) {
      this.roomsRequest++;
      this.roomsInFlight = 0;
      this.reloadSoon();
    }
    this.ctx.state.update({
      rooms,
      timelines: without(snapshot.timelines, roomId),
      members: without(snapshot.members, roomId),
      unread: this.markers.computeUnread(rooms ?? []),
    });
  }
}

/** DMs carry their people's presence as read with the room list; presence frames keep it current. */
function seedOnline(state: ChatContext['state'], rooms: readonly Room[]): void {
  const people = rooms.flatMap((room) => room.dmMembers ?? []).filter((member) => member.online !== undefined);
  if (people.length === 0) return;
  const online = { ...state.getSnapshot().online };
  for (const member of people) online[member.id] = member.online!;
  state.update({ online });
}

function sortRooms(rooms: readonly Room[]): Room[] {
  return [...rooms].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
}
