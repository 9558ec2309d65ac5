import type { ChatStore, ConnectionState } from '../core/chat-store.js';
import { selectConnection } from '../core/selectors.js';
import { useStore } from '../hooks.js';

const LABELS: Record<ConnectionState, string> = {
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  polling: 'Offline, polling',
};

const TONES: Record<ConnectionState, string> = {
  connected: 'text-success',
  reconnecting: 'text-warning',
  polling: 'text-danger',
};

/** The live link's state; role=status so changes are announced. */
export function ConnectionStatus({ chat }: { chat: ChatStore }) {
  const state = useStore(chat, selectConnection);
  return (
    <span
      class="connection-status small text-nowrap"
      role="status"
      data-testid="connection-state"
      data-state={state}
      title={
        state === 'polling' ? 'The live connection is down; new messages are fetched every few seconds.' : undefined
      }
    >
      <span class={`status-dot ${TONES[state]}`} aria-hidden="true" />
      <span class="connection-label">{LABELS[state]}</span>
    </span>
  );
}
