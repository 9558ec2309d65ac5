/**
 * "New message": search people by name (debounced GET /users?q=), pick 1 to 8, and open
 * the DM of you and them (the existing one if you already share one).
 */
import { useEffect, useId, useState } from 'preact/hooks';
import { LIMITS, type Room, type UserRef } from '../../shared/protocol.js';
import * as api from '../core/api.js';
import type { ChatStore } from '../core/chat-store.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icon.js';

const SEARCH_DELAY_MS = 250;

interface NewMessageDialogProps {
  chat: ChatStore;
  selfId: string;
  onOpened: (room: Room) => void;
  onClose: () => void;
}

export function NewMessageDialog({ chat, selfId, onOpened, onClose }: NewMessageDialogProps) {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<UserRef[]>([]);
  const [picked, setPicked] = useState<UserRef[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const full = picked.length >= LIMITS.dmOthersMax;

  useEffect(() => {
    const text = query.trim();
    if (!text) return setResults([]);
    let current = true;
    const timer = setTimeout(() => {
      api.searchUsers(text).then(
        ({ users }) => current && setResults(users.filter((user) => user.id !== selfId)),
        (failure: unknown) => current && setError(failure instanceof Error ? failure.message : 'Search failed.'),
      );
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, selfId]);

  function pick(user: UserRef) {
    if (full || picked.some((p) => p.id === user.id)) return;
    setPicked([...picked, user]);
    setQuery('');
    setResults([]);
  }

  async function submit(event: Event) {
    event.preventDefault();
    if (picked.length === 0) return setError('Choose at least one person.');
    setBusy(true);
    setError(null);
    try {
      onOpened(await chat.membership.openDm(picked.map((user) => user.id)));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : 'Could not open the conversation.');
      setBusy(false);
    }
  }

  return (
    <Dialog title="New message" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <div class="modal-body">
          {error && (
            <div class="alert alert-danger small" role="alert">
              {error}
            </div>
          )}
          {picked.length > 0 && (
            <ul class="list-inline mb-2" aria-label="People in this conversation" data-testid="dm-picked">
              {picked.map((user) => (
                <li key={user.id} class="list-inline-item badge text-bg-secondary fw-normal fs-6 mb-1">
                  {user.username}
                  <button
                    type="button"
                    class="btn btn-link btn-sm p-0 ms-1 text-reset"
                    onClick={() => setPicked(picked.filter((p) => p.id !== user.id))}
                    aria-label={`Remove ${user.username}`}
                  >
                    <Icon name="x" />
                  </button>
                </li>
              ))}
            </ul>
          )}
          <label class="form-label" for={inputId}>
            People
          </label>
          <input
            id={inputId}
            class="form-control"
            type="search"
            name="people"
            autoComplete="off"
            value={query}
            onInput={(event) => setQuery(event.currentTarget.value)}
            placeholder={full ? `At most ${LIMITS.dmOthersMax} people` : 'Search by username'}
            disabled={full}
            aria-describedby={`${inputId}-help`}
            autoFocus
          />
          <div id={`${inputId}-help`} class="form-text">
            Up to {LIMITS.dmOthersMax} people. The same people always share one conversation.
          </div>
          {results.length > 0 && (
            <ul class="list-group mt-2" aria-label="Search results" data-testid="dm-results">
              {results.map((user) => (
                <li key={user.id} class="list-group-item p-0">
                  <button
                    type="button"
                    class="list-group-item-action btn text-start w-100 d-flex align-items-center gap-2"
                    onClick={() => pick(user)}
                    disabled={picked.some((p) => p.id === user.id)}
                  >
                    <Icon name="user" />
                    <span>{user.username}</span>
                    <span class="visually-hidden">, add to the conversation</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
          {query.trim() && results.length === 0 && <p class="small text-body-secondary mt-2 mb-0" role="status">No one found yet.</p>}
        </div>
        <div class="modal-footer">
          <button type="button" class="btn btn-outline-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy || picked.length === 0}>
            Start conversation
          </button>
        </div>
      </form>
    </Dialog>
  );
}
