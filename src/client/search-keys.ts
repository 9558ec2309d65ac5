/** The keys that open message search: Ctrl+K or Cmd+K anywhere, `/` where no text is being typed. */

const NOT_TYPED_INTO = new Set(['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'range', 'color']);

/** Whether a key press lands where text is typed (then `/` is typed, not a shortcut). Read by shape, so no DOM is needed. */
export function isTextEntry(target: EventTarget | null): boolean {
  const element = target as { tagName?: string; type?: string; isContentEditable?: boolean } | null;
  if (!element?.tagName) return false;
  if (element.isContentEditable) return true;
  const tag = element.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && !NOT_TYPED_INTO.has((element.type ?? 'text').toLowerCase());
}

/** Whether a keydown opens search: Ctrl+K / Cmd+K anywhere, `/` outside text fields. */
export function opensSearch(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey' | 'target'>): boolean {
  if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'k') return true;
  return event.key === '/' && !event.ctrlKey && !event.metaKey && !event.altKey && !isTextEntry(event.target);
}
