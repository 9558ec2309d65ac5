/** The room header's notification level: a small menu (all messages, mentions only, nothing). */
import { useState } from 'preact/hooks';
import type { NotificationLevel } from '../../shared/protocol.js';

const LABELS: Record<NotificationLevel, string> = { all: 'All messages', mentions: 'Mentions only', none: 'Nothing' };
const SHORT: Record<NotificationLevel, string> = { all: 'Notify: all', mentions: 'Notify: @me', none: 'Muted' };

export function NotificationMenu({ level, onChange }: { level: NotificationLevel; onChange: (level: NotificationLevel) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <div class="dropdown position-relative">
      <button
        type="button"
        class="btn btn-outline-secondary btn-sm"
        aria-haspopup="menu"
        aria-expanded={open}
        data-testid="notification-menu"
        data-level={level}
        title={`Notify me: ${LABELS[level]}`}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">{SHORT[level]}</span>
        <span class="visually-hidden">Notifications: {LABELS[level]}</span>
      </button>
      {open && (
        <ul class="dropdown-menu dropdown-menu-end show" role="menu" style={{ right: 0, left: 'auto' }}>
          {(Object.keys(LABELS) as NotificationLevel[]).map((choice) => (
            <li key={choice} role="none">
              <button
                type="button"
                role="menuitemradio"
                aria-checked={choice === level}
                class={`dropdown-item${choice === level ? ' active' : ''}`}
                data-level={choice}
                onClick={() => {
                  setOpen(false);
                  onChange(choice);
                }}
                onKeyDown={(event) => event.key === 'Escape' && setOpen(false)}
              >
                {LABELS[choice]}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
