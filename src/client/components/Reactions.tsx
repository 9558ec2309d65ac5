/** The reactions row under a message: emoji + count chips, pressed when I reacted; a click toggles. */
import type { Message } from '../../shared/protocol.js';
import { useMessageActions } from './message-actions-context.js';

export function Reactions({ message }: { message: Message }) {
  const env = useMessageActions();
  if (!env || message.deletedAt || message.reactions.length === 0) return null;
  return (
    <div class="reactions d-flex flex-wrap gap-1 mt-1" data-testid="reactions">
      {message.reactions.map(({ emoji, userIds }) => {
        const mine = userIds.includes(env.selfId);
        const names = userIds.map(env.nameOf).join(', ');
        return (
          <button
            key={emoji}
            type="button"
            class={`btn btn-sm reaction-chip ${mine ? 'btn-primary' : 'btn-outline-secondary'}`}
            aria-pressed={mine}
            title={`${names} reacted with ${emoji}`}
            aria-label={`${emoji} ${userIds.length}: ${names}`}
            data-testid="reaction"
            data-emoji={emoji}
            onClick={() => void env.changes.react(env.roomId, message.seq, emoji, !mine).catch(() => undefined)}
          >
            <span aria-hidden="true">{emoji}</span> <span data-testid="reaction-count">{userIds.length}</span>
          </button>
        );
      })}
    </div>
  );
}
