/** Creates an invite link for a private room and offers to copy it. */
import { useEffect, useId, useState } from 'preact/hooks';
import type { Invite, Room } from '../../shared/protocol.js';
import * as api from '../core/api.js';
import { ApiError } from '../core/api.js';
import { formatDate } from '../format.js';
import { Dialog } from './Dialog.js';
import { FormAlert } from './form-errors.js';
import { Icon } from './Icon.js';

export function InviteDialog({ room, onClose }: { room: Room; onClose: () => void }) {
  const [invite, setInvite] = useState<Invite | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const id = useId();

  useEffect(() => {
    let current = true;
    api.createInvite(room.id).then(
      (created) => current && setInvite(created),
      (failure: unknown) => current && setError(failure instanceof ApiError ? failure.message : String(failure)),
    );
    return () => {
      current = false;
    };
  }, [room.id]);

  const link = invite ? new URL(invite.url, window.location.origin).href : '';

  async function copy() {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
    } catch {
      // No clipboard access (plain HTTP, or denied): select the text for a manual copy.
      const input = document.getElementById(id) as HTMLInputElement | null;
      input?.select();
      setError('Copying is not available here; the link is selected, press Ctrl+C (or ⌘C) to copy it.');
    }
  }

  return (
    <Dialog title={`Invite people to ${room.name}`} onClose={onClose}>
      <div class="modal-body">
        <FormAlert message={error} />
        {!invite && !error && (
          <p class="text-body-secondary" role="status">
            Creating an invite link…
          </p>
        )}
        {invite && (
          <>
            <label class="form-label" for={id}>
              Invite link
            </label>
            <div class="input-group">
              <input
                id={id}
                class="form-control"
                readOnly
                value={link}
                data-testid="invite-link"
                onFocus={(event) => event.currentTarget.select()}
              />
              <button type="button" class="btn btn-outline-primary" onClick={copy} data-autofocus>
                <Icon name={copied ? 'check' : 'copy'} /> {copied ? 'Copied' : 'Copy'}
              </button>
            </div>
            <p class="form-text" role="status">
              {copied ? 'Link copied. ' : ''}
              {invite.expiresAt ? `Valid until ${formatDate(invite.expiresAt)}` : 'Does not expire'}
              {invite.maxUses ? `, for ${invite.maxUses} uses.` : '.'}
            </p>
          </>
        )}
      </div>
      <div class="modal-footer">
        <button type="button" class="btn btn-outline-secondary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
