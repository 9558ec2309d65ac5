/**
 * The index's words: each has an id and a posting list, and the words are also kept sorted,
 * so that a prefix is a range of them.
 */
import { Posting } from './postings.js';

export class Dictionary {
  private readonly ids = new Map<string, number>();
  readonly postings: Posting[] = [];
  private readonly sorted: string[] = [];
  /** While loading, the sorted list waits: it is sorted once by `finishLoading`. */
  private loading = false;

  get size(): number {
    return this.ids.size;
  }

  /** The word's id, a new one for a word not seen before. */
  idOf(word: string): number {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = this.postings.length;
      this.ids.set(word, id);
      this.postings.push(new Posting());
      if (!this.loading) this.sorted.splice(this.lowerBound(word), 0, word);
    }
    return id;
  }

  find(word: string): number | undefined {
    return this.ids.get(word);
  }

  /** The ids of every word starting with `prefix`. */
  startingWith(prefix: string): Set<number> {
    const found = new Set<number>();
    for (let at = this.lowerBound(prefix); at < this.sorted.length && this.sorted[at]!.startsWith(prefix); at += 1) found.add(this.ids.get(this.sorted[at]!)!);
    return found;
  }

  startLoading(): void {
    this.loading = true;
  }

  finishLoading(): void {
    this.loading = false;
    // A loop, not a spread: a spread of a few hundred thousand words overflows the stack.
    for (const word of this.ids.keys()) this.sorted.push(word);
    this.sorted.sort();
  }

  /** An estimate: the postings, and each word held twice (map and sorted list) with its entries. */
  get bytes(): number {
    let bytes = 0;
    for (const posting of this.postings) bytes += posting.bytes + 48;
    for (const word of this.sorted) bytes += 2 * (48 + word.length);
    return bytes;
  }

  private lowerBound(word: string): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.sorted[middle]! < word) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
