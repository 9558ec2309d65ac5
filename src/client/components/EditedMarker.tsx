/** "(edited)" beside a message's time; a click shows its earlier versions (GET …/edits). */
import { useState } from 'preact/hooks';
import type { Message, MessageEdit } from '../../shared/protocol.js';
import { ApiError } from '../core/api.js';
import { formatFullTime } from '../format.js';
import { Dialog } from './Dialog.js';
import { useMessageActions } from './message-actions-context.js';
import { MessageText } from './MessageText.js';

export function EditedMarker({ message }: { message: Message }) {
  const env = useMessageActions();
  const [versions, setVersions] = useState<MessageEdit[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  if (!message.editedAt || message.deletedAt) return null;

  async function show() {
    setOpen(true);
    if (!env) return;
    try {
      setVersions(await env.changes.edits(env.roomId, message.seq));
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'Could not load the earlier versions.');
    }
  }

  return (
    <>
      <button
        type="button"
        class="btn btn-link btn-sm p-0 ms-1 align-baseline text-body-secondary message-edited"
        title={`Edited ${formatFullTime(message.editedAt)}: show earlier versions`}
        data-testid="message-edited"
        onClick={() => void show()}
      >
        (edited)
      </button>
      {open && (
        <Dialog title="Earlier versions" onClose={() => setOpen(false)}>
          <div class="modal-body" data-testid="message-edits">
            {error && <p class="text-danger-emphasis">{error}</p>}
            {!error && versions === null && <p class="text-body-secondary">Loading…</p>}
            {versions?.length === 0 && <p class="text-body-secondary mb-0">No earlier version is kept.</p>}
            <ol class="list-unstyled mb-0">
              {versions?.map((version) => (
                <li key={version.editedAt} class="mb-2">
                  <div class="small text-body-secondary">Replaced {formatFullTime(version.editedAt)}</div>
                  <div class="message-body">
                    <MessageText text={version.body} />
                  </div>
                </li>
              ))}
            </ol>
          </div>
          <div class="modal-footer">
            <button type="button" class="btn btn-outline-secondary" onClick={() => setOpen(false)} data-autofocus>
              Close
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}
