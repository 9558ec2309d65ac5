/**
 * Who may do what in a room: pure rules shared by the server's policy (which adds bans and
 * invites on top, rooms/rooms.policy.ts), the socket gateway and the client's members panel.
 * Types only from protocol.ts, so the client bundle gets no schema builders.
 */
import type { Member, Role, RoomKind } from './protocol.js';

export type RoomAction = 'view' | 'read' | 'send' | 'listMembers' | 'invite' | 'join' | 'moderate' | 'setRole' | 'handOver' | 'deleteRoom';

/** What the rules need of a room; `kind` defaults to 'room'. */
export interface RoomTraits {
  isPrivate: boolean;
  kind?: RoomKind;
}

/**
 * A DM is private and its people are fixed at creation: nobody joins, invites, moderates
 * or changes roles (every member's role is 'member' and nobody outranks anybody).
 */
const DM_ACTIONS: ReadonlySet<RoomAction> = new Set(['view', 'read', 'send', 'listMembers']);

/** Whether a caller with this role (null: not a member) may act on the room. */
export function can(role: Role | null, action: RoomAction, room: RoomTraits): boolean {
  if (room.kind === 'dm' && !DM_ACTIONS.has(action)) return false;
  switch (action) {
    case 'view':
      return role !== null || !room.isPrivate;
    case 'read':
    case 'send':
    case 'listMembers':
      return role !== null;
    case 'invite':
    case 'moderate':
      return role === 'owner' || role === 'moderator';
    case 'setRole':
    case 'handOver':
    case 'deleteRoom':
      return role === 'owner';
    case 'join':
      return !room.isPrivate;
  }
}

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

/** The owner keeps their role (they hand it over first, to leave); the owner may change the others'. */
export function roleChangeable(targetRole: Role): boolean {
  return targetRole !== 'owner';
}

/**
 * Whether leaving is refused: an owner must hand the room over (or delete it) first while
 * anyone else is in it; an owner alone may leave, which deletes the room.
 */
export function mustHandOver(role: Role | null, otherMembers: number): boolean {
  return role === 'owner' && otherMembers > 0;
}

export type MemberAction = 'makeModerator' | 'makeMember' | 'remove' | 'ban';

/** What a viewer may do to a member: the rules above, as the members panel offers them (nothing in a DM). */
export function memberActions(viewer: { id: string; role: Role | null }, target: Member, room: Pick<RoomTraits, 'kind'> = {}): MemberAction[] {
  if (!actsOnOther(viewer.id, target.user.id)) return [];
  const traits: RoomTraits = { isPrivate: false, ...room };
  const actions: MemberAction[] = [];
  if (can(viewer.role, 'setRole', traits) && roleChangeable(target.role)) {
    actions.push(target.role === 'moderator' ? 'makeMember' : 'makeModerator');
  }
  if (can(viewer.role, 'moderate', traits) && outranks(viewer.role, target.role)) actions.push('remove', 'ban');
  return actions;
}

/** The kind of room a message rule is asked about: in a DM there are no moderators. */
export interface MessageRuleContext {
  roomKind?: RoomKind;
}

/** Only a message's author edits it. */
export function canEditMessage(actorId: string, message: { senderId: string }): boolean {
  return actorId === message.senderId;
}

/** The author deletes a message; in a room (not a DM) so do its moderators and owner. */
export function canDeleteMessage(
  actor: { id: string; role: Role | null },
  message: { senderId: string },
  { roomKind = 'room' }: MessageRuleContext = {},
): boolean {
  if (actor.role === null) return false;
  if (actor.id === message.senderId) return true;
  return can(actor.role, 'moderate', { isPrivate: true, kind: roomKind });
}
