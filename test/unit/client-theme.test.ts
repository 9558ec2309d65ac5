/** The theme: the user's choice when they made one, else the system's light/dark preference. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chosenTheme, storedTheme, systemTheme } from '../../src/client/theme.js';

let storage: Map<string, string>;
let prefersLight = false;

beforeEach(() => {
  storage = new Map();
  vi.stubGlobal('localStorage', {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => storage.set(key, value),
    removeItem: (key: string) => storage.delete(key),
  });
  vi.stubGlobal('matchMedia', (query: string) => ({ matches: query === '(prefers-color-scheme: light)' && prefersLight }));
});
afterEach(() => vi.unstubAllGlobals());

describe('theme', () => {
  it("follows the system's preference until the user picks one", () => {
    prefersLight = true;
    expect(chosenTheme()).toBeNull();
    expect(storedTheme()).toBe('light');
    prefersLight = false;
    expect(storedTheme()).toBe('dark');
  });

  it("keeps the user's choice over the system's", () => {
    prefersLight = true;
    storage.set('securechat.theme', 'dark');
    expect(storedTheme()).toBe('dark');
    expect(systemTheme()).toBe('light');
  });

  it('ignores a stored value that is no theme', () => {
    prefersLight = true;
    storage.set('securechat.theme', 'purple');
    expect(chosenTheme()).toBeNull();
    expect(storedTheme()).toBe('light');
  });
});
