/**
 * One message in the timeline. The first of a sender's group shows an avatar, the name
 * and the time; a continuation shows only its body, with the time on hover. Slots for
 * what other features add: `actions` (a toolbar shown on hover/focus), `beforeBody`
 * (e.g. a reply's quote), `renderText` (plain runs: mentions) and `children` (below the
 * body: reactions).
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Message } from '../../shared/protocol.js';
import { attachmentsOf } from '../attachments.js';
import { formatFullTime, formatMessageTime, formatTimeOfDay } from '../format.js';
import type { PendingMessage } from '../core/timeline.js';
import { memo } from '../memo.js';
import { Attachments } from './Attachments.js';
import { Avatar } from './Avatar.js';
import { EditedMarker } from './EditedMarker.js';
import { MessageActions } from './MessageActions.js';
import { MessageEditor } from './MessageEditor.js';
import { MessageText, type RenderText } from './MessageText.js';
import { Reactions } from './Reactions.js';
import { useMessageContext } from './message-context.js';
import { ReplyButton, ReplyQuote } from './ReplyQuote.js';

export interface MessageItemProps {
  message: Message;
  own: boolean;
  /** Continues the previous message's group: no avatar, name or time shown. */
  continued: boolean;
  actions?: ComponentChildren;
  beforeBody?: ComponentChildren;
  renderText?: RenderText;
  children?: ComponentChildren;
}

/** The render itself; exported for the render-count test (MessageItem is its memoised form). */
export function MessageItemView({ message, own, continued, actions, beforeBody, renderText, children }: MessageItemProps) {
  const [editing, setEditing] = useState(false);
  const edited = <EditedMarker message={message} />;
  const mentionsMe = message.mentions.includes(useMessageContext()?.selfId ?? '');
  return (
    <li
      class={`message${own ? ' message-own' : ''}${continued ? ' message-continued' : ''}${mentionsMe ? ' message-mentions-me' : ''}`}
      data-testid="message"
      data-seq={message.seq}
      data-room-id={message.roomId}
      data-sender={message.sender.username}
      data-continued={continued ? 'true' : undefined}
    >
      <div class="message-gutter">
        {continued ? (
          <time class="message-hover-time small text-body-secondary" dateTime={message.createdAt} title={formatFullTime(message.createdAt)}>
            {formatTimeOfDay(message.createdAt)}
          </time>
        ) : (
          <Avatar user={message.sender} />
        )}
      </div>
      <div class="message-content">
        {continued ? (
          <span class="visually-hidden">{message.sender.username}: </span>
        ) : (
          <div class="message-meta small">
            <span class="message-sender fw-semibold" data-testid="message-sender">
              {message.sender.username}
            </span>
            {own && <span class="visually-hidden"> (you)</span>}
            <time class="text-body-secondary ms-2" dateTime={message.createdAt} title={formatFullTime(message.createdAt)}>
              {formatMessageTime(message.createdAt)}
            </time>
            {edited}
          </div>
        )}
        <MessageActions message={message} onEdit={() => setEditing(true)}>
          <ReplyButton message={message} />
        </MessageActions>
        {actions && <div class="message-actions">{actions}</div>}
        <ReplyQuote message={message} />
        {beforeBody}
        <div class="message-body" data-testid="message-body">
          {message.deletedAt ? (
            <span class="message-deleted text-body-secondary" data-testid="message-deleted">This message was deleted.</span>
          ) : editing ? (
            <MessageEditor message={message} onDone={() => setEditing(false)} />
          ) : (
            <MessageText text={message.body} renderText={renderText} />
          )}
        </div>
        {!message.deletedAt && <Attachments files={attachmentsOf(message)} />}
        {continued && edited}
        <Reactions message={message} />
        {children}
      </div>
    </li>
  );
}

/** Memoised: a new message, or a typing frame, re-renders no other message. */
export const MessageItem = memo(MessageItemView);

interface PendingItemProps {
  pending: PendingMessage;
  sender: { id: string; username: string };
  onRetry: (clientId: string) => void;
  onDiscard: (clientId: string) => void;
}

/** An own message the server has not confirmed: sending, or not sent with a retry. */
export function PendingItem({ pending, sender, onRetry, onDiscard }: PendingItemProps) {
  const failed = pending.status === 'failed';
  return (
    <li
      class={`message message-own message-pending${failed ? ' message-failed' : ''}`}
      data-testid="pending-message"
      data-client-id={pending.clientId}
      data-status={pending.status}
    >
      <div class="message-gutter">
        <Avatar user={sender} />
      </div>
      <div class="message-content">
        <div class="message-meta small">
          <span class="message-sender fw-semibold">{sender.username}</span>
          <span class="text-body-secondary ms-2">{failed ? 'Not sent' : 'Sending…'}</span>
        </div>
        {/* The same rendering as a sent message: bidi controls shown, links isolated. */}
        <div class="message-body">
          <MessageText text={pending.body} />
        </div>
        {pending.attachments && <Attachments files={pending.attachments} />}
        {failed && (
          <div class="small text-danger-emphasis d-flex flex-wrap align-items-center gap-2 mt-1" role="alert">
            <span>{pending.error}</span>
            <button type="button" class="btn btn-outline-danger btn-sm py-0" onClick={() => onRetry(pending.clientId)}>
              Retry
            </button>
            <button type="button" class="btn btn-link btn-sm py-0" onClick={() => onDiscard(pending.clientId)}>
              Discard
            </button>
          </div>
        )}
      </div>
    </li>
  );
}
