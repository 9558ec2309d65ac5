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

/** Moderation acts on others: to leave a room yourself, use leave. */
export function actsOnOther(actorId: string, targetId: string): boolean {
  return actorId !== targetId;
}

/** The owner keeps their role (they hand it over by leaving); the owner may change the others'. */
export function roleChangeable(targetRole: Role): boolean {
  return targetRole !== 'owner';
}

/** Who gets the room when its owner leaves: a moderator, else the longest-standing member. */
export function heirOf<T extends { role: Role }>(remaining: readonly T[]): T | undefined {
  return remaining.find((m) => m.role === 'moderator') ?? remaining[0];
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
