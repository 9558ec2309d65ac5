/**
 * The message box: Enter sends, Shift+Enter breaks the line, a counter near the limit, the
 * room's draft kept. Files come by the paperclip, a drop on the room or a paste; they upload
 * at once into the tray above the box, and Send waits until all of them are stored.
 */
import type { RefObject, TargetedClipboardEvent, TargetedEvent, TargetedKeyboardEvent } from 'preact';
import { useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { FileInfo } from '../../shared/file-shapes.js';
import { excerptOf } from '../../shared/mentions.js';
import type { Member, Message } from '../../shared/protocol.js';
import { sendState } from '../core/upload-tray.js';
import { useSession } from '../session.js';
import { Icon } from './Icon.js';
import { useMentionAutocomplete } from './MentionSuggestions.js';
import { UploadTray } from './UploadTray.js';
import { useFileDrop } from './use-file-drop.js';
import { useUploads } from './use-uploads.js';

interface ComposerProps {
  roomId: string;
  roomName: string;
  /** The room's saved draft, shown when the composer mounts (it is keyed by room). */
  draft?: string;
  /** Called with the text after each change, and with '' once it is sent. */
  onDraft?: (text: string) => void;
  /** The text (may be '' when files go) and the stored files that go with it. */
  onSend: (body: string, files: FileInfo[]) => void;
  /** Where dropped files are taken (the open room). */
  dropZone?: RefObject<HTMLElement | null>;
  onTyping: () => void;
  /** The message being replied to, shown above the box until sent or cancelled. */
  replyTo?: Message | null;
  onCancelReply?: () => void;
  /** The room's members, for @ autocomplete. */
  members?: readonly Member[];
}

/** The counter appears once this few characters are left. */
const COUNTER_FROM_REMAINING = 500;
const MAX_ROWS = 8;

export function Composer({ roomId, roomName, draft = '', onDraft, onSend, onTyping, replyTo, onCancelReply, members, dropZone }: ComposerProps) {
  const [text, setText] = useState(draft);
  const id = useId();
  const session = useSession();
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const uploads = useUploads(roomId);
  useFileDrop(dropZone, uploads.add);
  // Where the caret goes once a picked mention is rendered (before the next key arrives).
  const caretAfterRender = useRef<number | null>(null);
  const mentions = useMentionAutocomplete(id, members, session.status === 'signed-in' ? session.user.id : '', (next, caret) => {
    caretAfterRender.current = caret;
    setText(next);
  });
  useLayoutEffect(() => {
    if (caretAfterRender.current === null) return;
    input.current?.setSelectionRange(caretAfterRender.current, caretAfterRender.current);
    caretAfterRender.current = null;
  }, [text]);
  // The server's limit, told with the session (MESSAGE_MAX_LENGTH); the composer is shown only when signed in.
  const maxLength = session.status === 'signed-in' ? session.limits.messageMaxLength : 0;
  const body = text.trim();
  // UTF-16 length, as the server's limit is counted; never more lenient than the server.
  const remaining = maxLength - body.length;
  const tooLong = remaining < 0;
  const tray = sendState(uploads.items, body.length, tooLong);
  const canSend = tray.canSend;

  function submit() {
    if (!canSend) return;
    onSend(body, tray.files);
    uploads.clear();
    setText('');
    onDraft?.('');
  }

  // Files on the clipboard (a screenshot, an image copied from a page) are attached; text pastes as usual.
  function onPaste(event: TargetedClipboardEvent<HTMLTextAreaElement>) {
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    uploads.add(files);
  }

  function onKeyDown(event: TargetedKeyboardEvent<HTMLTextAreaElement>) {
    if (mentions.onKeyDown(event)) return;
    if (event.key === 'Escape' && replyTo) onCancelReply?.();
    // isComposing: Enter that confirms an IME candidate must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  function onInput(event: TargetedEvent<HTMLTextAreaElement>) {
    setText(event.currentTarget.value);
    onDraft?.(event.currentTarget.value);
    mentions.update(event.currentTarget.value, event.currentTarget.selectionStart ?? event.currentTarget.value.length);
    if (event.currentTarget.value.trim()) onTyping();
  }

  const rows = Math.min(MAX_ROWS, text.split('\n').length);
  return (
    <form
      class="composer border-top px-3 py-2"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <label class="visually-hidden" for={id}>
        Message #{roomName}
      </label>
      {replyTo && (
        <div class="composer-reply small d-flex align-items-center gap-2 mb-1" data-testid="composer-reply">
          <span class="text-truncate">
            Replying to <span class="fw-semibold">@{replyTo.sender.username}</span> — <span class="text-body-secondary">{excerptOf(replyTo.body)}</span>
          </span>
          <button type="button" class="btn-close btn-sm ms-auto" aria-label="Cancel the reply" onClick={onCancelReply} />
        </div>
      )}
      <UploadTray uploads={uploads} />
      {mentions.list}
      <div class="d-flex gap-2 align-items-end">
        <input
          ref={picker}
          type="file"
          multiple
          class="d-none"
          data-testid="attach-input"
          tabIndex={-1}
          onChange={(event) => {
            uploads.add([...(event.currentTarget.files ?? [])]);
            // The same file can be picked again (after removing it).
            event.currentTarget.value = '';
          }}
        />
        <button type="button" class="btn btn-outline-secondary" data-testid="attach" title="Attach files" onClick={() => picker.current?.click()}>
          <Icon name="paperclip" />
          <span class="visually-hidden">Attach files</span>
        </button>
        <textarea
          ref={input}
          {...mentions.inputProps}
          id={id}
          name="body"
          data-testid="composer"
          class={`form-control${tooLong ? ' is-invalid' : ''}`}
          rows={rows}
          placeholder={`Message #${roomName}`}
          value={text}
          onInput={onInput}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          aria-invalid={tooLong ? 'true' : undefined}
          aria-describedby={`${id}-hint${tooLong ? ` ${id}-error` : ''}`}
        />
        <button type="submit" class="btn btn-primary" data-testid="send" disabled={!canSend} title="Send">
          <Icon name="send" />
          <span class="visually-hidden">Send</span>
        </button>
      </div>
      <div class="d-flex justify-content-between gap-2 small text-body-secondary mt-1">
        {/* Why Send waits stays visible on a phone, where the keyboard hint is hidden. */}
        <span id={`${id}-hint`} class={tray.reason ? '' : 'composer-hint'} data-testid="composer-hint">
          {tray.reason ?? 'Enter to send, Shift+Enter for a new line'}
        </span>
        {remaining <= COUNTER_FROM_REMAINING && (
          <span class={tooLong ? 'text-danger' : ''} data-testid="composer-counter">
            {body.length.toLocaleString()} / {maxLength.toLocaleString()}
          </span>
        )}
      </div>
      {tooLong && (
        <div id={`${id}-error`} class="small text-danger">
          Messages can be at most {maxLength.toLocaleString()} characters; this one is{' '}
          {(-remaining).toLocaleString()} over.
        </div>
      )}
    </form>
  );
}
