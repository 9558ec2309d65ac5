/** The wire shapes of invites and bans (re-exported by protocol.ts, which holds the rest). */
import { Type, type Static } from 'typebox';

export const InviteSchema = Type.Object({
  /** The invite's id: what the room's invite list shows and revoking names. */
  id: Type.String(),
  code: Type.String(),
  url: Type.String(),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  maxUses: Type.Union([Type.Integer(), Type.Null()]),
});
export type Invite = Static<typeof InviteSchema>;

/** A live invite as the room's list shows it (the code is never shown again: only its hash is stored). */
export const RoomInviteSchema = Type.Object({
  id: Type.String(),
  createdBy: Type.Object({ id: Type.String(), username: Type.String() }),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  maxUses: Type.Union([Type.Integer(), Type.Null()]),
  uses: Type.Integer(),
});
export type RoomInvite = Static<typeof RoomInviteSchema>;


/** What an invite link shows before it is accepted: the room and who invited (no code, no members). */
export const InvitePreviewSchema = Type.Object({
  room: Type.Object({ id: Type.String(), name: Type.String(), isPrivate: Type.Boolean(), memberCount: Type.Integer() }),
  invitedBy: Type.Object({ username: Type.String() }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type InvitePreview = Static<typeof InvitePreviewSchema>;

/** A ban as the room's ban list shows it (owner and moderators). */
export const BanSchema = Type.Object({
  user: Type.Object({ id: Type.String(), username: Type.String() }),
  bannedBy: Type.Union([Type.Object({ id: Type.String(), username: Type.String() }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type Ban = Static<typeof BanSchema>;
