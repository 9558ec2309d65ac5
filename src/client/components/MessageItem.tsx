import type { Message } from '../../shared/protocol.js';
import { formatFullTime, formatMessageTime } from '../format.js';
import type { PendingMessage } from '../core/timeline.js';
import { MessageText } from './MessageText.js';
import { useMessageContext } from './message-context.js';
import { ReplyButton, ReplyQuote } from './ReplyQuote.js';

export function MessageItem({ message, own }: { message: Message; own: boolean }) {
  const mentionsMe = message.mentions.includes(useMessageContext()?.selfId ?? '');
  return (
    <li
      class={`message${own ? ' message-own' : ''}${mentionsMe ? ' message-mentions-me' : ''}`}
      data-testid="message"
      data-seq={message.seq}
      data-sender={message.sender.username}
    >
      <div class="message-meta small">
        <span class="message-sender fw-semibold">{message.sender.username}</span>
        {own && <span class="visually-hidden"> (you)</span>}
        <time class="text-body-secondary ms-2" dateTime={message.createdAt} title={formatFullTime(message.createdAt)}>
          {formatMessageTime(message.createdAt)}
        </time>
        {message.editedAt && (
          <span class="text-body-secondary ms-1" title={`Edited ${formatFullTime(message.editedAt)}`}>
            (edited)
          </span>
        )}
        <ReplyButton message={message} />
      </div>
      <ReplyQuote message={message} />
      <div class="message-body" data-testid="message-body">
        <MessageText text={message.body} />
      </div>
    </li>
  );
}

interface PendingItemProps {
  pending: PendingMessage;
  senderName: string;
  onRetry: (clientId: string) => void;
  onDiscard: (clientId: string) => void;
}

/** An own message the server has not confirmed: sending, or refused with a retry. */
export function PendingItem({ pending, senderName, onRetry, onDiscard }: PendingItemProps) {
  const failed = pending.status === 'failed';
  return (
    <li
      class={`message message-own message-pending${failed ? ' message-failed' : ''}`}
      data-testid="pending-message"
      data-client-id={pending.clientId}
      data-status={pending.status}
    >
      <div class="message-meta small">
        <span class="message-sender fw-semibold">{senderName}</span>
        <span class="text-body-secondary ms-2">{failed ? 'Not sent' : 'Sending…'}</span>
      </div>
      {/* The same rendering as a sent message: bidi controls shown, links isolated. */}
      <div class="message-body">
        <MessageText text={pending.body} />
      </div>
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
    </li>
  );
}
