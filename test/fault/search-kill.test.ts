/**
 * `kill -9` of the server while it builds its search index, on SQLite: the real server runs
 * as a process on a database seeded with enough messages (straight into the table, under
 * the server's key) that the start-up build takes a moment; once GET /search answers 503
 * "being built" it gets SIGKILL. Started again on the same data it answers 200 once built,
 * with exactly what a brute-force scan of the seeded corpus expects (the index is memory
 * only: nothing half-built survives). And `securechat search reindex` prints its progress
 * and "Indexed N messages" with N every message, and exits 0.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase } from '../../src/server/db/database.js';
import type { Message } from '../../src/shared/protocol.js';
import { createRoom, inviteInto, sendMessage, signUp } from '../support/factories.js';
import { exitWithin, Resources, waitUntil } from '../support/process.js';
import { corpusEntry, expectedKeys, keyOf, search, searchKeys, type CorpusMessage } from '../support/search.js';

/** Enough that the build outlasts a few polls (SQLite reads and decrypts fast). */
const SEEDED = 60_000;
const COMMON = ['alpha', 'beta', 'gamma', 'delta', 'Épsilon', 'zeta', 'ETA', 'theta'];
/** A word of the seeded body of message i (none but these queries look for). */
const rare = (i: number) => [i % 1000 === 7 ? 'quokka' : '', i % 1500 === 11 ? 'Numbat,' : ''].join(' ');

describe('kill -9 while the search index is built', { timeout: 240_000 }, () => {
  const resources = new Resources();
  afterAll(async () => resources.dispose());

  it('on sqlite: started again, it answers what the corpus holds; securechat search reindex counts every message', async () => {
    const { dataDir, env: baseEnv, target } = await resources.dataFor('sqlite');
    const key = generateFernetKey();
    const env = { ...baseEnv, MASTER_ENCRYPTION_KEY: key, RATE_LIMIT_SEARCH_PER_MINUTE: '1000000', SESSION_IDLE_HOURS: '87600' };

    // Users, rooms and a few messages through the API; then the server is stopped.
    const first = await resources.startServer(env, dataDir);
    const alice = await signUp(first.url, `alice_${randomUUID().slice(0, 6)}`, { rememberMe: true });
    const bob = await signUp(first.url, `bob_${randomUUID().slice(0, 6)}`, { rememberMe: true });
    const shared = await createRoom(first.url, alice);
    await inviteInto(first.url, alice, shared.id, bob);
    const own = await createRoom(first.url, alice);
    const notHers = await createRoom(first.url, bob);
    const corpus = new Map<string, CorpusMessage>();
    const sent: Message[] = [
      await sendMessage(first.url, alice, shared.id, 'quokka sent over the API'),
      await sendMessage(first.url, bob, shared.id, 'Numbat and QUOKKA from bob'),
      await sendMessage(first.url, bob, notHers.id, 'quokka alice never sees'),
    ];
    for (const message of sent) corpus.set(keyOf(message), corpusEntry(message));
    first.proc.child.kill('SIGTERM');
    await exitWithin(first.proc, 20_000);

    // Seeded behind the API, under the same key, spread over the three rooms.
    const keyring = createKeyring(key);
    const handle = openDatabase(target);
    try {
      const rooms = [shared.id, own.id, notHers.id];
      const lastSeq = new Map(rooms.map((id) => [id, id === shared.id ? 2 : id === notHers.id ? 1 : 0]));
      const base = Date.now();
      await handle.db.transaction().execute(async (trx) => {
        for (let start = 0; start < SEEDED; start += 500) {
          const values = Array.from({ length: Math.min(500, SEEDED - start) }, (_, k) => {
            const i = start + k;
            const roomId = rooms[i % rooms.length]!;
            const seq = lastSeq.get(roomId)! + 1;
            lastSeq.set(roomId, seq);
            const sender = roomId === own.id || i % 2 === 0 ? alice : bob;
            const body = `${COMMON[i % COMMON.length]} ${COMMON[(i * 7) % COMMON.length]} ${rare(i)} n${i}`;
            const token = keyring.encrypt(body);
            const createdAt = base + Math.floor(i / 3);
            corpus.set(`${roomId}/${seq}`, { roomId, seq, senderUsername: sender.user.username, body, createdAt, hasFile: false });
            return { id: randomUUID(), room_id: roomId, seq, sender_id: sender.user.id, client_id: randomUUID(), body_format: 'fernet', body_ciphertext: token.ciphertext, body_key_id: token.keyId, created_at: createdAt, edited_at: null };
          });
          await trx.insertInto('messages').values(values).execute();
        }
        for (const [id, seq] of lastSeq) await trx.updateTable('rooms').set({ last_seq: seq }).where('id', '=', id).execute();
      });
    } finally {
      await handle.close();
    }

    // Started on the big database: killed while it still answers "being built".
    const building = await resources.startServer(env, dataDir);
    const refusal = await waitUntil('a 503 while the index is built', 30_000, async () => {
      const answer = await search(building.url, alice, { q: 'quokka' });
      if (answer.status === 200) throw new Error('the index was built before a 503 was seen: seed more messages');
      return answer.status === 503 && answer;
    }, 5);
    building.proc.child.kill('SIGKILL');
    const killed = await exitWithin(building.proc, 10_000);
    expect(killed.signal).toBe('SIGKILL');
    expect(refusal.body.error).toMatchObject({ code: 'search_index_building', message: expect.stringMatching(/being built \(\d+% done\)/) });
    expect(refusal.headers.get('retry-after')).toBe('5');
    expect(building.proc.stdout).not.toContain('search index built');

    // Started again: once built, exactly the scan's answer.
    const again = await resources.startServer(env, dataDir);
    let last = '';
    await waitUntil('the rebuilt index answers', 120_000, async () => {
      const answer = await search(again.url, alice, { q: 'quokka' });
      last = `${answer.status} ${answer.text}`;
      return answer.status === 200;
    }, 100).catch((error: unknown) => {
      throw new Error(`${String(error)}; last answer ${last}; server stderr: ${again.proc.stderr.slice(-2000)}`);
    });
    const aliceRooms = [shared.id, own.id];
    for (const q of ['quokka', 'QUOKKA numb', 'numbat', 'n12345', `from:${bob.user.username.toUpperCase()} quokka`, 'THETA béta quok', 'épsilon n4']) {
      const expected = expectedKeys(corpus.values(), q, aliceRooms);
      expect(expected.length, q).toBeGreaterThan(0);
      expect(await searchKeys(again.url, alice, { q, limit: 100 }), q).toEqual(expected);
    }
    expect(await searchKeys(again.url, bob, { q: 'alice never' })).toEqual(expectedKeys(corpus.values(), 'alice never', [shared.id, notHers.id]));

    // The CLI builds its own index from the same data: progress on stderr, the count on stdout.
    const reindex = await resources.cli(['search', 'reindex'], env, dataDir, 180_000);
    expect(reindex.code, reindex.stderr + reindex.stdout).toBe(0);
    expect(reindex.stderr).toMatch(/Indexing \[[#.]+\] \d+\/\d+ \(\d+%\)/);
    expect(reindex.stderr).toContain(`${corpus.size}/${corpus.size} (100%)`);
    expect(reindex.stdout).toContain(`Indexed ${corpus.size} messages`);
  });
});
