/**
 * Accounts: registration, sign-in checks, password changes, and the user's own profile.
 * Emails are stored encrypted with a blind index for uniqueness; passwords as
 * Werkzeug-format scrypt hashes (older pbkdf2 hashes are upgraded at sign-in).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LIMITS, USERNAME_PATTERN, type Me, type RegisterBody, type User } from '../../shared/protocol.js';
import { isoTime, type Clock } from '../clock.js';
import { isCommonPassword, type PasswordHasher } from '../crypto/passwords.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database, Db } from '../db/schema.js';
import { errors } from '../http/errors.js';
import type { LoginThrottle } from '../http/rate-limit.js';
import type { AccountsRepository, UserRow } from './accounts.repository.js';

const USERNAME = new RegExp(USERNAME_PATTERN);
// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not checkable here.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

/** Presents a user as others may see them. */
export function presentUser(row: Pick<UserRow, 'id' | 'username' | 'created_at'>): User {
  return { id: row.id, username: row.username, createdAt: isoTime(row.created_at) };
}

export function createAccountsService(deps: {
  db: Kysely<Database>;
  accounts: AccountsRepository;
  keyring: Keyring;
  passwords: PasswordHasher;
  clock: Clock;
  passwordMinLength: number;
  loginThrottle: LoginThrottle;
  /** Called inside the registration transaction: every new user joins General. */
  onRegistered: (trx: Db, userId: string) => Promise<void>;
}) {
  const { db, accounts, keyring, passwords, clock, passwordMinLength, loginThrottle } = deps;
  // Verified against when the username is unknown, so both failures take the same time.
  const decoyHash = passwords.hash(randomUUID());

  function checkNewPassword(password: string, field: string): void {
    if (password.length < passwordMinLength) {
      throw errors.validation(`Password must be at least ${passwordMinLength} characters.`, field);
    }
    if (isCommonPassword(password)) {
      throw errors.validation('This password is one of the most common ones; choose another.', field);
    }
  }

  return {
    /** Creates an account (and its General membership) or throws a field-specific error. */
    async register(input: RegisterBody): Promise<User> {
      const username = input.username.trim();
      if (username.length < LIMITS.usernameMin || username.length > LIMITS.usernameMax) {
        throw errors.validation(
          `Username must be ${LIMITS.usernameMin} to ${LIMITS.usernameMax} characters.`,
          'username',
        );
      }
      if (!USERNAME.test(username)) {
        throw errors.validation('Username may contain only letters, digits, underscores, dots and hyphens.', 'username');
      }
      const email = normaliseEmail(input.email);
      if (email.length > LIMITS.emailMax || !EMAIL.test(email) || /[\p{Cc}\p{Cf}]/u.test(email)) {
        throw errors.validation('Enter a valid email address, like name@example.com.', 'email');
      }
      checkNewPassword(input.password, 'password');
      if (input.password !== input.confirmPassword) {
        throw errors.validation('The two passwords do not match.', 'confirmPassword');
      }

      const usernameKey = username.toLowerCase();
      if (await accounts.usernameKeyExists(db, usernameKey)) {
        throw errors.conflict('username_taken', 'That username is taken; choose another.', 'username');
      }
      if (await accounts.emailIndexExists(db, keyring.blindIndexes(email))) {
        throw errors.conflict('email_taken', 'An account with this email already exists; sign in instead.', 'email');
      }

      const passwordHash = await passwords.hash(input.password);
      const encryptedEmail = keyring.encrypt(email);
      const row: UserRow = {
        id: randomUUID(),
        username,
        username_key: usernameKey,
        email_ciphertext: encryptedEmail.ciphertext,
        email_key_id: encryptedEmail.keyId,
        email_index: keyring.blindIndex(email),
        password_hash: passwordHash,
        created_at: clock.now(),
      };
      try {
        await db.transaction().execute(async (trx) => {
          await accounts.insert(trx, row);
          await deps.onRegistered(trx, row.id);
        });
      } catch (error) {
        // Two registrations racing for the same name or email: the unique index decides.
        if (await accounts.usernameKeyExists(db, usernameKey)) {
          throw errors.conflict('username_taken', 'That username is taken; choose another.', 'username');
        }
        if (await accounts.emailIndexExists(db, keyring.blindIndexes(email))) {
          throw errors.conflict('email_taken', 'An account with this email already exists; sign in instead.', 'email');
        }
        throw error;
      }
      return presentUser(row);
    },

    /**
     * Checks a username and password: the same error, after the same work, for an unknown
     * user and a wrong password; repeated failures slow the account's sign-ins down.
     */
    async authenticate(username: string, password: string): Promise<User> {
      const accountKey = username.trim().toLowerCase();
      await loginThrottle.check(accountKey);
      const row = await accounts.findByUsernameKey(db, accountKey);
      const { ok, needsRehash } = await passwords.verify(password, row?.password_hash ?? (await decoyHash));
      if (!row || !ok) {
        await loginThrottle.failed(accountKey);
        throw errors.invalidCredentials();
      }
      await loginThrottle.succeeded(accountKey);
      if (needsRehash) await accounts.updatePasswordHash(db, row.id, await passwords.hash(password));
      return presentUser(row);
    },

    /** Changes the password after checking the current one. */
    async changePassword(userId: string, currentPassword: string, newPassword: string): Promise<void> {
      const row = await accounts.findById(db, userId);
      if (!row) throw errors.authRequired();
      const { ok } = await passwords.verify(currentPassword, row.password_hash);
      if (!ok) throw errors.validation('The current password is wrong.', 'currentPassword');
      checkNewPassword(newPassword, 'newPassword');
      if (newPassword === currentPassword) {
        throw errors.validation('The new password must differ from the current one.', 'newPassword');
      }
      await accounts.updatePasswordHash(db, userId, await passwords.hash(newPassword));
    },

    /** The signed-in user's own profile, including their (decrypted) email. */
    async me(userId: string): Promise<Me> {
      const row = await accounts.findById(db, userId);
      if (!row) throw errors.authRequired();
      return { ...presentUser(row), email: keyring.decrypt(row.email_ciphertext, row.email_key_id) };
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
