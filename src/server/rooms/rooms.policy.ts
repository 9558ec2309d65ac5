/**
 * Who may do what in a room — the one place these rules live. HTTP routes, the socket
 * gateway and the fan-out all ask here (through the rooms service).
 */
import type { Role } from './rooms.repository.js';

export type RoomAction = 'view' | 'read' | 'send' | 'listMembers' | 'invite' | 'join';

/** Whether a caller with this role (null: not a member) may act on the room. */
export function can(role: Role | null, action: RoomAction, room: { is_private: number }): boolean {
  switch (action) {
    case 'view':
      return role !== null || room.is_private === 0;
    case 'read':
    case 'send':
    case 'listMembers':
      return role !== null;
    case 'invite':
      return role === 'owner' || role === 'moderator';
    case 'join':
      return room.is_private === 0;
  }
}
