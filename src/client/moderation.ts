/**
 * The members panel's view of the rules: what the viewer may do to a member comes from the
 * shared rules (src/shared/room-rules.ts), which the server's policy applies too.
 */
import type { Member, Role } from '../shared/protocol.js';

export { memberActions, type MemberAction } from '../shared/room-rules.js';

export interface Viewer {
  id: string;
  role: Role | null;
}

/** The viewer's role in a room: the member list's word when loaded (it is refreshed on role frames), else the room's. */
export function viewerRole(selfId: string, members: readonly Member[] | undefined, roomRole: Role | null): Role | null {
  return members?.find((member) => member.user.id === selfId)?.role ?? roomRole;
}
