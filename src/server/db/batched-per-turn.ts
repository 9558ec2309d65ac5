/**
 * Coalesces reads into as few queries as it can without making anyone wait for nothing:
 * the reads requested in one turn of the event loop (one poll phase's I/O callbacks) go
 * together, and while two queries are out, new requests gather and go in the next one when
 * one returns. A group commit resolves a burst of sends together, and their next reads (may
 * this user send here?) arrive together too: on PostgreSQL each query is a round trip
 * whose system calls and wake-ups cost more than the query, so a burst of 32 asks once
 * rather than 32 times, and a steady stream asks about twice per round trip. On SQLite a
 * query settles within the turn, so only the first rule applies. Each caller still gets
 * its own answer, read after it asked.
 */
/**
 * Queries out at once. One alone made a burst of HTTP sends on PostgreSQL wait behind the
 * previous burst's lookup (~5 % fewer sends/s); two keep the round trips overlapped.
 */
const MAX_QUERIES_OUT = 2;

export function batchedPerTurn<Key, Value>(loadMany: (keys: Key[]) => Promise<Value[]>, maxBatch = 64): (key: Key) => Promise<Value> {
  const waiting: Array<{ key: Key; resolve(value: Value): void; reject(error: unknown): void }> = [];
  let scheduled = false;
  let querying = 0;

  function schedule(): void {
    if (scheduled || querying >= MAX_QUERIES_OUT || waiting.length === 0) return;
    scheduled = true;
    // After the poll phase: requests read from every socket that had data join in.
    setImmediate(flush);
  }

  function flush(): void {
    scheduled = false;
    const batch = waiting.splice(0, maxBatch);
    querying += 1;
    loadMany(batch.map((entry) => entry.key))
      .then(
        (values) => batch.forEach((entry, i) => entry.resolve(values[i]!)),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => {
        querying -= 1;
        schedule();
      });
    // More than one batch was waiting: the rest may go as the second query out.
    schedule();
  }

  return (key) =>
    new Promise<Value>((resolve, reject) => {
      waiting.push({ key, resolve, reject });
      schedule();
    });
}
