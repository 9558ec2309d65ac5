/** HTTP surface of managing a room: add a member by username, the ban list, hand over, delete. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BanSchema, ErrorSchema, LIMITS, MemberSchema } from '../../shared/protocol.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import type { RoomManagementService } from './room-management.service.js';

const RoomParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }) });
const errorResponses = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };

export const roomManagementRoutes: FastifyPluginAsyncTypebox<{ management: RoomManagementService; guard: AuthGuard }> = async (
  app,
  { management, guard },
) => {
  app.addHook('onRequest', guard.requireUser);
  const userId = (request: Parameters<typeof callerOf>[0]) => callerOf(request).user.id;

  app.post(
    '/rooms/:roomId/members',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Add someone to the room by username (owner or moderator)',
        description:
          '404 when nobody has that username; 409 already_member, or 409 banned until the ban is lifted. The added user’s sockets are subscribed at once.',
        params: RoomParams,
        body: Type.Object({ username: Type.String({ minLength: 1, maxLength: LIMITS.usernameMax + 16 }) }),
        response: { 201: Type.Object({ member: MemberSchema }), ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send({ member: await management.addByUsername(userId(request), request.params.roomId, request.body.username) }),
  );

  app.get(
    '/rooms/:roomId/bans',
    {
      schema: {
        tags: ['rooms'],
        summary: "The room's bans, oldest first (owner or moderator)",
        params: RoomParams,
        response: { 200: Type.Object({ bans: Type.Array(BanSchema) }), ...errorResponses },
      },
    },
    async (request) => ({ bans: await management.listBans(userId(request), request.params.roomId) }),
  );

  app.put(
    '/rooms/:roomId/owner',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Hand the room over (owner only): the member becomes the owner, the old owner a moderator',
        description: 'An owner cannot leave while others are in the room (409 owner_must_hand_over): hand it over first, or delete the room.',
        params: RoomParams,
        body: Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await management.handOver(userId(request), request.params.roomId, request.body.userId);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/rooms/:roomId',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Delete the room (owner only): its messages, members, invites and bans are gone; members are told at once',
        params: RoomParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await management.deleteRoom(userId(request), request.params.roomId);
      return reply.status(204).send(null);
    },
  );
};
