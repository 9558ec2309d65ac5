/**
 * The toolbar shown on a message's hover or focus: React (a picker of common emoji, as
 * text), Edit (own messages), Delete (own, or a moderator's or the owner's: confirmed).
 * Who may delete is the rule the server applies (shared/room-rules.ts).
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { COMMON_EMOJI } from '../../shared/emoji.js';
import type { Message } from '../../shared/protocol.js';
import { canDeleteMessage, canEditMessage } from '../../shared/room-rules.js';
import { ApiError } from '../core/api.js';
import { Dialog } from './Dialog.js';
import { useMessageActions } from './message-actions-context.js';

/** `children`: more actions (e.g. Reply) at the toolbar's start. */
export function MessageActions({ message, onEdit, children }: { message: Message; onEdit: () => void; children?: ComponentChildren }) {
  const env = useMessageActions();
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!env || message.deletedAt) return null;
  const sender = { senderId: message.sender.id };
  const mayEdit = canEditMessage(env.selfId, sender);
  const mayDelete = canDeleteMessage({ id: env.selfId, role: env.role }, sender, { roomKind: env.roomKind });

  function react(emoji: string) {
    setPicking(false);
    const mine = message.reactions.some((r) => r.emoji === emoji && r.userIds.includes(env!.selfId));
    void env!.changes.react(env!.roomId, message.seq, emoji, !mine).catch(() => undefined);
  }

  async function remove() {
    try {
      await env!.changes.remove(env!.roomId, message.seq);
      setConfirming(false);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'Could not delete the message. Try again.');
    }
  }

  return (
    <div class={`message-actions btn-group btn-group-sm shadow-sm${picking ? ' message-actions-open' : ''}`} role="toolbar" aria-label="Message actions">
      {children}
      <button type="button" class="btn btn-light border" aria-expanded={picking} data-testid="action-react" onClick={() => setPicking(!picking)}>
        React
      </button>
      {mayEdit && (
        <button type="button" class="btn btn-light border" data-testid="action-edit" onClick={onEdit}>
          Edit
        </button>
      )}
      {mayDelete && (
        <button type="button" class="btn btn-light border text-danger" data-testid="action-delete" onClick={() => setConfirming(true)}>
          Delete
        </button>
      )}
      {picking && (
        <div class="emoji-picker card shadow p-1" role="menu" aria-label="Pick a reaction" onKeyDown={(e) => e.key === 'Escape' && setPicking(false)}>
          {COMMON_EMOJI.map((emoji) => (
            <button key={emoji} type="button" role="menuitem" class="btn btn-sm btn-light" data-testid="emoji-choice" data-emoji={emoji} onClick={() => react(emoji)}>
              {emoji}
            </button>
          ))}
        </div>
      )}
      {confirming && (
        <Dialog title="Delete this message?" onClose={() => setConfirming(false)}>
          <div class="modal-body">
            {error && <p class="text-danger-emphasis">{error}</p>}
            <p class="mb-0">Everyone in the room will see “This message was deleted.” Its text and earlier versions are erased.</p>
          </div>
          <div class="modal-footer">
            <button type="button" class="btn btn-outline-secondary" onClick={() => setConfirming(false)} data-autofocus>
              Keep
            </button>
            <button type="button" class="btn btn-danger" data-testid="confirm-delete" onClick={() => void remove()}>
              Delete
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}
