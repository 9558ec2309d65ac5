/**
 * What the viewer may do to a member in the members panel, mirroring the server's rules
 * (rooms.policy.ts): nobody acts on the owner or on themselves; the owner may change roles,
 * remove and ban anyone else; a moderator may remove and ban plain members only. The
 * server decides in the end; this only keeps the panel from offering what it would refuse.
 */
import type { Member, Role } from '../shared/protocol.js';

export type MemberAction = 'makeModerator' | 'makeMember' | 'remove' | 'ban';

export interface Viewer {
  id: string;
  role: Role | null;
}

export function memberActions(viewer: Viewer, target: Member): MemberAction[] {
  if (target.user.id === viewer.id || target.role === 'owner') return [];
  if (viewer.role === 'owner') {
    return [target.role === 'moderator' ? 'makeMember' : 'makeModerator', 'remove', 'ban'];
  }
  if (viewer.role === 'moderator' && target.role === 'member') return ['remove', 'ban'];
  return [];
}

/** The viewer's role in a room: the member list's word when loaded (it is refreshed on role frames), else the room's. */
export function viewerRole(selfId: string, members: readonly Member[] | undefined, roomRole: Role | null): Role | null {
  return members?.find((member) => member.user.id === selfId)?.role ?? roomRole;
}
