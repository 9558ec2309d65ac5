/**
 * Versioned migrations, listed here in order (no folder scanning, so the same list
 * works from TypeScript sources and from the compiled build).
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/001-initial.js';
import * as presence from './migrations/002-presence.js';
import * as roomBans from './migrations/003-room-bans.js';
import * as rateLimitCounters from './migrations/004-rate-limit-counters.js';
import * as attemptBudgets from './migrations/005-attempt-budgets.js';
import * as inviteRevocation from './migrations/006-invite-revocation.js';
import * as nameKeys from './migrations/007-name-keys.js';
import * as directMessages from './migrations/008-direct-messages.js';
import * as messageChanges from './migrations/009-message-changes.js';
import * as repliesMentions from './migrations/010-replies-mentions.js';
import * as roomEvents from './migrations/011-room-events.js';
import * as files from './migrations/012-files.js';
import * as searchState from './migrations/013-search-state.js';
import type { Database } from './schema.js';

const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-presence': presence,
  '003-room-bans': roomBans,
  '004-rate-limit-counters': rateLimitCounters,
  '005-attempt-budgets': attemptBudgets,
  '006-invite-revocation': inviteRevocation,
  '007-name-keys': nameKeys,
  '008-direct-messages': directMessages,
  '009-message-changes': messageChanges,
  '010-replies-mentions': repliesMentions,
  '011-room-events': roomEvents,
  '012-files': files,
  '013-search-state': searchState,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema to the latest version; returns the names of the migrations it ran. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/** Brings the schema up to (and including) the named migration; for upgrade tests. */
export async function migrateTo(db: Kysely<Database>, name: string): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateTo(name);
  if (error) throw error;
}
