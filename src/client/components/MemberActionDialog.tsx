import { useState } from 'preact/hooks';
import type { Member, Room } from '../../shared/protocol.js';
import { ApiError } from '../core/api.js';
import type { ChatStore } from '../core/chat-store.js';
import { Dialog } from './Dialog.js';
import { FormAlert } from './form-errors.js';

interface MemberActionDialogProps {
  chat: ChatStore;
  room: Room;
  member: Member;
  action: 'remove' | 'ban';
  onDone: () => void;
  onClose: () => void;
}

/** Confirms removing or banning a member; the server's refusal is shown here. */
export function MemberActionDialog({ chat, room, member, action, onDone, onClose }: MemberActionDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = member.user.username;
  const ban = action === 'ban';

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await chat.removeMember(room.id, member.user.id, { ban });
      onDone();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : `Could not ${action} ${name}. Try again.`);
      setBusy(false);
    }
  }

  return (
    <Dialog title={ban ? `Ban ${name}?` : `Remove ${name}?`} onClose={onClose}>
      <div class="modal-body" data-testid="member-action-dialog">
        <FormAlert message={error} />
        <p class="mb-0">
          {ban
            ? `${name} will be removed from ${room.name} and will not be able to join it again, not even with an invitation.`
            : `${name} will be removed from ${room.name}. ${
                room.isPrivate ? 'They can come back only with a new invitation.' : 'They can join again from the room directory.'
              }`}
        </p>
      </div>
      <div class="modal-footer">
        <button type="button" class="btn btn-outline-secondary" onClick={onClose} data-autofocus>
          Cancel
        </button>
        <button type="button" class="btn btn-danger" onClick={confirm} disabled={busy} data-testid="member-action-confirm">
          {busy && <span class="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
          {ban ? 'Ban' : 'Remove'}
        </button>
      </div>
    </Dialog>
  );
}
