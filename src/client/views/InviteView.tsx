/** Accepting an invitation link to a (private) room. */
import { useState } from 'preact/hooks';
import { ApiError } from '../core/api.js';
import type { ChatStore } from '../core/chat-store.js';
import { FormAlert } from '../components/form-errors.js';
import { useDocumentTitle } from '../hooks.js';
import { roomPath } from '../paths.js';
import { navigate } from '../router.js';

export function InviteView({ chat, code }: { chat: ChatStore; code: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useDocumentTitle('Invitation');

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
      <p class="lead text-body-secondary">Someone invited you to a room on SecureChat.</p>
      <FormAlert message={error} />
      <button type="button" class="btn btn-primary btn-lg" onClick={accept} disabled={busy}>
        {busy ? 'Joining…' : 'Accept invite'}
      </button>
    </div>
  );
}
