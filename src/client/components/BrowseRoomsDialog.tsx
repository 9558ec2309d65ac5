/** The public room directory with search, plus the seed's join-by-name. */
import { useEffect, useState } from 'preact/hooks';
import type { Room } from '../../shared/protocol.js';
import * as api from '../core/api.js';
import { ApiError } from '../core/api.js';
import type { ChatStore } from '../core/chat-store.js';
import { plural } from '../format.js';
import { Dialog } from './Dialog.js';
import { FormField } from './FormField.js';
import { FormAlert, useFormErrors } from './form-errors.js';
import { VisibleText } from './VisibleText.js';

interface BrowseRoomsDialogProps {
  chat: ChatStore;
  memberOf: ReadonlySet<string>;
  onOpen: (roomId: string) => void;
  onClose: () => void;
}

const SEARCH_DELAY_MS = 250;

export function BrowseRoomsDialog({ chat, memberOf, onOpen, onClose }: BrowseRoomsDialogProps) {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<readonly Room[] | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [joining, setJoining] = useState<string | null>(null);
  const [joinError, setJoinError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      api.searchDirectory(query.trim()).then(
        (rooms) => {
          if (!current) return;
          setResults(rooms);
          setSearchError(null);
        },
        (error: unknown) => current && setSearchError(error instanceof ApiError ? error.message : String(error)),
      );
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query]);

  async function join(room: Room) {
    setJoining(room.id);
    setJoinError(null);
    try {
      await chat.joinRoom(room.id);
      onOpen(room.id);
    } catch (error) {
      setJoinError(error instanceof ApiError ? error.message : 'Could not join that room. Try again.');
      setJoining(null);
    }
  }

  return (
    <Dialog title="Browse rooms" onClose={onClose}>
      <div class="modal-body">
        <FormField label="Search public rooms" name="q" type="search" value={query} onInput={setQuery} autoFocus />
        <FormAlert message={searchError ?? joinError} />
        <div aria-live="polite" class="visually-hidden">
          {results && plural(results.length, 'room') + ' found'}
        </div>
        {results === null ? (
          <p class="text-body-secondary small" role="status">
            Searching…
          </p>
        ) : results.length === 0 ? (
          <p class="text-body-secondary small">No public room matches.</p>
        ) : (
          <ul class="list-group directory-list">
            {results.map((room) => (
              <li key={room.id} class="list-group-item d-flex align-items-center gap-2" data-testid="directory-room">
                <div class="flex-grow-1 min-width-0">
                  <div class="fw-semibold text-truncate">{room.name}</div>
                  {room.description && <div class="small text-body-secondary room-description"><VisibleText text={room.description} /></div>}
                  <div class="small text-body-secondary">{plural(room.memberCount, 'member')}</div>
                </div>
                {memberOf.has(room.id) ? (
                  <button type="button" class="btn btn-outline-secondary btn-sm" onClick={() => onOpen(room.id)}>
                    Open<span class="visually-hidden"> {room.name}</span>
                  </button>
                ) : (
                  <button
                    type="button"
                    class="btn btn-primary btn-sm"
                    disabled={joining !== null}
                    onClick={() => join(room)}
                  >
                    {joining === room.id ? 'Joining…' : 'Join'}
                    <span class="visually-hidden"> {room.name}</span>
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div class="modal-footer d-block">
        <JoinByNameForm chat={chat} onJoined={onOpen} />
      </div>
    </Dialog>
  );
}

function JoinByNameForm({ chat, onJoined }: { chat: ChatStore; onJoined: (roomId: string) => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(['name']);

  async function submit(event: Event) {
    event.preventDefault();
    if (!name.trim()) return errors.reject({ name: 'Enter the name of the room.' });
    errors.clear();
    setBusy(true);
    try {
      const room = await chat.membership.joinByName(name.trim());
      onJoined(room.id);
    } catch (error) {
      errors.show(error);
      setBusy(false);
    }
  }

  return (
    <form ref={errors.form} onSubmit={submit} noValidate>
      <FormAlert message={errors.formError} />
      <div class="d-flex gap-2 align-items-start">
        <div class="flex-grow-1">
          <FormField
            label="Join a public room by its exact name"
            name="name"
            value={name}
            onInput={setName}
            error={errors.fieldErrors.name}
          />
        </div>
        <button type="submit" class="btn btn-outline-primary join-by-name" disabled={busy}>
          Join
        </button>
      </div>
    </form>
  );
}
