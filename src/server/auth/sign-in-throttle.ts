/**
 * The throttle in front of every password check (sign-in, password change). Before the
 * password is checked, the attempt takes a slot, atomically, in the budget of its account
 * and address: a few free failures, then one attempt per delay window, doubling (1 s, 2 s …
 * 15 min) — a guesser from one address slows down alone.
 *
 * Every failure also counts toward the account from all addresses. Once guesses spread over
 * many addresses have spent that looser budget, an address has no free failures left at
 * this account: each of its attempts starts its own delay. The delay stays per address, not
 * one shared attempt per window, so a distributed guesser cannot take every window before
 * the owner: the right password from an address with no failures still works at once.
 *
 * A success clears its own address's failures only; the account's count is not reset by the
 * owner's sign-ins (else each of them would give a guesser the whole budget again).
 */
import type { Clock } from '../clock.js';
import { addressBlock } from '../http/client-address.js';
import { errors } from '../http/errors.js';
import type { AttemptBudget, CounterStore } from '../platform/cluster/counters.js';

/** Free failures before the delays start. */
export interface SignInBudgets {
  /** For one account from one client address. */
  failuresPerAddress: number;
  /** For one account from all addresses together; past it, no address has free failures. */
  failuresPerAccount: number;
}

const SECOND_MS = 1000;
/** Counted failures are forgotten this long after the last one (after its delay, once delayed). */
export const FAILURE_MEMORY_MS = 15 * 60 * SECOND_MS;
export const MAX_DELAY_MS = 15 * 60 * SECOND_MS;

/** One attempt's slots: say how it ended. */
export interface SignInAttempt {
  /** The password was right: the address starts again; the attempt is not counted as a failure. */
  succeeded(): Promise<void>;
  /** No password was checked (the check was refused as busy): the slots are given back. */
  unused(): Promise<void>;
}

export function createSignInThrottle(store: CounterStore, clock: Clock, budgets: SignInBudgets) {
  const delayed = (free: number): AttemptBudget => ({ free, memoryMs: FAILURE_MEMORY_MS, baseDelayMs: SECOND_MS, maxDelayMs: MAX_DELAY_MS });
  const perAddress = delayed(budgets.failuresPerAddress);
  // Past the account's budget: the first attempt from an address goes at once, then 1 s, 2 s …
  const perAddressPastAccount = delayed(1);
  // The account's count only says whether its budget is spent; it never refuses by itself.
  const perAccount: AttemptBudget = { free: budgets.failuresPerAccount, memoryMs: FAILURE_MEMORY_MS, baseDelayMs: 0, maxDelayMs: 0 };

  return {
    /**
     * Takes this attempt's slots before the password is checked; throws a 429 with
     * Retry-After when the address has none now. `account` is the normalised username.
     */
    async reserve(account: string, address: string): Promise<SignInAttempt> {
      const now = clock.now();
      // The stored key is a keyed hash of these (withHashedKeys); NUL cannot occur in either part.
      const accountKey = `signin-account:${account}`;
      const whole = await store.reserveAttempt(accountKey, perAccount, now);
      const pastAccountBudget = whole.granted && whole.count > budgets.failuresPerAccount;
      // Past the budget an IPv6 guesser is counted by its /48 (a whole site's allocation), so
      // the 65,536 /64s of one tunnel-broker /48 are one address here.
      const block = addressBlock(address, pastAccountBudget ? 48 : 64);
      const pairKey = `signin-pair:${account}\u0000${block}`;
      const pair = await store.reserveAttempt(pairKey, pastAccountBudget ? perAddressPastAccount : perAddress, now);
      if (!pair.granted) {
        // A refused attempt is not counted anywhere.
        await store.releaseAttempt(accountKey);
        throw errors.rateLimitedUntil(pair.retryAt, now);
      }
      return {
        succeeded: async () => {
          await Promise.all([store.clearAttempts(pairKey), store.releaseAttempt(accountKey)]);
        },
        unused: async () => {
          await Promise.all([store.releaseAttempt(pairKey), store.releaseAttempt(accountKey)]);
        },
      };
    },
  };
}

export type SignInThrottle = ReturnType<typeof createSignInThrottle>;
