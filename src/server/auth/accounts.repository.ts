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
