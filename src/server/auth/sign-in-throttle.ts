/**
 * The throttle in front of every password check (sign-in, password change). Before the
 * password is checked, the attempt takes a slot, atomically, in two budgets:
 *
 * - per account and address: a few free failures, then one attempt per delay window,
 *   doubling (1 s, 2 s … 15 min) — the guesser from one address slows down alone;
 * - per account, from anywhere: a looser budget with the same delays, against guesses
 *   spread over many addresses.
 *
 * A success clears both; a failure stays counted until the memory ends. Nothing locks for
 * good: the owner from another address is not slowed by one address's guesses, and past the
 * account budget gets in after the delay.
 */
import type { Clock } from '../clock.js';
import { errors } from '../http/errors.js';
import type { AttemptBudget, CounterStore } from '../platform/cluster/counters.js';

/** Free failures before the delays start. */
export interface SignInBudgets {
  /** For one account from one client address. */
  failuresPerAddress: number;
  /** For one account from all addresses together. */
  failuresPerAccount: number;
}

const SECOND_MS = 1000;
/** Counted failures are forgotten this long after the last one (after its delay, once delayed). */
export const FAILURE_MEMORY_MS = 15 * 60 * SECOND_MS;
export const MAX_DELAY_MS = 15 * 60 * SECOND_MS;

/** One attempt's slots: say how it ended. */
export interface SignInAttempt {
  /** The password was right: both budgets start again. */
  succeeded(): Promise<void>;
  /** No password was checked (the check was refused as busy): the slots are given back. */
  unused(): Promise<void>;
}

const retryAfterSeconds = (retryAt: number, now: number) => Math.max(1, Math.ceil((retryAt - now) / SECOND_MS));

export function createSignInThrottle(store: CounterStore, clock: Clock, budgets: SignInBudgets) {
  const budget = (free: number): AttemptBudget => ({ free, memoryMs: FAILURE_MEMORY_MS, baseDelayMs: SECOND_MS, maxDelayMs: MAX_DELAY_MS });
  const perAddress = budget(budgets.failuresPerAddress);
  const perAccount = budget(budgets.failuresPerAccount);

  return {
    /**
     * Takes this attempt's slots before the password is checked; throws a 429 with
     * Retry-After when a budget has none now. `account` is the normalised username.
     */
    async reserve(account: string, address: string): Promise<SignInAttempt> {
      const now = clock.now();
      // The stored key is a keyed hash of these (withHashedKeys); NUL cannot occur in either part.
      const pairKey = `signin-pair:${account}\u0000${address}`;
      const accountKey = `signin-account:${account}`;
      // The address's own budget first: an address already slowed down never spends the account's.
      const pair = await store.reserveAttempt(pairKey, perAddress, now);
      if (!pair.granted) throw errors.rateLimited(retryAfterSeconds(pair.retryAt, now));
      const whole = await store.reserveAttempt(accountKey, perAccount, now);
      if (!whole.granted) {
        await store.releaseAttempt(pairKey);
        throw errors.rateLimited(retryAfterSeconds(whole.retryAt, now));
      }
      return {
        succeeded: async () => {
          await Promise.all([store.clearAttempts(pairKey), store.clearAttempts(accountKey)]);
        },
        unused: async () => {
          await Promise.all([store.releaseAttempt(pairKey), store.releaseAttempt(accountKey)]);
        },
      };
    },
  };
}

export type SignInThrottle = ReturnType<typeof createSignInThrottle>;
