/** HTTP surface of a member's room settings: the notification level (api.md, replies and mentions). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorSchema, NotificationLevelSchema } from '../../shared/protocol.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import type { RoomActivityService } from './room-activity.service.js';

const RoomParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }) });

export const roomActivityRoutes: FastifyPluginAsyncTypebox<{ activity: RoomActivityService; guard: AuthGuard }> = async (app, { activity, guard }) => {
  app.addHook('onRequest', guard.requireUser);

  app.put(
    '/rooms/:roomId/notifications',
    {
      schema: {
        tags: ['rooms'],
        summary: "Set which of the room's messages notify you (members only); your other devices hear of it",
        params: RoomParams,
        body: Type.Object({ level: NotificationLevelSchema }),
        response: { 204: Type.Null(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      await activity.setLevel(callerOf(request).user.id, request.params.roomId, request.body.level);
      return reply.status(204).send(null);
    },
  );
};
