import type { Member } from '../../shared/protocol.js';

interface MemberListProps {
  members: readonly Member[] | undefined;
  online: Readonly<Record<string, boolean>>;
}

/** Members with an online dot: online first, then by name. */
export function MemberList({ members, online }: MemberListProps) {
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
  return (
    <ul class="list-unstyled mb-0 px-3 member-list">
      {sorted.map((member) => {
        const present = isOnline(member);
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
          </li>
        );
      })}
    </ul>
  );
}
