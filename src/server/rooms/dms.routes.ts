/** HTTP surface of direct messages (the Direct messages part of api.md). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorSchema, LIMITS, RoomSchema } from '../../shared/protocol.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import type { DmsService } from './dms.service.js';

const RoomEnvelope = Type.Object({ room: RoomSchema });

export const dmsRoutes: FastifyPluginAsyncTypebox<{ dms: DmsService; guard: AuthGuard }> = async (app, { dms, guard }) => {
  app.addHook('onRequest', guard.requireUser);

  app.post(
    '/dms',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Open the direct message of you and userIds: 201 a new one, 200 the existing one for exactly that set of people',
        description:
          `userIds: 1 to ${LIMITS.dmOthersMax} other people, each once, not yourself (400 validation_failed otherwise). ` +
          'The room has kind "dm": private, named by its other members, no invites or moderators. ' +
          'Its members hear of a new DM over the socket (`dm {room}`). Opening it again brings back anyone of the set who left it. ' +
          'Rate-limited per caller (RATE_LIMIT_DMS_PER_MINUTE).',
        body: Type.Object({
          // Bounded loosely here, so the service can say what exactly is wrong with the list.
          userIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 }),
        }),
        response: { 200: RoomEnvelope, 201: RoomEnvelope, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { room, created } = await dms.open(callerOf(request).user.id, request.body.userIds);
      return reply.status(created ? 201 : 200).send({ room });
    },
  );
};
