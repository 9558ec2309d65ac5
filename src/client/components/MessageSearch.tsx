/**
 * The header's search button and shortcuts (Ctrl+K or Cmd+K anywhere, `/` outside text
 * fields), the search dialog, and opening a result: its room, scrolled to the message,
 * which is marked for a moment.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatSnapshot } from '../core/chat-state.js';
import type { ChatStore } from '../core/chat-store.js';
import type { SearchResult } from '../../shared/search-shapes.js';
import { useStore } from '../hooks.js';
import { jumpToMessage } from '../jump-to-message.js';
import { roomPath } from '../paths.js';
import { navigate } from '../router.js';
import { opensSearch } from '../search-keys.js';
import { Icon } from './Icon.js';
import { SearchDialog } from './SearchDialog.js';

/** How long a found message stays marked (the CSS fades it out over this time). */
const FOUND_MS = 4_000;
const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const selectRooms = (snapshot: ChatSnapshot) => snapshot.rooms;

export function MessageSearch({ chat }: { chat: ChatStore }) {
  const [open, setOpen] = useState(false);
  const isOpen = useRef(false);
  isOpen.current = open;
  const rooms = useStore(chat, selectRooms);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || !opensSearch(event)) return;
      // Pressed again in the search dialog: back to its box (and not the browser's own Ctrl+K).
      if (isOpen.current) {
        if (event.key !== '/') event.preventDefault();
        return document.querySelector<HTMLInputElement>('[data-testid="search-dialog"] input[name="q"]')?.focus();
      }
      // Another dialog has the keyboard.
      if (document.body.classList.contains('modal-open')) return;
      event.preventDefault();
      setOpen(true);
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, []);

  function openResult({ room, message }: SearchResult) {
    setOpen(false);
    navigate(roomPath(room.id));
    void jumpToMessage(chat, room.id, message.seq, { className: 'message--found', markMs: FOUND_MS });
  }

  const shortcut = isMac ? '⌘K' : 'Ctrl+K';
  return (
    <>
      <button
        type="button"
        class="btn btn-outline-secondary btn-sm d-flex align-items-center gap-1"
        title={`Search messages (${shortcut} or /)`}
        aria-label="Search messages"
        aria-keyshortcuts={isMac ? 'Meta+K /' : 'Control+K /'}
        onClick={() => setOpen(true)}
        data-testid="search-button"
      >
        <Icon name="search" />
        <span class="d-none d-sm-inline" aria-hidden="true">
          Search
        </span>
        <kbd class="d-none d-lg-inline search-shortcut" aria-hidden="true">
          {shortcut}
        </kbd>
      </button>
      {open && <SearchDialog rooms={rooms} onOpen={openResult} onClose={() => setOpen(false)} />}
    </>
  );
}
