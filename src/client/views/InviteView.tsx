/** Accepting an invitation link to a (private) room. */
import { useEffect, useState } from 'preact/hooks';
import type { Room } from '../../shared/protocol.js';
import * as api from '../api.js';
import { ApiError } from '../api.js';
import type { ChatClient } from '../chat-client.js';
import { FormAlert } from '../components/form-errors.js';
import { useDocumentTitle } from '../hooks.js';
import { roomPath } from '../paths.js';
import { navigate } from '../router.js';

export function InviteView({ chat, code }: { chat: ChatClient; code: string }) {
  const [room, setRoom] = useState<Room | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useDocumentTitle('Invitation');

  // Naming the room is a courtesy: without a preview endpoint the page still works.
  useEffect(() => {
    let current = true;
    api.previewInvite(code).then(
      (preview) => current && setRoom(preview.room),
      () => {},
    );
    return () => {
      current = false;
    };
  }, [code]);

  async function accept() {
    setBusy(true);
    setError(null);
    try {
      const joined = await chat.acceptInvite(code);
      navigate(roomPath(joined.id), { replace: true });
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'Could not accept the invitation. Try again.');
      setBusy(false);
    }
  }

  return (
    <div class="container auth-page py-5 text-center">
      <h1 class="h3 mb-3" tabIndex={-1}>
        You have been invited
      </h1>
      <p class="lead text-body-secondary">
        {room ? (
          <>
            Join the room <strong class="text-body">{room.name}</strong>.
          </>
        ) : (
          'Someone invited you to a room on SecureChat.'
        )}
      </p>
      <FormAlert message={error} />
      <button type="button" class="btn btn-primary btn-lg" onClick={accept} disabled={busy}>
        {busy ? 'Joining…' : 'Accept invite'}
      </button>
    </div>
  );
}
