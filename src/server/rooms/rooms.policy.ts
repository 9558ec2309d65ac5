/**
 * Who may do what in a room, on the server: the shared rules (src/shared/room-rules.ts, also
 * used by the client), applied to stored rows, and the rules only the server can check —
 * bans. HTTP routes, the socket gateway and the fan-out all ask here (through the rooms services).
 */
import { can, type RoomAction } from '../../shared/room-rules.js';
import type { Role } from './rooms.repository.js';

export { actsOnOther, mustHandOver, outranks, roleChangeable, type RoomAction } from '../../shared/room-rules.js';

/** `can` on a stored room (is_private is 0/1; kind 'dm' for a direct message). */
export function allows(role: Role | null, action: RoomAction, room: { is_private: number; kind?: 'room' | 'dm' }): boolean {
  return can(role, action, { isPrivate: room.is_private !== 0, kind: room.kind ?? 'room' });
}

/**
 * A ban holds on every way back in. Joining a private room it turns away as a stranger is
 * (not found: the room stays invisible); a public room, or an invite, which names the room
 * anyway, says "banned".
 */
export function banHidesRoom(room: { is_private: number }): boolean {
  return room.is_private !== 0;
}
