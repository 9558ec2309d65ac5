/** HTTP surface of messages (the Messages part of api.md): send, history, catch-up. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorSchema, LIMITS, MessagePageSchema, MessageSchema } from '../../shared/protocol.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import { errors } from '../http/errors.js';
import type { MessagesService } from './messages.service.js';

const RoomParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }) });
const errorResponses = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const messagesRoutes: FastifyPluginAsyncTypebox<{ messages: MessagesService; guard: AuthGuard }> = async (
  app,
  { messages, guard },
) => {
  app.addHook('onRequest', guard.requireUser);

  app.get(
    '/rooms/:roomId/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'History (newest page, or before=seq) or catch-up (after=seq); oldest first',
        params: RoomParams,
        querystring: Type.Object({
          before: Type.Optional(Seq),
          after: Type.Optional(Seq),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.pageMax })),
        }),
        response: { 200: MessagePageSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { before, after, limit } = request.query;
      const { user } = callerOf(request);
      if (after !== undefined && before !== undefined) {
        throw errors.validation('Use either before or after, not both.', 'after');
      }
      if (after !== undefined) return messages.since(user.id, request.params.roomId, after, limit ?? LIMITS.catchUpMax);
      return messages.history(user.id, request.params.roomId, { before, limit });
    },
  );

  app.post(
    '/rooms/:roomId/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Send a message; the same clientId again returns the same message',
        params: RoomParams,
        body: Type.Object({
          body: Type.String({ maxLength: LIMITS.messageMaxCeiling }),
          clientId: Type.String({ minLength: 1, maxLength: LIMITS.clientIdMax }),
          replyTo: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The seq of the message (in this room) this one replies to.' })),
        }),
        response: { 200: Type.Object({ message: MessageSchema }), 201: Type.Object({ message: MessageSchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { message, created } = await messages.send(callerOf(request).user, request.params.roomId, request.body.body, request.body.clientId, {
        replyTo: request.body.replyTo,
      });
      return reply.status(created ? 201 : 200).send({ message });
    },
  );
};
