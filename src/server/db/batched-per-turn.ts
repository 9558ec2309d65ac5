/**
 * Coalesces the reads requested in one turn of the event loop (one poll phase's I/O
 * callbacks) into one query. A group
 * commit resolves a burst of sends together, and their next reads (may this user send
 * here?) arrive together too: on PostgreSQL each query is a round trip whose system calls
 * cost more than the query, so a burst of 32 asks once rather than 32 times. Each caller
 * still gets its own answer, read after it asked.
 */
export function batchedPerTurn<Key, Value>(loadMany: (keys: Key[]) => Promise<Value[]>, maxBatch = 64): (key: Key) => Promise<Value> {
  let waiting: Array<{ key: Key; resolve(value: Value): void; reject(error: unknown): void }> = [];

  function flush(): void {
    const batch = waiting.splice(0, maxBatch);
    if (waiting.length > 0) setImmediate(flush);
    loadMany(batch.map((entry) => entry.key)).then(
      (values) => batch.forEach((entry, i) => entry.resolve(values[i]!)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
  }

  return (key) =>
    new Promise<Value>((resolve, reject) => {
      waiting.push({ key, resolve, reject });
      // After the poll phase: requests read from every socket that had data join in.
      if (waiting.length === 1) setImmediate(flush);
    });
}
