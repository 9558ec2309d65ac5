/**
 * Server-side sessions. The cookie carries a random token (signed with SESSION_SECRET by
 * the cookie plugin); the database keeps only its SHA-256, so a database copy yields no
 * usable cookies. Sessions end at an absolute expiry or after an idle period.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ActiveSession, User } from '../../shared/protocol.js';
import { isoTime, type Clock } from '../clock.js';
import type { Kysely } from 'kysely';
import { batchedPerTurn } from '../db/batched-per-turn.js';
import type { Database } from '../db/schema.js';
import type { Bus } from '../platform/cluster/bus.js';
import type { SessionsRepository, SessionRow } from './sessions.repository.js';

export interface SessionPolicy {
  /** Lifetime of a "remember me" session. */
  rememberTtlMs: number;
  /** Lifetime of a browser-session (not remembered) session. */
  browserTtlMs: number;
  idleMs: number;
}

/** Who is calling: what every caller of the service reads of a session (the row stays inside). */
export interface Caller {
  user: User;
  sessionId: string;
  /** When the session ends unless it is used again (epoch ms): its absolute expiry or its idle deadline, whichever is first. */
  endsAt: number;
}

// Writing last_seen_at on every request would turn reads into writes; a minute is precise enough.
export const TOUCH_INTERVAL_MS = 60_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

type SessionTimes = Pick<SessionRow, 'expires_at' | 'last_seen_at'>;

export function createSessionsService(deps: {
  db: Kysely<Database>;
  sessions: SessionsRepository;
  clock: Clock;
  policy: SessionPolicy;
  secret: string;
  /** Ended sessions are announced so their open sockets close on every instance. */
  bus: Bus;
}) {
  const { db, sessions, clock, policy, secret, bus } = deps;
  // Every request asks this; the requests read in one turn ask together (one query).
  const findByTokenHash = batchedPerTurn(async (hashes: string[]) =>
    hashes.length === 1 ? [await sessions.findWithUserByTokenHash(db, hashes[0]!)] : sessions.findWithUserByTokenHashes(db, hashes),
  );

  // One rule for HTTP and sockets: past its absolute expiry, or unused for longer than the idle period.
  const hasEnded = (row: SessionTimes, now: number) => row.expires_at <= now || now - row.last_seen_at > policy.idleMs;
  const endOf = (row: SessionTimes) => Math.min(row.expires_at, row.last_seen_at + policy.idleMs);

  function csrfTokenFor(sessionId: string): string {
    return createHmac('sha256', secret).update(`csrf:${sessionId}`).digest('base64url');
  }

  return {
    csrfTokenFor,

    /** Compares a presented CSRF token with the session's, in constant time. */
    verifyCsrf(sessionId: string, presented: string | undefined): boolean {
      if (!presented) return false;
      const expected = Buffer.from(csrfTokenFor(sessionId));
      const actual = Buffer.from(presented);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },

    /** Starts a new session (always a fresh token: no fixation). Returns the cookie token. */
    async start(
      userId: string,
      options: { rememberMe: boolean; userAgent?: string; ip?: string },
    ): Promise<{ token: string; sessionId: string }> {
      const now = clock.now();
      const token = randomBytes(32).toString('base64url');
      const session: SessionRow = {
        id: randomUUID(),
        token_hash: hashToken(token),
        user_id: userId,
        remember_me: options.rememberMe ? 1 : 0,
        created_at: now,
        last_seen_at: now,
        expires_at: now + (options.rememberMe ? policy.rememberTtlMs : policy.browserTtlMs),
        user_agent: options.userAgent?.slice(0, 256) ?? null,
        ip: options.ip ?? null,
      };
      await sessions.insert(db, session);
      return { token, sessionId: session.id };
    },

    /** The live session for a cookie token, or null; ends sessions found expired or idle. */
    async resolve(token: string): Promise<Caller | null> {
      const row = await findByTokenHash(hashToken(token));
      if (!row) return null;
      const now = clock.now();
      if (hasEnded(row, now)) {
        await sessions.delete(db, row.id);
        return null;
      }
      if (now - row.last_seen_at > TOUCH_INTERVAL_MS) {
        await sessions.touch(db, row.id, now);
        row.last_seen_at = now;
      }
      return { sessionId: row.id, user: { id: row.user_id, username: row.username, createdAt: isoTime(row.user_created_at) }, endsAt: endOf(row) };
    },

    /**
     * Re-reads the session behind an open socket: when it now ends (epoch ms), or null when
     * it has ended (an expired or idle row is deleted, as `resolve` does). `used`: the socket's
     * client sent a frame, which counts as use exactly as an HTTP request does.
     */
    async recheck(sessionId: string, used: boolean): Promise<number | null> {
      const row = await sessions.findById(db, sessionId);
      if (!row) return null;
      const now = clock.now();
      if (hasEnded(row, now)) {
        await sessions.delete(db, row.id);
        return null;
      }
      if (used && now - row.last_seen_at > TOUCH_INTERVAL_MS) {
        await sessions.touch(db, row.id, now);
        row.last_seen_at = now;
      }
      return endOf(row);
    },

    async end(caller: Caller): Promise<void> {
      await sessions.delete(db, caller.sessionId);
      await bus.publish({ kind: 'sessions-ended', userId: caller.user.id, sessionIds: [caller.sessionId] });
    },

    /** Ends one of the user's own sessions; false when no such session of theirs exists. */
    async endOwn(userId: string, sessionId: string): Promise<boolean> {
      const ended = await sessions.deleteForUser(db, userId, sessionId);
      if (ended) await bus.publish({ kind: 'sessions-ended', userId, sessionIds: [sessionId] });
      return ended;
    },

    /** Ends every session of the user but one (password change). */
    async endAllExcept(userId: string, keepSessionId: string): Promise<void> {
      await sessions.deleteAllForUserExcept(db, userId, keepSessionId);
      await bus.publish({ kind: 'sessions-ended', userId, exceptSessionId: keepSessionId });
    },

    /** Removes every expired or idle session (a periodic clean-up). */
    async sweepExpired(): Promise<void> {
      const now = clock.now();
      await sessions.deleteExpired(db, now, now - policy.idleMs);
    },

    async list(userId: string, currentSessionId: string | null): Promise<ActiveSession[]> {
      const rows = await sessions.listForUser(db, userId, clock.now());
      return rows.map((row) => ({
        id: row.id,
        current: row.id === currentSessionId,
        rememberMe: row.remember_me === 1,
        userAgent: row.user_agent,
        ip: row.ip,
        createdAt: isoTime(row.created_at),
        lastSeenAt: isoTime(row.last_seen_at),
        expiresAt: isoTime(row.expires_at),
      }));
    },
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;
