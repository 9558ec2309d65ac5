/**
 * Who may do what in a room — the one place these rules live. HTTP routes, the socket
 * gateway and the fan-out all ask here (through the rooms service).
 */
import type { Role } from './rooms.repository.js';

export type RoomAction = 'view' | 'read' | 'send' | 'listMembers' | 'invite' | 'join' | 'moderate' | 'setRole';

/**
 * Whether a moderator or owner may remove or ban a member with `targetRole`: nobody acts
 * on the owner, and only the owner acts on moderators.
 */
export function outranks(actorRole: Role | null, targetRole: Role): boolean {
  if (targetRole === 'owner') return false;
  if (targetRole === 'moderator') return actorRole === 'owner';
  return actorRole === 'owner' || actorRole === 'moderator';
}

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
    case 'moderate':
      return role === 'owner' || role === 'moderator';
    case 'setRole':
      return role === 'owner';
    case 'join':
      return room.is_private === 0;
  }
}
