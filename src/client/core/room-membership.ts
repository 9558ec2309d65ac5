/**
 * Creating, joining and leaving rooms and DMs from the client: each asks the server, then
 * puts the answer in the room list (or takes the room out of it) without waiting for a reload.
 */
import type { Room } from '../../shared/protocol.js';
import * as api from './api.js';
import type { CreateRoomBody } from './api.js';
import type { Rooms } from './rooms.js';

export class RoomMembership {
  constructor(private readonly rooms: Rooms) {}

  async create(body: CreateRoomBody): Promise<Room> {
    return this.listed((await api.createRoom(body)).room);
  }

  async joinByName(name: string): Promise<Room> {
    return this.listed((await api.joinRoomByName(name)).room);
  }

  /** Opens (creates or finds) the DM of the user and these people, and lists it. */
  async openDm(userIds: string[]): Promise<Room> {
    return this.listed((await api.openDm(userIds)).room);
  }

  async acceptInvite(code: string): Promise<Room> {
    return this.listed((await api.acceptInvite(code)).room);
  }

  async leave(roomId: string): Promise<void> {
    await api.leaveRoom(roomId);
    this.rooms.forget(roomId);
  }

  /** The owner hands the room to `userId`, then leaves (a sole owner may not just leave). */
  async handOverAndLeave(roomId: string, userId: string): Promise<void> {
    await api.handOverRoom(roomId, userId);
    await this.leave(roomId);
  }

  async delete(roomId: string): Promise<void> {
    await api.deleteRoom(roomId);
    this.rooms.forget(roomId);
  }

  private listed(room: Room): Room {
    this.rooms.add(room);
    return room;
  }
}
