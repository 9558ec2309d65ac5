/** One search result: where (room or DM), who, when, and the excerpt with the matched words marked. */
import type { SearchResult } from '../../shared/search-shapes.js';
import type { SearchQuery } from '../../shared/search-words.js';
import { formatFullTime, formatMessageTime } from '../format.js';
import { excerptParts } from '../search-view.js';
import { Icon } from './Icon.js';
import { VisibleText } from './VisibleText.js';

interface SearchResultItemProps {
  id: string;
  result: SearchResult;
  query: Pick<SearchQuery, 'words' | 'prefix'> | null;
  active: boolean;
  onOpen: () => void;
  onHover: () => void;
}

export function SearchResultItem({ id, result, query, active, onOpen, onHover }: SearchResultItemProps) {
  const { message, room } = result;
  const attachments = message.attachments?.length ?? 0;
  return (
    <li
      id={id}
      role="option"
      aria-selected={active}
      class={`list-group-item list-group-item-action search-result${active ? ' active-result' : ''}`}
      data-testid="search-result"
      data-room-id={room.id}
      data-seq={message.seq}
      onClick={onOpen}
      onMouseMove={onHover}
    >
      <div class="d-flex align-items-baseline gap-2 small">
        <span class="fw-semibold text-truncate search-result-room" data-testid="search-result-room">
          <Icon name={room.kind === 'dm' ? 'user' : 'hash'} />
          <VisibleText text={room.name} />
        </span>
        <span class="text-body-secondary text-truncate" data-testid="search-result-sender">
          {message.sender.username}
        </span>
        <time class="text-body-secondary ms-auto text-nowrap" dateTime={message.createdAt} title={formatFullTime(message.createdAt)}>
          {formatMessageTime(message.createdAt)}
        </time>
      </div>
      <div class="search-result-body" data-testid="search-result-body">
        {excerptParts(message.body, query).map((part, index) =>
          part.match ? (
            <mark key={index}>
              <VisibleText text={part.text} />
            </mark>
          ) : (
            <VisibleText key={index} text={part.text} />
          ),
        )}
        {attachments > 0 && (
          <span class="text-body-secondary small ms-1">
            <Icon name="paperclip" /> {attachments}
          </span>
        )}
      </div>
    </li>
  );
}
