/**
 * The words of every slot, as ids in one growing array: a slot's words are a run of it. An
 * edit writes a new run and leaves the old one behind (a few bytes per edit).
 */
export class WordPool {
  private pool = new Int32Array(8192);
  private length = 0;
  private starts = new Int32Array(1024);
  private counts = new Int32Array(1024);

  /** Sets the slot's words (distinct ids). */
  set(slot: number, ids: readonly number[]): void {
    if (slot >= this.starts.length) {
      this.starts = widen(this.starts, Math.max(slot + 1, this.starts.length * 2));
      this.counts = widen(this.counts, this.starts.length);
    }
    if (this.length + ids.length > this.pool.length) this.pool = widen(this.pool, Math.max(this.length + ids.length, this.pool.length * 2));
    this.pool.set(ids, this.length);
    this.starts[slot] = this.length;
    this.counts[slot] = ids.length;
    this.length += ids.length;
  }

  /** The slot's words: a view, valid until the next `set`. */
  of(slot: number): Int32Array {
    return this.pool.subarray(this.starts[slot]!, this.starts[slot]! + this.counts[slot]!);
  }

  /** Whether the slot holds every `required` word and, with `some`, one of those: the hot loop of a search, allocating nothing. */
  matches(slot: number, required: readonly number[], some: Set<number> | undefined): boolean {
    const start = this.starts[slot]!;
    const end = start + this.counts[slot]!;
    const pool = this.pool;
    for (const id of required) {
      let at = start;
      while (at < end && pool[at] !== id) at += 1;
      if (at === end) return false;
    }
    if (!some) return true;
    for (let at = start; at < end; at += 1) if (some.has(pool[at]!)) return true;
    return false;
  }

  /** Gives back the room kept for growth (after a bulk load). */
  trim(): void {
    this.pool = this.pool.slice(0, this.length + 1024);
  }

  get bytes(): number {
    return this.pool.byteLength + this.starts.byteLength + this.counts.byteLength;
  }
}

function widen(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(size);
  next.set(array);
  return next;
}
