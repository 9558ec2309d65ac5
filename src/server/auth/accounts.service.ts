/**
 * Accounts: registration, sign-in checks, password changes, and the user's own profile.
 * Emails are stored encrypted with a blind index for uniqueness; passwords as
 * Werkzeug-format scrypt hashes (older pbkdf2 hashes are upgraded at sign-in).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { normaliseName, usernameProblem } from '../../shared/names.js';
import { LIMITS, type Me, type RegisterBody, type User } from '../../shared/protocol.js';
import { isoTime, type Clock } from '../clock.js';
import { HashingRefusedError } from '../crypto/hashing-queue.js';
import type { PasswordCheck, PasswordHasher } from '../crypto/passwords.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Database, Db } from '../db/schema.js';
import { errors } from '../http/errors.js';
import { nameKeys } from '../names/name-keys.js';
import type { AccountsRepository, UserRow } from './accounts.repository.js';
import type { SignInAttempt, SignInThrottle } from './sign-in-throttle.js';
import { newPasswordProblem, type PasswordContext } from './password-policy.js';

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not checkable here.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

// The same answer for a name taken and for one that looks like a taken one: usernames are public.
const usernameTakenError = () =>
  errors.conflict('username_taken', 'That username is taken, or looks too much like one that is; choose another.', 'username');

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
  /** Every password check takes a slot here first. */
  throttle: SignInThrottle;
  /** Called inside the registration transaction: every new user joins General. */
  onRegistered: (trx: Db, userId: string) => Promise<void>;
}) {
  const { db, accounts, keyring, passwords, clock, passwordMinLength, throttle } = deps;
  // Verified against when the username is unknown, so both failures take the same time.
  const decoyHash = passwords.hash(randomUUID());

  /** The answer for a password check or hash the hashing queue refused to run. */
  function busy(error: unknown): unknown {
    if (!(error instanceof HashingRefusedError)) return error;
    return error.reason === 'owner_busy'
      ? errors.rateLimited(1, 'Another password check for this account is still running; try again in a second.')
      : errors.unavailable('Too many password checks are waiting; try again in a few seconds.');
  }

  /** Checks a password in the account's turn; a refused turn gives the attempt back and answers "busy". */
  async function checkPassword(password: string, stored: string, account: string, attempt: SignInAttempt): Promise<PasswordCheck> {
    try {
      return await passwords.verify(password, stored, account);
    } catch (error) {
      if (error instanceof HashingRefusedError) await attempt.unused();
      throw busy(error);
    }
  }

  /** Hashes a new password (not counted per account: the right password was shown, or it is a new account). */
  const hashNew = (password: string): Promise<string> =>
    passwords.hash(password).catch((error: unknown) => {
      throw busy(error);
    });

  function checkNewPassword(password: string, field: string, context: PasswordContext): void {
    const problem = newPasswordProblem(password, passwordMinLength, context);
    if (problem) throw errors.validation(problem, field);
  }

  return {
    /** Creates an account (and its General membership) or throws a field-specific error. */
    async register(input: RegisterBody): Promise<User> {
      const username = normaliseName(input.username);
      const usernameInvalid = usernameProblem(username);
      if (usernameInvalid) throw errors.validation(usernameInvalid, 'username');
      const email = normaliseEmail(input.email);
      if (email.length > LIMITS.emailMax || !EMAIL.test(email) || /[\p{Cc}\p{Cf}]/u.test(email)) {
        throw errors.validation('Enter a valid email address, like name@example.com.', 'email');
      }
      checkNewPassword(input.password, 'password', { username, email });
      if (input.password !== input.confirmPassword) {
        throw errors.validation('The two passwords do not match.', 'confirmPassword');
      }

      const usernameKey = username.toLowerCase();
      const lookAlikeKeys = nameKeys(username);
      const usernameTaken = async () =>
        (await accounts.usernameKeyExists(db, usernameKey)) || (await accounts.usernameKeysTaken(db, lookAlikeKeys));
      if (await usernameTaken()) throw usernameTakenError();
      if (await accounts.emailIndexExists(db, keyring.blindIndexes(email))) {
        throw errors.conflict('email_taken', 'An account with this email already exists; sign in instead.', 'email');
      }

      const passwordHash = await hashNew(input.password);
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
          await accounts.reserveUsernameKeys(trx, row.id, lookAlikeKeys);
          await deps.onRegistered(trx, row.id);
        });
      } catch (error) {
        // Two registrations racing for the same name or email: the unique indexes decide.
        if (await usernameTaken()) throw usernameTakenError();
        if (await accounts.emailIndexExists(db, keyring.blindIndexes(email))) {
          throw errors.conflict('email_taken', 'An account with this email already exists; sign in instead.', 'email');
        }
        throw error;
      }
      return presentUser(row);
    },

    /**
     * Checks a username and password from an address: the same error, after the same work,
     * for an unknown user and a wrong password; the attempt is throttled before the check.
     */
    async authenticate(username: string, password: string, address: string): Promise<User> {
      const accountKey = username.trim().toLowerCase();
      const attempt = await throttle.reserve(accountKey, address);
      const row = await accounts.findByUsernameKey(db, accountKey);
      const { ok, needsRehash } = await checkPassword(password, row?.password_hash ?? (await decoyHash), accountKey, attempt);
      if (!row || !ok) throw errors.invalidCredentials();
      await attempt.succeeded();
      if (needsRehash) await accounts.updatePasswordHash(db, row.id, await hashNew(password));
      return presentUser(row);
    },

    /** Changes the password after checking the current one, under the same throttle as sign-in. */
    async changePassword(userId: string, currentPassword: string, newPassword: string, address: string): Promise<void> {
      const row = await accounts.findById(db, userId);
      if (!row) throw errors.authRequired();
      const attempt = await throttle.reserve(row.username_key, address);
      const { ok } = await checkPassword(currentPassword, row.password_hash, row.username_key, attempt);
      if (!ok) throw errors.validation('The current password is wrong.', 'currentPassword');
      await attempt.succeeded();
      const email = keyring.decrypt(row.email_ciphertext, row.email_key_id);
      checkNewPassword(newPassword, 'newPassword', { username: row.username, email });
      if (newPassword === currentPassword) {
        throw errors.validation('The new password must differ from the current one.', 'newPassword');
      }
      await accounts.updatePasswordHash(db, userId, await hashNew(newPassword));
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
