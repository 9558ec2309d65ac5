/** A room's invite links that still work, with uses and expiry, and a button to revoke each. */
import type { RoomInvite } from '../../shared/protocol.js';
import { formatDate, plural } from '../format.js';

interface InviteListProps {
  invites: RoomInvite[] | null;
  /** The link made in this dialog, marked "new". */
  newId: string | null;
  /** The invite being revoked right now. */
  revoking: string | null;
  onRevoke: (invite: RoomInvite) => void;
}

/** "2 of 5 uses", or "1 use, no limit". */
function usesText(invite: RoomInvite): string {
  return invite.maxUses === null ? `${plural(invite.uses, 'use')}, no limit` : `${invite.uses} of ${plural(invite.maxUses, 'use')}`;
}

export function InviteList({ invites, newId, revoking, onRevoke }: InviteListProps) {
  if (invites === null) {
    return (
      <p class="text-body-secondary small" role="status">
        Loading the active links…
      </p>
    );
  }
  if (invites.length === 0) return <p class="text-body-secondary small mb-0">No active links.</p>;
  return (
    <ul class="list-group" data-testid="invite-list">
      {invites.map((invite) => {
        const expiry = invite.expiresAt ? `expires ${formatDate(invite.expiresAt)}` : 'never expires';
        const label = `link by ${invite.createdBy.username} from ${formatDate(invite.createdAt)}`;
        return (
          <li key={invite.id} class="list-group-item d-flex align-items-center gap-2" data-testid="invite-item" data-invite-id={invite.id}>
            <div class="flex-grow-1 overflow-hidden">
              <div class="text-truncate">
                By {invite.createdBy.username}
                {invite.id === newId && <span class="badge text-bg-primary ms-2">new</span>}
              </div>
              <div class="small text-body-secondary" data-testid="invite-details">
                {usesText(invite)} · {expiry}
              </div>
            </div>
            <button
              type="button"
              class="btn btn-outline-danger btn-sm"
              onClick={() => onRevoke(invite)}
              disabled={revoking === invite.id}
              aria-label={`Revoke the ${label}`}
            >
              {revoking === invite.id ? 'Revoking…' : 'Revoke'}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
