/** An invitation link: who invited, to which room; join when signed in, else sign in or register and come back. */
import { useEffect, useState } from 'preact/hooks';
import type { InvitePreview } from '../../shared/protocol.js';
import { ApiError, getInvitePreview } from '../core/api.js';
import type { ChatStore } from '../core/chat-store.js';
import { FormAlert } from '../components/form-errors.js';
import { useDocumentTitle } from '../hooks.js';
import { loginPath, registerPath, roomPath } from '../paths.js';
import { Link, navigate } from '../router.js';

export function InviteView({ chat, code }: { chat: ChatStore | null; code: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [preview, setPreview] = useState<InvitePreview | null>(null);
  useDocumentTitle('Invitation');

  useEffect(() => {
    getInvitePreview(code).then(setPreview, (failure: unknown) =>
      setError(failure instanceof ApiError ? failure.message : 'Could not read the invitation. Try again.'),
    );
  }, [code]);

  async function accept() {
    if (!chat) return;
    setBusy(true);
    setError(null);
    try {
      const joined = await chat.membership.acceptInvite(code);
      navigate(roomPath(joined.id), { replace: true });
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'Could not accept the invitation. Try again.');
      setBusy(false);
    }
  }

  const here = `/invite/${encodeURIComponent(code)}`;
  return (
    <div class="container auth-page py-5 text-center">
      <h1 class="h3 mb-3" tabIndex={-1}>
        {preview ? `${preview.invitedBy.username} invited you to ${preview.room.name}` : 'You have been invited'}
      </h1>
      {preview && (
        <p class="lead text-body-secondary">
          {preview.room.isPrivate ? 'A private room' : 'A public room'} with {preview.room.memberCount}{' '}
          {preview.room.memberCount === 1 ? 'member' : 'members'} on SecureChat.
        </p>
      )}
      <FormAlert message={error} />
      {chat ? (
        <button type="button" class="btn btn-primary btn-lg" onClick={accept} disabled={busy}>
          {busy ? 'Joining…' : 'Join'}
        </button>
      ) : (
        preview && (
          <div class="d-flex gap-2 justify-content-center">
            <Link class="btn btn-primary btn-lg" href={loginPath(here)}>
              Sign in to join
            </Link>
            <Link class="btn btn-outline-primary btn-lg" href={registerPath(here)}>
              Create account to join
            </Link>
          </div>
        )
      )}
    </div>
  );
}
