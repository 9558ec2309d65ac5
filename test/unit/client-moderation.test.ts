/** The members panel offers only what the server's moderation rules allow (rooms.policy.ts). */
import { describe, expect, it } from 'vitest';
import type { Member, Role } from '../../src/shared/protocol.js';
import { memberActions, viewerRole } from '../../src/client/moderation.js';

const member = (id: string, role: Role): Member => ({
  user: { id, username: id, createdAt: '2026-01-01T00:00:00.000Z' },
  role,
  online: true,
});

const owner = member('owner', 'owner');
const mod = member('mod', 'moderator');
const otherMod = member('mod2', 'moderator');
const plain = member('plain', 'member');
const otherPlain = member('plain2', 'member');

describe('memberActions', () => {
  it('lets the owner change roles, remove and ban anyone but themselves', () => {
    const viewer = { id: 'owner', role: 'owner' as const };
    expect(memberActions(viewer, plain)).toEqual(['makeModerator', 'remove', 'ban']);
    expect(memberActions(viewer, mod)).toEqual(['makeMember', 'remove', 'ban']);
    expect(memberActions(viewer, owner)).toEqual([]);
  });

  it('lets a moderator remove and ban plain members only', () => {
    const viewer = { id: 'mod', role: 'moderator' as const };
    expect(memberActions(viewer, plain)).toEqual(['remove', 'ban']);
    expect(memberActions(viewer, otherMod)).toEqual([]);
    expect(memberActions(viewer, mod)).toEqual([]);
    expect(memberActions(viewer, owner)).toEqual([]);
  });

  it('offers plain members and non-members nothing', () => {
    for (const role of ['member', null] as const) {
      const viewer = { id: 'plain', role };
      for (const target of [owner, mod, plain, otherPlain]) expect(memberActions(viewer, target)).toEqual([]);
    }
  });
});

describe('viewerRole', () => {
  it("prefers the member list's role (refreshed on role frames) over the room's", () => {
    expect(viewerRole('mod', [owner, mod, plain], 'member')).toBe('moderator');
    expect(viewerRole('mod', undefined, 'member')).toBe('member');
    expect(viewerRole('gone', [owner], null)).toBeNull();
  });
});
