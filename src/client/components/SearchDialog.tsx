/**
 * "Search messages": words (the last one as a prefix) with a room filter and a person
 * filter, results newest first as one types. The input is a combobox over the results
 * list: the arrow keys move through them, Enter opens one, Escape closes (Dialog).
 */
import type { TargetedKeyboardEvent } from 'preact';
import { useEffect, useId, useMemo, useState } from 'preact/hooks';
import type { Room } from '../../shared/protocol.js';
import type { SearchResult } from '../../shared/search-shapes.js';
import { plural } from '../format.js';
import { composeQuery, highlightQuery, moveActive } from '../search-view.js';
import { Dialog } from './Dialog.js';
import { SearchResultItem } from './SearchResultItem.js';
import { useMessageSearch, type SearchState } from './use-message-search.js';

interface SearchDialogProps {
  rooms: readonly Room[] | null;
  onOpen: (result: SearchResult) => void;
  onClose: () => void;
}

export function SearchDialog({ rooms, onOpen, onClose }: SearchDialogProps) {
  const [words, setWords] = useState('');
  const [person, setPerson] = useState('');
  const [roomId, setRoomId] = useState('');
  const { state, loadMore } = useMessageSearch(composeQuery(words, person), roomId);
  const [active, setActive] = useState(-1);
  const id = useId();
  const listId = `${id}-results`;
  const optionId = (index: number) => `${id}-result-${index}`;
  const query = useMemo(() => highlightQuery(state.q), [state.q]);
  const { results } = state;

  useEffect(() => setActive(-1), [state.q, roomId]);
  useEffect(() => {
    if (active >= 0) document.getElementById(optionId(active))?.scrollIntoView({ block: 'nearest' });
  }, [active]);

  function onKeyDown(event: TargetedKeyboardEvent<HTMLDivElement>) {
    const target = event.target as HTMLElement;
    // The room select takes its own arrow keys; buttons their own Enter.
    if (target.tagName === 'SELECT' || target.tagName === 'BUTTON') return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const next = moveActive(active, results.length, event.key);
      if (next === null) return;
      event.preventDefault();
      setActive(next);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const chosen = results[active] ?? results[0];
      if (chosen) onOpen(chosen);
    }
  }

  return (
    <Dialog title="Search messages" onClose={onClose}>
      <div class="modal-body search-dialog" onKeyDown={onKeyDown} data-testid="search-dialog">
        <label class="visually-hidden" for={`${id}-q`}>
          Search messages
        </label>
        <input
          id={`${id}-q`}
          class="form-control"
          type="search"
          name="q"
          autoComplete="off"
          placeholder="Search messages"
          value={words}
          onInput={(event) => setWords(event.currentTarget.value)}
          role="combobox"
          list={undefined}
          aria-expanded={results.length > 0}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={active >= 0 ? optionId(active) : undefined}
          aria-describedby={`${id}-status`}
          data-autofocus=""
          maxLength={300}
        />
        <div class="d-flex flex-wrap gap-2 mt-2">
          <RoomFilter rooms={rooms} value={roomId} onChange={setRoomId} />
          <div class="search-filter">
            <label class="form-label small mb-0" for={`${id}-from`}>
              From
            </label>
            <input
              id={`${id}-from`}
              class="form-control form-control-sm"
              name="from"
              autoComplete="off"
              placeholder="Anyone"
              value={person}
              onInput={(event) => setPerson(event.currentTarget.value)}
            />
          </div>
        </div>
        <div id={`${id}-status`} class="mt-3">
          <SearchStatus state={state} />
        </div>
        <ul id={listId} class="list-group search-results" role="listbox" aria-label="Results">
          {results.map((result, index) => (
            <SearchResultItem
              key={`${result.room.id}-${result.message.seq}`}
              id={optionId(index)}
              result={result}
              query={query}
              active={index === active}
              onOpen={() => onOpen(result)}
              onHover={() => index !== active && setActive(index)}
            />
          ))}
        </ul>
        {state.nextCursor && state.status === 'done' && (
          <div class="text-center mt-2">
            <button type="button" class="btn btn-link btn-sm" onClick={loadMore} disabled={state.loadingMore} data-testid="search-load-more">
              {state.loadingMore ? 'Loading…' : 'Load more'}
            </button>
          </div>
        )}
      </div>
    </Dialog>
  );
}

function RoomFilter({ rooms, value, onChange }: { rooms: readonly Room[] | null; value: string; onChange: (roomId: string) => void }) {
  const id = useId();
  const named = (kind: Room['kind']) => (rooms ?? []).filter((room) => room.kind === kind);
  return (
    <div class="search-filter">
      <label class="form-label small mb-0" for={id}>
        In
      </label>
      <select id={id} name="roomId" class="form-select form-select-sm" value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        <option value="">All rooms and DMs</option>
        <optgroup label="Rooms">
          {named('room').map((room) => (
            <option key={room.id} value={room.id}>
              {room.name}
            </option>
          ))}
        </optgroup>
        <optgroup label="Direct messages">
          {named('dm').map((room) => (
            <option key={room.id} value={room.id}>
              {room.name}
            </option>
          ))}
        </optgroup>
      </select>
    </div>
  );
}

/** What the search is doing, or why nothing is listed. */
function SearchStatus({ state }: { state: SearchState }) {
  if (state.error) {
    return (
      <div class={`alert ${state.building ? 'alert-info' : 'alert-danger'} small py-2`} role="alert" data-testid="search-error">
        {state.error}
      </div>
    );
  }
  const text =
    state.status === 'idle'
      ? 'Words match whole, ignoring case and accents; the last may be the start of a word. Filters: from:name, has:file, after:YYYY-MM-DD, before:YYYY-MM-DD.'
      : state.status === 'loading' && state.results.length === 0
        ? 'Searching…'
        : state.results.length === 0
          ? 'No messages found.'
          : `${plural(state.results.length, 'message')}${state.nextCursor ? ' so far' : ''}.`;
  return (
    <p class="small text-body-secondary mb-2" role="status" data-testid="search-status">
      {text}
    </p>
  );
}
