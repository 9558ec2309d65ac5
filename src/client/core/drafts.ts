/** What the user had typed in each room's composer, kept across room switches and reloads. */
import { readJson, userKey, writeJson } from './local-store.js';

export function loadDraft(userId: string, roomId: string): string {
  const draft = readJson<unknown>(userKey('draft', userId, roomId));
  return typeof draft === 'string' ? draft : '';
}

/** Saves the draft; an empty (or blank) one is forgotten. */
export function saveDraft(userId: string, roomId: string, text: string): void {
  writeJson(userKey('draft', userId, roomId), text.trim() ? text : null);
}
