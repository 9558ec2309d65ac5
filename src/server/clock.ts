/** The time source, passed in so tests can move time (session expiry, invites). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** ISO-8601 UTC text for an epoch-milliseconds time, as the API shows times. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
