import type { TargetedKeyboardEvent } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { Member } from '../../shared/protocol.js';
import { ApiError } from '../core/api.js';
import { memberActions, type MemberAction, type Viewer } from '../moderation.js';
import { Icon } from './Icon.js';

/** What the members panel may ask for: a confirmed removal or ban, or a role change. */
export interface MemberModeration {
  viewer: Viewer;
  /** Remove and Ban: the caller confirms in a dialog first. */
  onConfirm: (action: 'remove' | 'ban', member: Member) => void;
  /** Done at once; a refusal is shown above the list. */
  onSetRole: (member: Member, role: 'moderator' | 'member') => Promise<void>;
}

interface MemberListProps {
  members: readonly Member[] | undefined;
  online: Readonly<Record<string, boolean>>;
  /** Absent: the list only shows who is there. */
  moderation?: MemberModeration;
}

/** Members with an online dot: online first, then by name; actions for owners and moderators. */
export function MemberList({ members, online, moderation }: MemberListProps) {
  const [roleError, setRoleError] = useState<string | null>(null);
  const [busyUserId, setBusyUserId] = useState<string | null>(null);

  if (!members) {
    return (
      <p class="text-body-secondary small px-3" role="status">
        Loading members…
      </p>
    );
  }
  const isOnline = (member: Member) => online[member.user.id] ?? member.online;
  const sorted = [...members].sort(
    (a, b) => Number(isOnline(b)) - Number(isOnline(a)) || a.user.username.localeCompare(b.user.username),
  );

  async function choose(action: MemberAction, member: Member) {
    if (!moderation) return;
    setRoleError(null);
    if (action === 'remove' || action === 'ban') {
      moderation.onConfirm(action, member);
      return;
    }
    setBusyUserId(member.user.id);
    try {
      await moderation.onSetRole(member, action === 'makeModerator' ? 'moderator' : 'member');
    } catch (error) {
      setRoleError(
        error instanceof ApiError ? error.message : `Could not change ${member.user.username}'s role. Try again.`,
      );
    } finally {
      setBusyUserId(null);
    }
  }

  return (
    <>
      {roleError && (
        <div class="alert alert-danger alert-dismissible small mx-2 py-2" role="alert" data-testid="member-error">
          {roleError}
          <button type="button" class="btn-close py-2" aria-label="Dismiss" onClick={() => setRoleError(null)} />
        </div>
      )}
      <ul class="list-unstyled mb-0 px-3 member-list">
        {sorted.map((member) => {
          const present = isOnline(member);
          const actions = moderation ? memberActions(moderation.viewer, member) : [];
          return (
            <li
              key={member.user.id}
              class="d-flex align-items-center gap-2 py-1"
              data-testid="member"
              data-user-id={member.user.id}
              data-online={String(present)}
            >
              <span class={`status-dot ${present ? 'text-success' : 'text-body-tertiary'}`} aria-hidden="true" />
              <span class="text-truncate">{member.user.username}</span>
              <span class="visually-hidden">{present ? '(online)' : '(offline)'}</span>
              {member.role !== 'member' && <span class="badge text-bg-secondary ms-auto">{member.role}</span>}
              {actions.length > 0 && (
                <MemberActionsMenu
                  member={member}
                  actions={actions}
                  busy={busyUserId === member.user.id}
                  onChoose={(action) => void choose(action, member)}
                />
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}

const ACTION_LABELS: Record<MemberAction, string> = {
  makeModerator: 'Make moderator',
  makeMember: 'Make member',
  remove: 'Remove',
  ban: 'Ban',
};

const ACTION_TEST_IDS: Record<MemberAction, string> = {
  makeModerator: 'member-role',
  makeMember: 'member-role',
  remove: 'member-remove',
  ban: 'member-ban',
};

interface MemberActionsMenuProps {
  member: Member;
  actions: readonly MemberAction[];
  busy: boolean;
  onChoose: (action: MemberAction) => void;
}

/**
 * A menu button (Bootstrap dropdown markup, no Bootstrap JS): Enter, Space or the arrow
 * keys open it on an item, arrows and Home/End move, Escape closes it back onto the
 * button, Tab or a click elsewhere closes it.
 */
function MemberActionsMenu({ member, actions, busy, onChoose }: MemberActionsMenuProps) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const focusOnOpen = useRef<'first' | 'last'>('first');
  const menuId = useId();
  const name = member.user.username;

  useEffect(() => {
    if (!open) return;
    const items = menuItems();
    (focusOnOpen.current === 'last' ? items.at(-1) : items[0])?.focus();
    menu.current?.scrollIntoView?.({ block: 'nearest' });
    const closeOutside = (event: Event) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', closeOutside);
    return () => document.removeEventListener('pointerdown', closeOutside);
  }, [open]);

  function menuItems(): HTMLElement[] {
    return [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
  }

  function show(at: 'first' | 'last') {
    focusOnOpen.current = at;
    setOpen(true);
  }

  function onToggleKeyDown(event: TargetedKeyboardEvent<HTMLButtonElement>) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      show(event.key === 'ArrowUp' ? 'last' : 'first');
    }
  }

  function onMenuKeyDown(event: TargetedKeyboardEvent<HTMLUListElement>) {
    const items = menuItems();
    const index = items.indexOf(document.activeElement as HTMLElement);
    let next: HTMLElement | undefined;
    switch (event.key) {
      case 'ArrowDown':
        next = items[(index + 1) % items.length];
        break;
      case 'ArrowUp':
        next = items[(index - 1 + items.length) % items.length];
        break;
      case 'Home':
        next = items[0];
        break;
      case 'End':
        next = items.at(-1);
        break;
      case 'Escape':
        // Only the menu closes, not the overlay panel around it.
        event.stopPropagation();
        event.preventDefault();
        setOpen(false);
        toggle.current?.focus();
        return;
      case 'Tab':
        setOpen(false);
        return;
      default:
        return;
    }
    event.preventDefault();
    next?.focus();
  }

  function choose(action: MemberAction) {
    setOpen(false);
    // Focus goes back to the button first, so a dialog opened next returns it there.
    toggle.current?.focus();
    onChoose(action);
  }

  return (
    <div ref={root} class={`dropdown flex-shrink-0 ${member.role === 'member' ? 'ms-auto' : ''}`}>
      <button
        ref={toggle}
        type="button"
        class="btn btn-sm btn-link text-body-secondary px-1 py-0 member-actions-toggle"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={`Actions for ${name}`}
        title={`Actions for ${name}`}
        disabled={busy}
        data-testid="member-actions"
        data-user-id={member.user.id}
        onClick={() => (open ? setOpen(false) : show('first'))}
        onKeyDown={onToggleKeyDown}
      >
        {busy ? <span class="spinner-border spinner-border-sm" aria-hidden="true" /> : <Icon name="moreVertical" />}
      </button>
      {open && (
        <ul
          ref={menu}
          id={menuId}
          class="dropdown-menu dropdown-menu-end show"
          data-bs-popper="static"
          role="menu"
          aria-label={`Actions for ${name}`}
          onKeyDown={onMenuKeyDown}
        >
          {actions.map((action) => (
            <li key={action} role="none">
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                class={`dropdown-item ${action === 'remove' || action === 'ban' ? 'text-danger' : ''}`}
                data-testid={ACTION_TEST_IDS[action]}
                data-user-id={member.user.id}
                onClick={() => choose(action)}
              >
                {ACTION_LABELS[action]}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
