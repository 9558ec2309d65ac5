/**
 * Message search: the query read (shared/search-words.ts), the caller's rooms read from the
 * database on every search (a removed member stops finding a room's messages at once), the
 * index asked, and the hits read back and presented as in history — so a message edited or
 * deleted since the index heard of it is shown as it is now, and a deleted one is dropped.
 */
import type { Kysely } from 'kysely';
import { dmName } from '../../shared/dm.js';
import type { User } from '../../shared/protocol.js';
import { SEARCH_LIMITS, type SearchPage } from '../../shared/search-shapes.js';
import { parseSearchQuery, SearchQueryError, searchWords, type SearchQuery } from '../../shared/search-words.js';
import type { Database } from '../db/schema.js';
import { AppError, errors } from '../http/errors.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { DmsRepository } from '../rooms/dms.repository.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import type { SearchCursor } from './search-index.js';
import type { SearchIndexer } from './search-indexer.js';
import type { SearchRepository } from './search.repository.js';

export interface SearchRequest {
  q: string;
  roomId?: string;
  before?: string;
  limit?: number;
}

const encodeCursor = (cursor: SearchCursor) => Buffer.from(JSON.stringify([cursor.createdAt, cursor.roomId, cursor.seq])).toString('base64url');

function decodeCursor(text: string): SearchCursor {
  try {
    const [createdAt, roomId, seq] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (Number.isSafeInteger(createdAt) && typeof roomId === 'string' && Number.isSafeInteger(seq)) return { createdAt: createdAt as number, roomId, seq: seq as number };
  } catch {
    // Answered below.
  }
  throw errors.validation('before must be a nextCursor from an earlier search.', 'before');
}

function readQuery(q: string): SearchQuery {
  let query: SearchQuery;
  try {
    query = parseSearchQuery(q);
  } catch (error) {
    if (error instanceof SearchQueryError) throw errors.validation(error.message, 'q');
    throw error;
  }
  if (query.prefix === undefined && !query.from && !query.hasFile && query.since === undefined && query.until === undefined) {
    throw errors.validation('Type a word to search for (letters or digits), or a filter such as from:alice or has:file.', 'q');
  }
  return query;
}

/** Whether a body holds every whole word of the query and a word starting with its prefix. */
function stillMatches(body: string, query: SearchQuery): boolean {
  const words = searchWords(body);
  const { prefix } = query;
  return query.words.every((word) => words.includes(word)) && (prefix === undefined || words.some((word) => word.startsWith(prefix)));
}

export function createSearchService(deps: {
  db: Kysely<Database>;
  repository: SearchRepository;
  /** Undefined when SEARCH_INDEX=off. */
  indexer: SearchIndexer | undefined;
  messages: Pick<MessagesService, 'loadMany'>;
  /** The caller's rooms, read on every search. */
  rooms: Pick<RoomsService, 'roomSeqs'>;
  dms: Pick<DmsRepository, 'membersOf'>;
  limiter: RateLimiter;
  searchesPerMinute: number;
}) {
  const { db, repository, indexer } = deps;

  async function roomsOf(roomIds: string[], viewerId: string): Promise<Map<string, SearchPage['results'][number]['room']>> {
    const rows = await repository.rooms(db, roomIds);
    const members = await deps.dms.membersOf(db, rows.filter((row) => row.kind === 'dm').map((row) => row.id));
    return new Map(
      rows.map((row) => {
        const kind = row.kind === 'dm' ? 'dm' : 'room';
        const name = kind === 'dm' ? dmName(members.filter((member) => member.room_id === row.id), viewerId) : row.name;
        return [row.id, { id: row.id, name, kind }];
      }),
    );
  }

  return {
    async search(user: User, request: SearchRequest): Promise<SearchPage> {
      const query = readQuery(request.q);
      const before = request.before === undefined ? undefined : decodeCursor(request.before);
      if (!indexer) throw new AppError(503, 'search_off', 'Search is turned off on this server (SEARCH_INDEX=off).');
      const state = indexer.ready();
      if (!('index' in state)) {
        const percent = state.progress.total > 0 ? Math.floor((100 * state.progress.done) / state.progress.total) : 0;
        throw new AppError(503, 'search_index_building', `The search index is being built (${percent}% done); try again in a moment.`, undefined, { 'retry-after': '5' });
      }
      // Counted once the index answers: a client waiting for the build spends nothing.
      await deps.limiter.consume(`search:${user.id}`, { limit: deps.searchesPerMinute, windowMs: 60_000 });
      const memberRooms = (await deps.rooms.roomSeqs(user.id)).map((room) => room.id);
      // A room the caller is not in is not found, whether or not it exists.
      if (request.roomId !== undefined && !memberRooms.includes(request.roomId)) throw errors.notFound('Room');
      const senderId = query.from === undefined ? undefined : await repository.userIdByUsername(db, query.from);
      if (query.from !== undefined && senderId === undefined) return { results: [] };
      const limit = request.limit ?? SEARCH_LIMITS.pageDefault;
      const hits = state.index.search({
        words: query.words,
        prefix: query.prefix,
        roomIds: request.roomId !== undefined ? [request.roomId] : memberRooms,
        senderId,
        hasFile: query.hasFile,
        since: query.since,
        until: query.until,
        before,
        limit: limit + 1,
      });
      const page = hits.slice(0, limit);
      // As they are now: an index a moment behind (another instance's edit on its way) shows no stale match.
      const messages = (await deps.messages.loadMany(page)).filter((message) => message.deletedAt === undefined && stillMatches(message.body, query));
      const rooms = await roomsOf([...new Set(messages.map((message) => message.roomId))], user.id);
      const results = messages.flatMap((message) => {
        const room = rooms.get(message.roomId);
        return room ? [{ message, room }] : [];
      });
      const last = page.at(-1);
      return hits.length > limit && last ? { results, nextCursor: encodeCursor(last) } : { results };
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
