/** The inline editor of an own message: Enter saves, Shift+Enter a new line, Escape cancels. */
import type { TargetedKeyboardEvent } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Message } from '../../shared/protocol.js';
import { ApiError } from '../core/api.js';
import { useMessageActions } from './message-actions-context.js';

export function MessageEditor({ message, onDone }: { message: Message; onDone: () => void }) {
  const env = useMessageActions();
  const [text, setText] = useState(message.body);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const field = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    field.current?.focus();
    field.current?.setSelectionRange(text.length, text.length);
  }, []);

  async function save() {
    if (!env || busy) return;
    if (text.trim() === message.body) return onDone();
    setBusy(true);
    try {
      await env.changes.edit(env.roomId, message.seq, text);
      onDone();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'Could not save the edit. Try again.');
      setBusy(false);
    }
  }

  function onKeyDown(event: TargetedKeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void save();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onDone();
    }
  }

  return (
    <div class="message-editor" data-testid="message-editor">
      <textarea
        ref={field}
        class="form-control form-control-sm"
        rows={Math.min(6, text.split('\n').length)}
        aria-label="Edit message"
        value={text}
        disabled={busy}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={onKeyDown}
      />
      <div class="small text-body-secondary mt-1">
        Enter to save, Escape to cancel
        {error && (
          <span class="text-danger-emphasis ms-2" role="alert">
            {error}
          </span>
        )}
      </div>
    </div>
  );
}
