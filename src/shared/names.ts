/**
 * What a username or a room name may be: one set of rules for the server's services and the
 * client's forms. Plain values only, so the client bundle gets no schema builders. How names
 * are compared for look-alikes (the TR39 skeleton) is the server's: server/names/.
 */

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const USERNAME_PATTERN = '^[A-Za-z0-9_.-]+$';
export const ROOM_NAME_MIN = 3;
export const ROOM_NAME_MAX = 64;

const USERNAME = new RegExp(USERNAME_PATTERN);
/**
 * What a name may not contain: characters that draw nothing or draw something they are not
 * (controls, format characters such as bidi controls and zero-width joiners, every default-
 * ignorable code point such as U+3164 HANGUL FILLER, the blank Braille pattern), private-use
 * and unassigned code points, and any whitespace but the plain space.
 */
const INVISIBLE_OR_DECEPTIVE =
  /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]|(?! )\s/u;
// The one invisible allowed: an emoji's presentation selector, right after the emoji ("☕️").
const EMOJI_PRESENTATION = /(\p{Extended_Pictographic})[\uFE0E\uFE0F]/gu;

/** A name as typed, the way it is stored and compared: trimmed, in Unicode NFC. */
export function normaliseName(raw: string): string {
  return raw.trim().normalize('NFC');
}

/** Why this (normalised) username cannot be used, or null when it can. */
export function usernameProblem(username: string): string | null {
  if (username.length < USERNAME_MIN || username.length > USERNAME_MAX) {
    return `Username must be ${USERNAME_MIN} to ${USERNAME_MAX} characters.`;
  }
  if (!USERNAME.test(username)) return 'Username may contain only letters, digits, underscores, dots and hyphens.';
  return null;
}

/** Why this (normalised) room name cannot be used, or null when it can. */
export function roomNameProblem(name: string): string | null {
  if (name.length < ROOM_NAME_MIN || name.length > ROOM_NAME_MAX) {
    return `Room name must be ${ROOM_NAME_MIN} to ${ROOM_NAME_MAX} characters.`;
  }
  if (INVISIBLE_OR_DECEPTIVE.test(name.replace(EMOJI_PRESENTATION, '$1'))) {
    return 'Room name may not contain invisible characters, direction controls or special spaces.';
  }
  return null;
}
