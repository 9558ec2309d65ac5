/**
 * Posting lists: the messages (slots) holding a word, kept in the index's order (oldest to
 * newest), and a walk over one list or several merged, newest first.
 */

/** `a` comes before `b` in the index's order. */
export type SlotOrder = (a: number, b: number) => boolean;

export class Posting {
  slots = new Int32Array(4);
  length = 0;

  push(slot: number): void {
    if (this.length === this.slots.length) this.grow();
    this.slots[this.length++] = slot;
  }

  /** Puts `slot` in its place (new messages come last, so this rarely moves anything); a slot already there stays once. */
  insert(slot: number, comesBefore: SlotOrder): void {
    let at = this.length;
    while (at > 0 && comesBefore(slot, this.slots[at - 1]!)) at -= 1;
    if (at > 0 && this.slots[at - 1] === slot) return;
    if (this.length === this.slots.length) this.grow();
    this.slots.copyWithin(at + 1, at, this.length);
    this.slots[at] = slot;
    this.length += 1;
  }

  /** How many slots come before the cursor (all of them without one): where a walk towards older ones starts. */
  countBefore(isBeforeCursor: (slot: number) => boolean): number {
    let low = 0;
    let high = this.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (isBeforeCursor(this.slots[middle]!)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Gives back the room kept for growth (after a bulk load, most lists never grow again). */
  trim(): void {
    if (this.slots.length > this.length + 4) this.slots = this.slots.slice(0, this.length + 4);
  }

  get bytes(): number {
    return this.slots.byteLength;
  }

  private grow(): void {
    const next = new Int32Array(this.slots.length * 2);
    next.set(this.slots);
    this.slots = next;
  }
}

/**
 * The slots of several lists before the cursor, newest first, each once: a max-heap of one
 * head per list. `comesBefore` orders slots; equal heads (one message in two lists) pop together.
 */
export function* newestFirst(lists: readonly Posting[], comesBefore: SlotOrder, isBeforeCursor: (slot: number) => boolean): Generator<number> {
  const heads: { list: Posting; at: number }[] = [];
  for (const list of lists) {
    const at = list.countBefore(isBeforeCursor) - 1;
    if (at >= 0) heads.push({ list, at });
  }
  const slotOf = (index: number) => heads[index]!.list.slots[heads[index]!.at]!;
  const newer = (i: number, j: number) => comesBefore(slotOf(j), slotOf(i));
  const down = (start: number) => {
    let index = start;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let top = index;
      if (left < heads.length && newer(left, top)) top = left;
      if (right < heads.length && newer(right, top)) top = right;
      if (top === index) return;
      [heads[index], heads[top]] = [heads[top]!, heads[index]!];
      index = top;
    }
  };
  for (let index = (heads.length >> 1) - 1; index >= 0; index -= 1) down(index);
  let last = -1;
  while (heads.length > 0) {
    const slot = slotOf(0);
    if (slot !== last) yield slot;
    last = slot;
    const head = heads[0]!;
    head.at -= 1;
    if (head.at < 0) {
      heads[0] = heads[heads.length - 1]!;
      heads.pop();
    }
    if (heads.length > 0) down(0);
  }
}

/**
 * Puts slots that are nearly newest first exactly so, in place: an insertion sort, which
 * costs one comparison per slot when nothing is out of place.
 */
export function sortNewestFirst(slots: Int32Array, comesBefore: SlotOrder): Int32Array {
  for (let at = 1; at < slots.length; at += 1) {
    const slot = slots[at]!;
    let to = at;
    while (to > 0 && comesBefore(slots[to - 1]!, slot)) {
      slots[to] = slots[to - 1]!;
      to -= 1;
    }
    slots[to] = slot;
  }
  return slots;
}
