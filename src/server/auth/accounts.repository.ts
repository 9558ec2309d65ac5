/** SQL for user accounts. Returns rows; knows nothing of encryption or rules. */
import type { Db, UsersTable } from '../db/schema.js';

export type UserRow = UsersTable;

export function createAccountsRepository() {
  return {
    async insert(db: Db, user: UserRow): Promise<void> {
      await db.insertInto('users').values(user).execute();
    },

    async findById(db: Db, id: string): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async findByUsernameKey(db: Db, usernameKey: string): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('username_key', '=', usernameKey).executeTakeFirst();
    },

    async usernameKeyExists(db: Db, usernameKey: string): Promise<boolean> {
      const row = await db.selectFrom('users').select('id').where('username_key', '=', usernameKey).executeTakeFirst();
      return row !== undefined;
    },

    /** Whether any of these look-alike keys (server/names/name-keys.ts) is held by an account. */
    async usernameKeysTaken(db: Db, keys: readonly string[]): Promise<boolean> {
      const row = await db.selectFrom('username_keys').select('key').where('key', 'in', [...keys]).executeTakeFirst();
      return row !== undefined;
    },

    /** Reserves the account's name keys; a key held already fails the insert (and its transaction). */
    async reserveUsernameKeys(db: Db, userId: string, keys: readonly string[]): Promise<void> {
      await db.insertInto('username_keys').values(keys.map((key) => ({ key, user_id: userId }))).execute();
    },

    /** Any of the blind indexes (one per key in the keyring) matches an account. */
    async emailIndexExists(db: Db, emailIndexes: string[]): Promise<boolean> {
      const row = await db.selectFrom('users').select('id').where('email_index', 'in', emailIndexes).executeTakeFirst();
      return row !== undefined;
    },

    async updatePasswordHash(db: Db, id: string, passwordHash: string): Promise<void> {
      await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
    },
  };
}

export type AccountsRepository = ReturnType<typeof createAccountsRepository>;
