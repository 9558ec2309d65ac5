/** HTTP surface of rooms, membership and invites (the Rooms part of api.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorSchema, InviteSchema, LIMITS, MemberSchema, RoomInviteSchema, RoomSchema } from '../../shared/protocol.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import { siteOrigin } from '../http/origin.js';
import type { InvitesService } from './invites.service.js';
import type { ModerationService } from './moderation.service.js';
import type { RoomActivityService } from './room-activity.service.js';
import type { RoomsService } from './rooms.service.js';

const RoomParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }) });
const RoomEnvelope = Type.Object({ room: RoomSchema });
const errorResponses = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 410: ErrorSchema };

export const roomsRoutes: FastifyPluginAsyncTypebox<{
  rooms: RoomsService;
  moderation: ModerationService;
  invites: InvitesService;
  guard: AuthGuard;
  publicUrl: string | undefined;
  /** Adds each room's unread and mention counts and notification level to the list. */
  activity: Pick<RoomActivityService, 'decorate'>;
}> = async (app, { rooms, moderation, invites, guard, publicUrl, activity }) => {
  app.addHook('onRequest', guard.requireUser);
  const userId = (request: Parameters<typeof callerOf>[0]) => callerOf(request).user.id;

  app.get(
    '/rooms',
    { schema: { tags: ['rooms'], summary: 'Rooms you belong to', response: { 200: Type.Array(RoomSchema), 401: ErrorSchema } } },
    async (request) => activity.decorate(userId(request), await rooms.listMine(userId(request))),
  );

  app.get(
    '/rooms/directory',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Public rooms, searchable by name',
        querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: LIMITS.roomNameMax })) }),
        response: { 200: Type.Array(RoomSchema), ...errorResponses },
      },
    },
    async (request) => rooms.directory(userId(request), request.query.q ?? ''),
  );

  app.post(
    '/rooms',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Create a room; you own it',
        body: Type.Object({
          name: Type.String({
            description: `${LIMITS.roomNameMin} to ${LIMITS.roomNameMax} characters, after trimming, without invisible or direction-control characters. A public room's name may not read or look like another public room's (409 room_name_taken); private rooms reserve no name.`,
          }),
          description: Type.Optional(Type.String({ description: `At most ${LIMITS.roomDescriptionMax} characters, after trimming.` })),
          isPrivate: Type.Optional(Type.Boolean()),
        }),
        response: { 201: RoomEnvelope, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send({ room: await rooms.create(userId(request), request.body) }),
  );

  app.post(
    '/rooms/join',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Join a public room by its name',
        body: Type.Object({ name: Type.String({ maxLength: 200 }) }),
        response: { 200: RoomEnvelope, ...errorResponses },
      },
    },
    async (request) => ({ room: await rooms.joinByName(userId(request), request.body.name) }),
  );

  app.get(
    '/rooms/:roomId',
    { schema: { tags: ['rooms'], summary: 'One room', params: RoomParams, response: { 200: RoomEnvelope, ...errorResponses } } },
    async (request) => ({ room: await rooms.get(userId(request), request.params.roomId) }),
  );

  app.post(
    '/rooms/:roomId/join',
    { schema: { tags: ['rooms'], summary: 'Join a public room', params: RoomParams, response: { 200: RoomEnvelope, ...errorResponses } } },
    async (request) => ({ room: await rooms.join(userId(request), request.params.roomId) }),
  );

  app.post(
    '/rooms/:roomId/leave',
    { schema: { tags: ['rooms'], summary: 'Leave a room', params: RoomParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await rooms.leave(userId(request), request.params.roomId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/rooms/:roomId/members',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Members with role and online status',
        params: RoomParams,
        response: { 200: Type.Array(MemberSchema), ...errorResponses },
      },
    },
    async (request) => rooms.members(userId(request), request.params.roomId),
  );

  app.post(
    '/rooms/:roomId/read',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Mark the room read up to a seq (for unread counts)',
        params: RoomParams,
        body: Type.Object({ seq: Type.Integer({ minimum: 0 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await rooms.markRead(userId(request), request.params.roomId, request.body.seq);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/rooms/:roomId/invites',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Create an invite link (owner or moderator)',
        params: RoomParams,
        body: Type.Optional(
          Type.Object({
            expiresInHours: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.inviteHoursMax, description: `Default: ${LIMITS.inviteHoursDefault} hours (${LIMITS.inviteHoursDefault / 24} days).` })),
            maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.inviteUsesMax, description: 'Default: no limit.' })),
          }),
        ),
        response: { 201: InviteSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const invite = await invites.create(userId(request), request.params.roomId, request.body ?? {}, siteOrigin(request, publicUrl));
      return reply.status(201).send(invite);
    },
  );

  app.get(
    '/rooms/:roomId/invites',
    {
      schema: {
        tags: ['rooms'],
        summary: "The room's invites that still work, with uses, expiry and creator (owner or moderator)",
        description:
          'Not listed: revoked, expired or used-up invites, and those whose creator can no longer invite to the room (demoted, removed or gone), which are refused too. Codes are not shown again.',
        params: RoomParams,
        response: { 200: Type.Object({ invites: Type.Array(RoomInviteSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ invites: await invites.list(userId(request), request.params.roomId) }),
  );

  app.delete(
    '/rooms/:roomId/invites/:inviteId',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Revoke an invite (owner or moderator): its link answers 410 invite_revoked from then on',
        params: Type.Object({
          roomId: Type.String({ minLength: 1, maxLength: 64 }),
          inviteId: Type.String({ minLength: 1, maxLength: 64 }),
        }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await invites.revoke(userId(request), request.params.roomId, request.params.inviteId);
      return reply.status(204).send(null);
    },
  );

  const MemberParams = Type.Object({
    roomId: Type.String({ minLength: 1, maxLength: 64 }),
    userId: Type.String({ minLength: 1, maxLength: 64 }),
  });

  app.post(
    '/rooms/:roomId/members/:userId/remove',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Remove a member (owner or moderator; moderators only by the owner)',
        params: MemberParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await moderation.removeMember(userId(request), request.params.roomId, request.params.userId, { ban: false });
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/rooms/:roomId/bans/:userId',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Ban a member: removed, and unable to join again by any path',
        params: MemberParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await moderation.removeMember(userId(request), request.params.roomId, request.params.userId, { ban: true });
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/rooms/:roomId/bans/:userId',
    {
      schema: { tags: ['rooms'], summary: 'Lift a ban', params: MemberParams, response: { 204: Type.Null(), ...errorResponses } },
    },
    async (request, reply) => {
      await moderation.unban(userId(request), request.params.roomId, request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/rooms/:roomId/members/:userId/role',
    {
      schema: {
        tags: ['rooms'],
        summary: "Change a member's role (owner only)",
        params: MemberParams,
        body: Type.Object({ role: Type.Union([Type.Literal('moderator'), Type.Literal('member')]) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await moderation.setRole(userId(request), request.params.roomId, request.params.userId, request.body.role);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/invites/:code/accept',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Accept an invite and join its room',
        description:
          '410 invite_expired, invite_used_up, or invite_revoked: revoked, its creator can no longer invite to the room, or the caller was removed or banned from the room after it was made (a ban: 403 banned).',
        params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: RoomEnvelope, ...errorResponses },
      },
    },
    async (request) => ({ room: await invites.accept(userId(request), request.params.code) }),
  );
};
