/**
 * The search index: in this process's memory only, never written anywhere. Each message is
 * a slot with its words (ids into a dictionary); each word has a posting list of slots in
 * the index's order — creation time, then room id, then seq, the same on every instance.
 * An edit appends the new words and leaves the old postings: every candidate is checked
 * against its current words, so a stale posting never matches, and a delete only marks the
 * slot. Rooms the caller may read are the caller's to pass in.
 */
import { Dictionary } from './dictionary.js';
import { newestFirst, Posting, sortNewestFirst } from './postings.js';
import { WordPool } from './word-pool.js';

/** What the index needs of a message (the body in clear: it is indexed here and not kept). */
export interface IndexedMessage {
  roomId: string;
  seq: number;
  senderId: string;
  createdAt: number;
  changeSeq: number;
  hasFile: boolean;
  deleted: boolean;
  words: readonly string[];
}

/** Where a page ends: the next page starts strictly before it. */
export interface SearchCursor {
  createdAt: number;
  roomId: string;
  seq: number;
}

export interface IndexQuery {
  words: readonly string[];
  prefix?: string;
  /** The rooms to look in (the caller's, or the one asked for). */
  roomIds: readonly string[];
  senderId?: string;
  hasFile?: boolean;
  since?: number;
  until?: number;
  before?: SearchCursor;
  limit: number;
}

export interface IndexHit {
  roomId: string;
  seq: number;
  createdAt: number;
}

const HAS_FILE = 1;
const DELETED = 2;
/** Slots for a room's seqs are numbered from 1; -1 marks a seq not indexed. */
const NONE = -1;

export function createSearchIndex() {
  let capacity = 1024;
  let count = 0;
  let roomOf = new Int32Array(capacity);
  let seqOf = new Int32Array(capacity);
  let senderOf = new Int32Array(capacity);
  let createdAt = new Float64Array(capacity);
  let changeOf = new Float64Array(capacity);
  let flags = new Uint8Array(capacity);
  const words = new WordPool();
  const rooms: string[] = [];
  const roomNumbers = new Map<string, number>();
  const slotsBySeq: Int32Array[] = [];
  const roomSizes: number[] = [];
  const deletedRooms = new Set<string>();
  const senders = new Map<string, number>();
  const dictionary = new Dictionary();
  const { postings } = dictionary;
  const all = new Posting();
  let live = 0;
  /** While loading, postings wait: they are filled once, in order, by `finishLoading`. */
  let loading = false;

  function grow(): void {
    capacity *= 2;
    const widen = <T extends Int32Array | Float64Array | Uint8Array>(array: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(array);
      return next;
    };
    roomOf = widen(roomOf, (n) => new Int32Array(n));
    seqOf = widen(seqOf, (n) => new Int32Array(n));
    senderOf = widen(senderOf, (n) => new Int32Array(n));
    createdAt = widen(createdAt, (n) => new Float64Array(n));
    changeOf = widen(changeOf, (n) => new Float64Array(n));
    flags = widen(flags, (n) => new Uint8Array(n));
  }

  function roomNumber(roomId: string): number {
    let number = roomNumbers.get(roomId);
    if (number === undefined) {
      number = rooms.length;
      rooms.push(roomId);
      roomNumbers.set(roomId, number);
      slotsBySeq.push(new Int32Array(16).fill(NONE));
      roomSizes.push(0);
    }
    return number;
  }

  function senderNumber(userId: string): number {
    let number = senders.get(userId);
    if (number === undefined) senders.set(userId, (number = senders.size));
    return number;
  }

  const comesBefore = (a: number, b: number): boolean => {
    if (createdAt[a] !== createdAt[b]) return createdAt[a]! < createdAt[b]!;
    if (roomOf[a] !== roomOf[b]) return rooms[roomOf[a]!]! < rooms[roomOf[b]!]!;
    return seqOf[a]! < seqOf[b]!;
  };

  function cursorTest(cursor: SearchCursor | undefined): (slot: number) => boolean {
    if (!cursor) return () => true;
    return (slot) => {
      if (createdAt[slot] !== cursor.createdAt) return createdAt[slot]! < cursor.createdAt;
      const room = rooms[roomOf[slot]!]!;
      if (room !== cursor.roomId) return room < cursor.roomId;
      return seqOf[slot]! < cursor.seq;
    };
  }

  function slotFor(roomId: string, seq: number): number {
    const bySeq = slotsBySeq[roomNumbers.get(roomId) ?? -1];
    return bySeq && seq < bySeq.length ? bySeq[seq]! : NONE;
  }

  function setSlot(room: number, seq: number, slot: number): void {
    let bySeq = slotsBySeq[room]!;
    if (seq >= bySeq.length) {
      const next = new Int32Array(Math.max(seq + 1, bySeq.length * 2)).fill(NONE);
      next.set(bySeq);
      slotsBySeq[room] = bySeq = next;
    }
    bySeq[seq] = slot;
  }

  /** A message's distinct word ids. */
  const idsOf = (words: readonly string[]) => [...new Set(words.map((word) => dictionary.idOf(word)))];

  function add(message: IndexedMessage): void {
    if (count === capacity) grow();
    const slot = count++;
    const room = roomNumber(message.roomId);
    roomOf[slot] = room;
    seqOf[slot] = message.seq;
    senderOf[slot] = senderNumber(message.senderId);
    createdAt[slot] = message.createdAt;
    changeOf[slot] = message.changeSeq;
    flags[slot] = message.hasFile ? HAS_FILE : 0;
    setSlot(room, message.seq, slot);
    roomSizes[room] = roomSizes[room]! + 1;
    const ids = idsOf(message.words);
    words.set(slot, ids);
    live += 1;
    if (loading) return;
    all.insert(slot, comesBefore);
    for (const id of ids) postings[id]!.insert(slot, comesBefore);
  }

  function update(slot: number, message: IndexedMessage): void {
    // The same state twice (a message read by the build and then heard on the bus) is one.
    if ((flags[slot]! & DELETED) !== 0 || message.changeSeq <= changeOf[slot]!) return;
    changeOf[slot] = message.changeSeq;
    if (message.deleted) {
      flags[slot] = flags[slot]! | DELETED;
      live -= 1;
      return;
    }
    flags[slot] = message.hasFile ? HAS_FILE : 0;
    const before = words.of(slot);
    const ids = idsOf(message.words);
    // A reaction changes no word: nothing to write.
    if (ids.length === before.length && ids.every((id, at) => before[at] === id)) return;
    const held = new Set(before);
    words.set(slot, ids);
    if (loading) return;
    for (const id of ids) if (!held.has(id)) postings[id]!.insert(slot, comesBefore);
  }

  /** A room's slots before the cursor, newest first (seq order is the index's order but for clocks that disagree). */
  function roomNewestFirst(room: number, isBeforeCursor: (slot: number) => boolean): Int32Array {
    return sortNewestFirst(slotsBySeq[room]!.filter((slot) => slot !== NONE && isBeforeCursor(slot)).reverse(), comesBefore);
  }

  return {
    /** A message as it is now: new, edited, deleted or with its files; an older state than the one held is ignored. */
    upsert(message: IndexedMessage): void {
      if (deletedRooms.has(message.roomId)) return;
      const slot = slotFor(message.roomId, message.seq);
      if (slot !== NONE) update(slot, message);
      else if (!message.deleted) add(message);
    },

    /** A deleted room: its messages are never found again. */
    removeRoom(roomId: string): void {
      // A late event of the room (read back before the delete) must not bring a message back.
      deletedRooms.add(roomId);
      const bySeq = slotsBySeq[roomNumbers.get(roomId) ?? -1];
      if (!bySeq) return;
      for (const slot of bySeq) {
        if (slot !== NONE && (flags[slot]! & DELETED) === 0) {
          flags[slot] = flags[slot]! | DELETED;
          live -= 1;
        }
      }
    },

    /** Bulk loading: messages are added in any order and the postings built once at the end. */
    startLoading(): void {
      loading = true;
      dictionary.startLoading();
    },

    finishLoading(): void {
      loading = false;
      const order = Array.from({ length: count }, (_, slot) => slot).sort((a, b) => (comesBefore(a, b) ? -1 : comesBefore(b, a) ? 1 : 0));
      for (const slot of order) {
        all.push(slot);
        for (const id of words.of(slot)) postings[id]!.push(slot);
      }
      dictionary.finishLoading();
      for (const posting of [all, ...postings]) posting.trim();
      words.trim();
    },

    search(query: IndexQuery): IndexHit[] {
      const required: number[] = [];
      for (const word of query.words) {
        const id = dictionary.find(word);
        if (id === undefined) return [];
        required.push(id);
      }
      let prefixIds: Set<number> | undefined;
      if (query.prefix !== undefined) {
        prefixIds = dictionary.startingWith(query.prefix);
        if (prefixIds.size === 0) return [];
      }
      const allowed = new Uint8Array(rooms.length);
      for (const roomId of query.roomIds) {
        const room = roomNumbers.get(roomId);
        if (room !== undefined) allowed[room] = 1;
      }
      const sender = query.senderId === undefined ? undefined : (senders.get(query.senderId) ?? -1);
      // The fewest candidates: the rarest whole word's list, or the prefix's lists together.
      const rarest = required.map((id) => postings[id]!).sort((a, b) => a.length - b.length)[0];
      const prefixLists = prefixIds ? [...prefixIds].map((id) => postings[id]!) : undefined;
      const prefixTotal = prefixLists?.reduce((sum, list) => sum + list.length, 0) ?? Infinity;
      const lists = rarest && rarest.length <= prefixTotal ? [rarest] : (prefixLists ?? [all]);
      // `until` is a cursor too: the walk starts at whichever comes first. ('' sorts before every room id.)
      const until = query.until === undefined ? undefined : { createdAt: query.until, roomId: '', seq: 0 };
      const cursor = !until || (query.before && query.before.createdAt < until.createdAt) ? query.before : until;
      const startBefore = cursorTest(cursor);
      const only = query.roomIds.length === 1 ? roomNumbers.get(query.roomIds[0]!) : undefined;
      // In one room, its own messages may be fewer to look at than the word's in every room.
      const candidates =
        only !== undefined && roomSizes[only]! < lists.reduce((sum, list) => sum + list.length, 0)
          ? roomNewestFirst(only, startBefore)
          : newestFirst(lists, comesBefore, startBefore);
      const hits: IndexHit[] = [];
      for (const slot of candidates) {
        const flag = flags[slot]!;
        if ((flag & DELETED) !== 0 || allowed[roomOf[slot]!] !== 1) continue;
        if (sender !== undefined && senderOf[slot] !== sender) continue;
        if (query.hasFile && (flag & HAS_FILE) === 0) continue;
        const time = createdAt[slot]!;
        if (query.since !== undefined && time < query.since) break;
        if (!words.matches(slot, required, prefixIds)) continue;
        hits.push({ roomId: rooms[roomOf[slot]!]!, seq: seqOf[slot]!, createdAt: time });
        if (hits.length === query.limit) break;
      }
      return hits;
    },

    /** Messages found, distinct words, and an estimate of the memory held (bytes). */
    stats(): { messages: number; words: number; bytes: number } {
      let bytes = all.bytes + words.bytes + dictionary.bytes;
      for (const column of [roomOf, seqOf, senderOf, createdAt, changeOf, flags]) bytes += column.byteLength;
      for (const bySeq of slotsBySeq) bytes += bySeq.byteLength;
      return { messages: live, words: dictionary.size, bytes };
    },
  };
}

export type SearchIndex = ReturnType<typeof createSearchIndex>;
