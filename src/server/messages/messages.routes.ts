/** HTTP surface of messages (the Messages part of api.md): send, history, catch-up. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AttachmentIdsSchema, ErrorSchema, LIMITS, MessagePageSchema, MessageSchema } from '../../shared/protocol.js';
import { callerOf, type AuthGuard } from '../auth/auth.guard.js';
import { errors } from '../http/errors.js';
import type { MessageChangesService } from './message-changes.service.js';
import type { MessagePage } from '../../shared/protocol.js';
import type { MessagesService } from './messages.service.js';

/** Adds the membership events of a page's span (rooms/room-events.service.ts). */
export type PageEvents = (roomId: string, query: { before?: number; after?: number }, page: MessagePage) => Promise<MessagePage>;

const RoomParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }) });
const errorResponses = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const messagesRoutes: FastifyPluginAsyncTypebox<{
  messages: MessagesService;
  changes: MessageChangesService;
  guard: AuthGuard;
  withEvents?: PageEvents;
}> = async (
  app,
  { messages, changes, guard, withEvents },
) => {
  app.addHook('onRequest', guard.requireUser);

  app.get(
    '/rooms/:roomId/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'History (newest page, or before=seq) or catch-up (after=seq, or changedAfter=n); oldest first',
        description:
          'Pages show each message as it is now (edited, deleted as a tombstone, with its reactions). ' +
          'Catching up on changes: every edit, delete or reaction change bumps the room\'s change counter and stamps the message with it (`changeSeq`); ' +
          '`hello` gives each room\'s `lastChange`. A client that was away asks `changedAfter=<the lastChange it last saw>` and gets the messages changed since, ' +
          'in change order, with `lastChange` (the counter when read); with `hasMore`, it continues from the last message\'s `changeSeq`.',
        params: RoomParams,
        querystring: Type.Object({
          before: Type.Optional(Seq),
          after: Type.Optional(Seq),
          changedAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Messages changed after this change number, in change order.' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.pageMax })),
          events: Type.Optional(Type.Boolean({ description: "Also answer the membership events of the page's span (`events`); off by default, so a plain page costs no extra query." })),
        }),
        response: { 200: MessagePageSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { before, after, changedAfter, limit } = request.query;
      const { user } = callerOf(request);
      if ([before, after, changedAfter].filter((value) => value !== undefined).length > 1) {
        throw errors.validation('Use one of before, after and changedAfter, not several.', after !== undefined ? 'after' : 'changedAfter');
      }
      const { roomId } = request.params;
      if (changedAfter !== undefined) return changes.changedAfter(user.id, roomId, changedAfter, limit ?? LIMITS.catchUpMax);
      // Authorized by the page's read; the events come after it.
      const page = after !== undefined ? await messages.since(user.id, roomId, after, limit ?? LIMITS.catchUpMax) : await messages.history(user.id, roomId, { before, limit });
      return withEvents && request.query.events === true ? withEvents(roomId, { before, after }, page) : page;
    },
  );

  app.post(
    '/rooms/:roomId/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Send a message; the same clientId again returns the same message',
        description:
          'The body may be empty only when `attachments` names files. Each attachment must be a file you uploaded to this room that no message carries yet; ' +
          'it is attached in the same transaction as the message is stored, so of two sends naming one file only one succeeds (the other: 400 invalid_attachment, nothing stored).',
        params: RoomParams,
        body: Type.Object({
          body: Type.String({ maxLength: LIMITS.messageMaxCeiling, description: 'The text; "" is allowed with attachments.' }),
          clientId: Type.String({ minLength: 1, maxLength: LIMITS.clientIdMax }),
          replyTo: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The seq of the message (in this room) this one replies to.' })),
          attachments: Type.Optional(AttachmentIdsSchema),
        }),
        response: { 200: Type.Object({ message: MessageSchema }), 201: Type.Object({ message: MessageSchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { message, created } = await messages.send(callerOf(request).user, request.params.roomId, request.body.body, request.body.clientId, {
        replyTo: request.body.replyTo,
        attachments: request.body.attachments,
      });
      return reply.status(created ? 201 : 200).send({ message });
    },
  );
};
