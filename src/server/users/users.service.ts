/** Finding people by name, for starting DMs and for @mentions: signed-in callers, rate-limited. */
import type { Kysely } from 'kysely';
import { USERNAME_PATTERN } from '../../shared/names.js';
import { LIMITS, type UserRef } from '../../shared/protocol.js';
import type { Database } from '../db/schema.js';
import { errors } from '../http/errors.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { UsersRepository } from './users.repository.js';

const MINUTE_MS = 60_000;
const USERNAME_CHARS = new RegExp(USERNAME_PATTERN);

export function createUsersService(deps: { db: Kysely<Database>; users: UsersRepository; limiter: RateLimiter; searchesPerMinute: number }) {
  const { db, users, limiter, searchesPerMinute } = deps;
  return {
    /** Users whose username starts with `query` (case-insensitive), in name order, at most `limit`. */
    async search(callerId: string, query: string, limit: number = LIMITS.userSearchDefault): Promise<UserRef[]> {
      // Per caller: typing a name asks once per pause, so the budget only stops a script walking the user list.
      await limiter.consume(`user-search:${callerId}`, { limit: searchesPerMinute, windowMs: MINUTE_MS });
      const prefix = query.trim().toLowerCase();
      if (prefix.length === 0) throw errors.validation('Type at least one character of a username to search.', 'q');
      // A character no username holds matches nobody: no need to ask the database.
      if (prefix.length > LIMITS.usernameMax || !USERNAME_CHARS.test(prefix)) return [];
      return users.searchByPrefix(db, prefix, limit);
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
