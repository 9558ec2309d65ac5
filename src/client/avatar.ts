/** Initials avatars: a color from a hash of the user id, and 1–2 letters from the username. */

/** 1–2 initials: the first letters of the first two parts of `ada.lovelace`, `ada_l`, `ada-l`; else one letter. */
export function initials(username: string): string {
  const parts = username.split(/[._\-\s]+/).filter((part) => part.length > 0);
  const letters = parts.slice(0, 2).map((part) => Array.from(part)[0]!);
  return (letters.length > 0 ? letters.join('') : Array.from(username).slice(0, 1).join('')).toUpperCase();
}

/** A hue fixed for each user id (FNV-1a), so a person keeps their color everywhere. */
export function avatarHue(userId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 360;
}
