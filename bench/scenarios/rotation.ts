/**
 * 6. Key rotation, in this process: a database seeded with N messages under key A, then
 * `createKeysService(...).rotate()` with key B primary and A as fallback — the work of
 * `securechat keys rotate` — timed from start to end (batches of 500, each row replaced
 * by its guarded UPDATE).
 */
import { systemClock } from '../../src/server/clock.js';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { openDatabase } from '../../src/server/db/database.js';
import { createKeysRepository } from '../../src/server/keys/keys.repository.js';
import { createKeysService } from '../../src/server/keys/keys.service.js';
import { atLeast } from '../lib/report.js';
import { fail, newResult, type Scenario } from '../lib/scenario.js';
import { seedMessages, seedRooms, seedUsers } from '../lib/seed.js';
import { formatNumber, progress } from '../lib/util.js';

export const rotationScenario: Scenario = {
  id: 'rotation',
  title: 'Key rotation',
  limitMs: (ctx) => (ctx.quick ? 45_000 : 300_000),
  async run(ctx, scope, emit) {
    const total = ctx.quick ? 10_000 : 100_000;
    const began = Date.now();
    const result = newResult(ctx, 'rotation', `Key rotation: ${formatNumber(total)} messages`);
    const instance = await scope.instance('rotation');
    progress(`${result.name}: seeding`);
    await instance.seed(async (seed) => {
      const users = await seedUsers(seed, 'rot', 2, { sessions: false });
      const [room] = await seedRooms(seed, 'rotation-room', [users.map((u) => u.id)]);
      await seedMessages(seed, room!, users.map((u) => u.id), total);
    });
    const keyring = createKeyring(generateFernetKey(), [instance.masterKey]);
    const handle = openDatabase(instance.database.target);
    try {
      const keys = createKeysService({ db: handle.db, keys: createKeysRepository(handle.dialect), keyring, clock: systemClock });
      progress(`${result.name}: rotating`);
      const started = performance.now();
      const outcome = await keys.rotate();
      const seconds = (performance.now() - started) / 1000;
      if (outcome.remaining !== 0) fail(result, `${outcome.remaining} ciphertexts were left under the old key`);
      if (outcome.reencrypted < total) fail(result, `re-encrypted ${outcome.reencrypted} rows, fewer than the ${total} messages`);
      const sample = await handle.db.selectFrom('messages').select(['body_ciphertext', 'body_key_id']).limit(1).executeTakeFirstOrThrow();
      if (!keyring.decrypt(sample.body_ciphertext, sample.body_key_id ?? undefined).startsWith('seed message')) fail(result, 'a rotated body does not decrypt to its text');
      const perSec = outcome.reencrypted / seconds;
      const sentText = `rotate() over ${formatNumber(total)} messages (100 B bodies) + ${2} emails, ${ctx.databases.dialect === 'sqlite' ? 'SQLite file' : 'PostgreSQL'}`;
      const receivedText = `${formatNumber(outcome.reencrypted)} rows re-encrypted in ${seconds.toFixed(1)} s; ${outcome.remaining} left`;
      result.figures.push({ figure: 're-encrypted/s', value: perSec, unit: '/s', target: atLeast(perSec, 20_000), sent: sentText, received: receivedText });
      result.details = { messages: total, reencrypted: outcome.reencrypted, remaining: outcome.remaining, seconds: Number(seconds.toFixed(2)), perSec: Math.round(perSec) };
    } finally {
      await handle.close();
    }
    result.durationMs = Date.now() - began;
    emit(result);
  },
};
