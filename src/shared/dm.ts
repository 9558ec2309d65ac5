/** How a direct message is named, by the server's answers and the client alike. */
import type { UserRef } from './protocol.js';

/** The other members' usernames, comma-joined; "Just you" for nobody else (they all left). */
export function dmName(members: readonly UserRef[], viewerId: string): string {
  const others = members.filter((member) => member.id !== viewerId).map((member) => member.username);
  return others.length > 0 ? others.join(', ') : 'Just you';
}

/** The other member of a 1:1 DM (for its presence dot); undefined for a group DM. */
export function dmPartner<T extends UserRef>(members: readonly T[], viewerId: string): T | undefined {
  const others = members.filter((member) => member.id !== viewerId);
  return others.length === 1 ? others[0] : undefined;
}
