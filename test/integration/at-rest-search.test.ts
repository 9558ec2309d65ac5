/**
 * Search leaves nothing readable at rest (issue 17: the index lives in memory only). On both
 * databases: a message of distinctive words is sent, found by search (so the index holds
 * it), edited to other distinctive words, searched again (the old words find nothing, the
 * new ones find it), and a second message is found and deleted. Then every row of every
 * table, the data folder and (SQLite) the database file, its WAL and its shared memory are
 * scanned for each word of every version in the encodings a careless store would use:
 * as typed, lower and upper case, base64 (at each alignment), hex and UTF-16.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { SearchPage } from '../../src/shared/search-shapes.js';
import { apiClient, as, signUp, startTestApp, type Session, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { sendMessage } from '../support/factories.js';
import { messageChanges } from '../support/message-changes.js';

/** Every file under `folder`, as latin1 text (bytes kept one to one). */
async function folderBytes(folder: string): Promise<string> {
  if (!existsSync(folder)) return '';
  const parts: string[] = [];
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push((await readFile(path.join(entry.parentPath, entry.name))).toString('latin1'));
  }
  return parts.join('\n');
}

/** Every row of every table, each value as text (binary values byte for byte, as latin1). */
async function everyRow(t: TestApp): Promise<{ tables: string[]; text: string }> {
  const db = t.database.db;
  const tables =
    t.database.dialect === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows.map((r) => r.name)
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db)).rows.map((r) => r.name);
  const parts: string[] = [];
  for (const table of tables) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db)).rows;
    for (const row of rows) {
      parts.push(
        `${table}: ${Object.values(row)
          .map((value) => (Buffer.isBuffer(value) ? value.toString('latin1') : value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : JSON.stringify(value)))
          .join(' ')}`,
      );
    }
  }
  return { tables, text: parts.join('\n') };
}

/** The forms a word could be stored in, as latin1 text to look for in raw bytes. */
function encodingsOf(word: string): string[] {
  const forms = new Set<string>();
  for (const variant of [word, word.toLowerCase(), word.toUpperCase()]) {
    const bytes = Buffer.from(variant, 'utf8');
    forms.add(bytes.toString('latin1'));
    forms.add(bytes.toString('hex'));
    forms.add(bytes.toString('hex').toUpperCase());
    forms.add(Buffer.from(variant, 'utf16le').toString('latin1'));
    forms.add(Buffer.from(variant, 'utf16le').swap16().toString('latin1'));
    // Base64 of the word inside a longer text: at each of the three alignments, the characters
    // that depend on the word alone (the first and last few depend on its neighbours).
    for (const pad of [0, 1, 2]) {
      const encoded = Buffer.concat([Buffer.alloc(pad, 0x20), bytes]).toString('base64').replace(/=+$/, '');
      const inner = encoded.slice(pad === 0 ? 0 : 4, -4);
      if (inner.length >= 8) {
        forms.add(inner);
        forms.add(inner.replace(/\+/g, '-').replace(/\//g, '_'));
      }
    }
  }
  return [...forms];
}

describe('the at-rest scan of search words', () => {
  it('recognizes a word stored plainly, in either case, as hex, as UTF-16 or as base64 at any offset', () => {
    const word = 'Zorbulon1234abcd';
    const found = (stored: string) => encodingsOf(word).some((form) => stored.includes(form));
    for (const before of ['', 'a', 'ab', 'abc', 'x '.repeat(7)]) {
      const text = Buffer.from(`${before}${word} and more`);
      expect(found(text.toString('base64')), `base64 after ${JSON.stringify(before)}`).toBe(true);
      expect(found(text.toString('base64url'))).toBe(true);
    }
    expect(found(`["${word.toLowerCase()}"]`)).toBe(true);
    expect(found(Buffer.from(word.toUpperCase()).toString('hex'))).toBe(true);
    expect(found(Buffer.from(`x${word}`, 'utf16le').toString('latin1'))).toBe(true);
    expect(found(Buffer.from('Zorbulon', 'utf8').toString('base64'))).toBe(false);
  });
});

describe.each(DIALECTS)('search at rest on %s', (dialect) => {
  it('leaves no word of a searched, edited or deleted message in any table, the data folder or the SQLite files, in any common encoding', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'securechat-at-rest-search-'));
    const t = await startTestApp(dialect, { DATA_DIR: folder, FILES_DIR: path.join(folder, 'files'), FILE_STORAGE: 'local' });
    const tag = randomBytes(4).toString('hex');
    // Distinctive words, mixed case and one with an accent (the index folds them: the folded form is looked for too).
    const original = [`Zorbulon${tag}`, `quixtrelPlum${tag}`, `Vélocirex${tag}`];
    const edited = [`Marzipanoct${tag}`, `glimmerWomp${tag}`];
    const deleted = [`Thrumbleduck${tag}`];
    const all = [...original, ...edited, ...deleted];
    let rows = { tables: [] as string[], text: '' };
    try {
      const alice: Session = await signUp(t.app);
      const room = await apiClient(() => t.app).createRoom(alice, { isPrivate: true });
      const api = messageChanges(t.app);
      const search = async (q: string) => {
        const response = await t.app.inject({ method: 'GET', url: `/api/v1/search?q=${encodeURIComponent(q)}&roomId=${room.id}`, headers: as(alice) });
        expect(response.statusCode, response.body).toBe(200);
        return (response.json() as SearchPage).results.map((r) => r.message.seq);
      };
      const kept = await sendMessage(t.app, alice, room.id, `the plan: ${original.join(' and ')}!`);
      const doomed = await sendMessage(t.app, alice, room.id, `also ${deleted[0]} tonight`);
      for (const word of original) expect(await search(word.toLowerCase())).toEqual([kept.seq]);
      expect(await search('velocirex plan')).toEqual([]); // a word before the last needs the whole word…
      expect(await search(`VELOCIREX${tag} plan`)).toEqual([kept.seq]); // …accents and case aside
      expect(await search(deleted[0]!)).toEqual([doomed.seq]);

      await api.edited(alice, room.id, kept.seq, `new plan: ${edited.join(', ')}`);
      expect(await search(original[0]!)).toEqual([]);
      expect(await search(edited.join(' '))).toEqual([kept.seq]);
      expect((await api.remove(alice, room.id, doomed.seq)).status).toBe(204);
      expect(await search(deleted[0]!)).toEqual([]);

      rows = await everyRow(t);
      expect(rows.tables).toEqual(expect.arrayContaining(['messages', 'message_edits', 'search_state']));
      expect(rows.text).toMatch(/gAAAAA[A-Za-z0-9_-]{40,}/); // the bodies are there, as Fernet tokens
      await t.app.close();
      await t.database.close();

      const raw = [rows.text, await folderBytes(folder)];
      const target = t.testDatabase.target;
      if (target.dialect === 'sqlite') {
        const files = [target.file, `${target.file}-wal`, `${target.file}-shm`].filter(existsSync);
        raw.push(...(await Promise.all(files.map(async (file) => (await readFile(file)).toString('latin1')))));
        expect(files).toContain(target.file);
      }
      const haystack = raw.join('\n');
      const folded = all.map((word) => word.normalize('NFKD').replace(/\p{M}/gu, ''));
      const found = [...all, ...folded].flatMap((word) => encodingsOf(word).filter((form) => haystack.includes(form)).map((form) => `${word} as ${JSON.stringify(form)}`));
      expect(found).toEqual([]);
      // Nor the tag itself, the part every word shares, in any of those forms.
      expect(encodingsOf(tag.repeat(2)).filter((form) => haystack.includes(form))).toEqual([]);
    } finally {
      await t.close().catch(() => undefined);
      await t.testDatabase.drop().catch(() => undefined);
      await rm(folder, { recursive: true, force: true });
    }
  });
});
