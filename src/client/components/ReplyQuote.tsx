/** Replies in a message: the quoted original (click: jump to it) and the Reply button. */
import type { Message } from '../../shared/protocol.js';
import { useMessageContext } from './message-context.js';
import { VisibleText } from './VisibleText.js';

export function ReplyQuote({ message }: { message: Message }) {
  const context = useMessageContext();
  const quoted = message.replyTo;
  if (!quoted) return null;
  return (
    <button
      type="button"
      class="reply-quote btn btn-link text-start text-decoration-none small p-0 ps-2 mb-1 d-block"
      data-testid="reply-quote"
      data-reply-to={quoted.seq}
      onClick={() => context?.onJump(quoted.seq)}
      title="Show the original message"
    >
      {quoted.deleted ? (
        <span class="text-body-secondary fst-italic">Original message deleted</span>
      ) : (
        <>
          <span class="fw-semibold">@{quoted.sender.username}</span>{' '}
          <span class="text-body-secondary"><VisibleText text={quoted.excerpt} /></span>
        </>
      )}
    </button>
  );
}

export function ReplyButton({ message }: { message: Message }) {
  const context = useMessageContext();
  if (!context) return null;
  return (
    <button
      type="button"
      class="reply-button btn btn-light border"
      data-testid="reply-button"
      onClick={() => context.onReply(message)}
      title={`Reply to ${message.sender.username}`}
    >
      <span aria-hidden="true">↩</span> Reply
    </button>
  );
}
