/**
 * The composer's @ autocomplete: the room's members whose names start with what follows the
 * `@` at the caret. Arrows move, Enter or Tab picks, Escape closes; an ARIA listbox tied to
 * the textarea (aria-activedescendant), so a screen reader follows the choice.
 */
import type { TargetedKeyboardEvent } from 'preact';
import { useState } from 'preact/hooks';
import { mentionAtCaret } from '../../shared/mentions.js';
import type { Member } from '../../shared/protocol.js';

const MAX_SUGGESTIONS = 8;

export interface MentionAutocomplete {
  /** Props for the textarea (ARIA). */
  inputProps: Record<string, string | undefined>;
  /** Handles a key; true when it was the autocomplete's (the composer then does nothing else). */
  onKeyDown(event: TargetedKeyboardEvent<HTMLTextAreaElement>): boolean;
  /** The caret moved or the text changed. */
  update(text: string, caret: number): void;
  list: preact.JSX.Element | null;
}

export function useMentionAutocomplete(
  id: string,
  members: readonly Member[] | undefined,
  selfId: string,
  apply: (text: string, caret: number) => void,
): MentionAutocomplete {
  const [state, setState] = useState<{ text: string; start: number; caret: number; query: string } | null>(null);
  const [active, setActive] = useState(0);
  const [closedAt, setClosedAt] = useState<number | null>(null);

  const options = state && closedAt !== state.start
    ? (members ?? [])
        .filter((m) => m.user.id !== selfId && m.user.username.toLowerCase().startsWith(state.query.toLowerCase()))
        .slice(0, MAX_SUGGESTIONS)
    : [];
  const open = options.length > 0;
  const listId = `${id}-mentions`;
  const optionId = (i: number) => `${listId}-${i}`;

  function pick(member: Member) {
    if (!state) return;
    const before = state.text.slice(0, state.start);
    const after = state.text.slice(state.caret);
    const inserted = `@${member.user.username} `;
    setState(null);
    apply(before + inserted + after, before.length + inserted.length);
  }

  return {
    inputProps: {
      role: 'combobox',
      'aria-autocomplete': 'list',
      'aria-expanded': open ? 'true' : 'false',
      'aria-controls': open ? listId : undefined,
      'aria-activedescendant': open ? optionId(Math.min(active, options.length - 1)) : undefined,
    },
    update(text, caret) {
      const at = mentionAtCaret(text, caret);
      setState(at ? { text, caret, ...at } : null);
      if (!at || at.start !== state?.start) setClosedAt(null);
      setActive(0);
    },
    onKeyDown(event) {
      if (!open) return false;
      const current = Math.min(active, options.length - 1);
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setActive((current + step + options.length) % options.length);
      } else if ((event.key === 'Enter' && !event.shiftKey) || event.key === 'Tab') {
        pick(options[current]!);
      } else if (event.key === 'Escape') {
        setClosedAt(state!.start);
      } else {
        return false;
      }
      event.preventDefault();
      return true;
    },
    list: open ? (
      <ul id={listId} role="listbox" class="mention-suggestions list-group shadow-sm" aria-label="Members to mention" data-testid="mention-suggestions">
        {options.map((member, i) => (
          <li
            id={optionId(i)}
            key={member.user.id}
            role="option"
            aria-selected={i === Math.min(active, options.length - 1)}
            class={`list-group-item list-group-item-action py-1${i === Math.min(active, options.length - 1) ? ' active' : ''}`}
            // mousedown, so the textarea keeps its focus.
            onMouseDown={(event) => {
              event.preventDefault();
              pick(member);
            }}
          >
            @{member.user.username}
          </li>
        ))}
      </ul>
    ) : null,
  };
}
