/**
 * When an invite can still let someone in ("live"): not revoked, not expired, not used up.
 * One rule in two forms kept side by side: in SQL for the statements that list, count and
 * exclude (liveInvite), and on a row for the answer that says why not (deadReason).
 */
import { expressionBuilder, type Expression, type SqlBool } from 'kysely';
import type { Database, RoomInvitesTable } from '../db/schema.js';

export type DeadReason = 'revoked' | 'expired' | 'used_up';

/** True for a `room_invites` row that is live at `now`; usable in any statement on that table. */
export function liveInvite(now: number): Expression<SqlBool> {
  const eb = expressionBuilder<Database, 'room_invites'>();
  return eb.and([
    eb('room_invites.revoked_at', 'is', null),
    eb.or([eb('room_invites.expires_at', 'is', null), eb('room_invites.expires_at', '>', now)]),
    eb.or([eb('room_invites.max_uses', 'is', null), eb('room_invites.uses', '<', eb.ref('room_invites.max_uses'))]),
  ]);
}

/** The same rule on a row: why it is not live at `now` (in the order above), or null when it is. */
export function deadReason(invite: Pick<RoomInvitesTable, 'revoked_at' | 'expires_at' | 'max_uses' | 'uses'>, now: number): DeadReason | null {
  if (invite.revoked_at !== null) return 'revoked';
  if (invite.expires_at !== null && invite.expires_at <= now) return 'expired';
  if (invite.max_uses !== null && invite.uses >= invite.max_uses) return 'used_up';
  return null;
}
