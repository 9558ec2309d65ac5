/**
 * Light/dark theme: Bootstrap's data-bs-theme on <html>. The user's choice is remembered
 * in localStorage; until they make one, the system's `prefers-color-scheme` decides (and
 * is followed when it changes).
 */

export type Theme = 'dark' | 'light';

const STORAGE_KEY = 'securechat.theme';
const SYSTEM_DARK = '(prefers-color-scheme: dark)';

/** The theme the user picked, or null when they never picked one. */
export function chosenTheme(): Theme | null {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === 'light' || stored === 'dark' ? stored : null;
  } catch {
    return null; // storage disabled: no choice remembered
  }
}

/** The system's preference (dark when the browser cannot tell). */
export function systemTheme(): Theme {
  if (typeof matchMedia !== 'function') return 'dark';
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

/** The theme in effect: the user's choice, else the system's. */
export function storedTheme(): Theme {
  return chosenTheme() ?? systemTheme();
}

export function applyTheme(theme: Theme): void {
  document.documentElement.setAttribute('data-bs-theme', theme);
}

export function saveTheme(theme: Theme): void {
  applyTheme(theme);
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}

/** Applies the theme in effect now, and again whenever the system's changes while no choice is made. */
export function followTheme(): void {
  applyTheme(storedTheme());
  if (typeof matchMedia !== 'function') return;
  matchMedia(SYSTEM_DARK).addEventListener('change', () => {
    if (chosenTheme() === null) applyTheme(systemTheme());
  });
}
