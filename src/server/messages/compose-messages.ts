/**
 * The messages feature's part of the composition root (compose.ts calls it once): the
 * store and its group commit, the repositories, the body cache, replies, mentions and
 * attachments, and the two services built on them.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { DatabaseHandle } from '../db/database.js';
import { createAttachmentsRepository } from '../files/attachments.repository.js';
import { createAttachments } from '../files/attachments.service.js';
import type { Metrics } from '../http/metrics.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { createMentionsRepository } from './mentions.repository.js';
import { createMessageBodies } from './message-bodies.js';
import { createMessageChangesRepository } from './message-changes.repository.js';
import { createMessageChangesService } from './message-changes.service.js';
import { createMessageStore } from './message-store.js';
import { createMessageWriter } from './message-writer.js';
import { createMessagesRepository } from './messages.repository.js';
import { createMessagesService } from './messages.service.js';
import { createReactionsRepository } from './reactions.repository.js';
import { createReplies } from './replies.js';

interface MessagesDeps {
  config: Config;
  database: DatabaseHandle;
  keyring: Keyring;
  clock: Clock;
  bus: Bus;
  rooms: RoomsService;
  /** This process's budgets (a round trip per message would cost more than it guards). */
  limiter: RateLimiter;
  metrics: Metrics;
  /** After a message's delete released its files: their bytes can be purged. */
  onFilesReleased: () => void;
}

/** Messages, their changes, and the store to close (after the gateway) at shutdown. */
export function composeMessages(deps: MessagesDeps) {
  const { config, database, keyring, clock, bus, rooms, limiter, metrics } = deps;
  const { db } = database;
  const messageStore = createMessageStore(database);
  const messagesRepository = createMessagesRepository();
  const reactions = createReactionsRepository();
  const bodies = createMessageBodies(keyring, { maxBytes: config.messageCacheMb * 1024 * 1024, metrics });
  const replies = createReplies({ db, bodies });
  const mentions = createMentionsRepository();
  const attachments = createAttachments({ repository: createAttachmentsRepository(), keyring });
  const messages = createMessagesService({
    db,
    messages: messagesRepository,
    writer: createMessageWriter(messageStore),
    rooms,
    bodies,
    reactions,
    replies,
    mentions,
    attachments,
    clock,
    bus,
    maxLength: config.messageMaxLength,
    limiter,
    sendsPerMinute: config.rateLimits.messagesPerMinute,
    metrics,
  });
  const messageChanges = createMessageChangesService({
    db,
    changes: createMessageChangesRepository(),
    messages: messagesRepository,
    reactions,
    replies,
    mentions,
    attachments,
    onFilesReleased: deps.onFilesReleased,
    rooms,
    bodies,
    clock,
    bus,
    maxLength: config.messageMaxLength,
    limiter,
    // Edits, deletes and reactions share one budget per user, the size of the send budget.
    changesPerMinute: config.rateLimits.messagesPerMinute,
  });
  return { messages, messageChanges, messageStore };
}
