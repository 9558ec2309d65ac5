/**
 * Showing one message of a room in context (a reply's original, a search result): once
 * the room's newest page is in, older history is loaded down to a little before the
 * message (in one request when it is within 200 messages, else in pages of 200), then
 * it is scrolled to the middle of the list, focused and marked for a moment. The timeline
 * stays one unbroken run of seqs up to the newest message, so live messages, scrolling
 * and catch-up go on as usual afterwards.
 */
import type { ChatStore } from './core/chat-store.js';
import { PAGE_MAX, PAGE_SIZE } from './limits.js';

/** Pages fetched at most while looking (up to 200 messages each). */
const MAX_PAGES = 40;
/** Messages loaded above the one looked for, so it is seen in context. */
const CONTEXT = 20;
const WAIT_MS = 15_000;

export interface JumpOptions {
  /** The class that marks the message, taken off after `markMs`. */
  className: string;
  markMs: number;
}

/** Resolves once `ready()` holds (checked on every store change), or with false after a while. */
function until(chat: ChatStore, ready: () => boolean): Promise<boolean> {
  if (ready()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      unsubscribe();
      clearTimeout(timer);
      resolve(value);
    };
    const unsubscribe = chat.subscribe(() => ready() && done(true));
    const timer = setTimeout(() => done(false), WAIT_MS);
  });
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));

/** Brings message `seq` of `roomId` into view and marks it; false when it could not be found. */
export async function jumpToMessage(chat: ChatStore, roomId: string, seq: number, options: JumpOptions): Promise<boolean> {
  const timeline = () => chat.getSnapshot().timelines[roomId];
  // The room too: the list of the room left behind may still be on the page for a moment.
  const find = () => document.querySelector<HTMLElement>(`[data-testid="message"][data-room-id="${CSS.escape(roomId)}"][data-seq="${seq}"]`);
  if (!(await until(chat, () => timeline()?.historyLoaded === true))) return false;
  // Let the list render what is held before looking.
  await nextFrame();
  for (let page = 0; !find() && page < MAX_PAGES; page += 1) {
    const held = timeline();
    const oldest = held?.messages[0]?.seq;
    if (!held?.hasOlder || oldest === undefined || oldest <= seq) break;
    // A page the list itself asked for (scrolled to the top) may be on its way: wait for it.
    await until(chat, () => !chat.getSnapshot().loadingOlder[roomId]);
    // As far as the message and a little before it, in one request when it is near.
    await chat.loadOlder(roomId, Math.min(PAGE_MAX, Math.max(PAGE_SIZE, oldest - seq + CONTEXT)));
    await nextFrame();
  }
  const target = find();
  if (!target) return false;
  target.scrollIntoView({ block: 'center' });
  target.classList.add(options.className);
  target.tabIndex = -1;
  target.focus({ preventScroll: true });
  setTimeout(() => target.classList.remove(options.className), options.markMs);
  return true;
}
