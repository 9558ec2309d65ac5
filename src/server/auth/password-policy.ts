/**
 * What a new password must not be: too short, one of the most common passwords, or built
 * on what an attacker knows about the account (its username, its email address, the
 * site's name). Used for registration and password changes alike.
 */
import { isCommonPassword } from '../crypto/passwords.js';

/** The site's own name: the first word anyone guessing a SecureChat password tries. */
export const SITE_WORD = 'securechat';
// Shorter context words are too likely to occur by chance inside a good passphrase.
const CONTEXT_WORD_MIN = 3;

export interface PasswordContext {
  username: string;
  email: string;
}

/** The words of the account that a password must not be built on, lower case. */
function contextWords(context: PasswordContext): string[] {
  const email = context.email.trim().toLowerCase();
  const words = [context.username.trim().toLowerCase(), email, email.split('@')[0] ?? '', SITE_WORD];
  return [...new Set(words)].filter((word) => word.length >= CONTEXT_WORD_MIN);
}

/**
 * Why the password may not be used, as a sentence for the person choosing it, or null when
 * it may. A password that contains a context word is refused when what remains without it
 * is short or common ("alice2024", "securechat!", "alicepassword"), so a long passphrase
 * that happens to mention the name still passes.
 */
export function newPasswordProblem(password: string, minLength: number, context: PasswordContext): string | null {
  if (password.length < minLength) return `Password must be at least ${minLength} characters.`;
  if (isCommonPassword(password)) return 'This password is one of the most common ones; choose another.';
  const lower = password.toLowerCase();
  for (const word of contextWords(context)) {
    if (!lower.includes(word)) continue;
    const rest = lower.split(word).join('').trim();
    if (rest.length < minLength || isCommonPassword(rest)) {
      return 'The password may not be built on your username, your email address or "SecureChat"; choose another.';
    }
  }
  return null;
}
