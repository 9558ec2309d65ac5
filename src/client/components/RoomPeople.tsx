/** For owners and moderators, under the member list: add someone by username, and the ban list with Unban. */
import { useEffect, useState } from 'preact/hooks';
import type { Ban, Role } from '../../shared/protocol.js';
import { addMemberByUsername, ApiError, listBans, unban } from '../core/api.js';
import type { ChatStore } from '../core/chat-store.js';

interface RoomPeopleProps {
  chat: ChatStore;
  roomId: string;
  role: Role | null;
  /** Changes when the members change (a ban removes one), so the ban list is read again. */
  memberCount: number;
}

export function RoomPeople({ chat, roomId, role, memberCount }: RoomPeopleProps) {
  const [username, setUsername] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [bans, setBans] = useState<Ban[] | null>(null);
  const manages = role === 'owner' || role === 'moderator';

  const reloadBans = () => listBans(roomId).then((answer) => setBans(answer.bans), () => setBans(null));
  useEffect(() => {
    if (manages) void reloadBans();
  }, [roomId, manages, memberCount]);
  if (!manages) return null;

  async function add(event: Event) {
    event.preventDefault();
    const name = username.trim();
    if (!name) return setMessage({ ok: false, text: 'Enter a username.' });
    setBusy(true);
    setMessage(null);
    try {
      const { member } = await addMemberByUsername(roomId, name);
      setUsername('');
      setMessage({ ok: true, text: `${member.user.username} was added.` });
      void chat.reloadMembers(roomId);
    } catch (failure) {
      setMessage({ ok: false, text: failure instanceof ApiError ? failure.message : 'Could not add them. Try again.' });
    } finally {
      setBusy(false);
    }
  }

  async function lift(ban: Ban) {
    try {
      await unban(roomId, ban.user.id);
      await reloadBans();
    } catch (failure) {
      setMessage({ ok: false, text: failure instanceof ApiError ? failure.message : 'Could not lift the ban. Try again.' });
    }
  }

  return (
    <div class="px-3 pt-3 border-top mt-3">
      <form onSubmit={add} class="mb-2" noValidate>
        <label class="form-label small fw-semibold" for={`add-people-${roomId}`}>
          Add people
        </label>
        <div class="input-group input-group-sm">
          <input
            id={`add-people-${roomId}`}
            class="form-control"
            placeholder="username"
            autocomplete="off"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            data-testid="add-people"
          />
          <button type="submit" class="btn btn-outline-primary" disabled={busy}>
            Add
          </button>
        </div>
      </form>
      {message && (
        <p class={`small ${message.ok ? 'text-success' : 'text-danger'}`} role={message.ok ? 'status' : 'alert'} data-testid="add-people-result">
          {message.text}
        </p>
      )}
      {bans && bans.length > 0 && (
        <section aria-label="Banned" data-testid="ban-list">
          <h3 class="h6 small text-body-secondary mt-3">Banned</h3>
          <ul class="list-unstyled mb-0">
            {bans.map((ban) => (
              <li key={ban.user.id} class="d-flex align-items-center gap-2 py-1" data-testid="banned">
                <span class="text-truncate">{ban.user.username}</span>
                <button type="button" class="btn btn-link btn-sm ms-auto p-0" onClick={() => void lift(ban)}>
                  Unban
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
