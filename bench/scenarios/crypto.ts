/**
 * 5. Crypto, in this process (no server): Fernet encrypt + decrypt of a 100-byte and a
 * 4 KiB body, beside the same primitives done raw through node:crypto — AES-128-CBC with
 * a random IV, then HMAC-SHA256 over IV ‖ ciphertext, then verify and decrypt — with no
 * token framing and no base64. The ratio is Fernet's time over the raw time.
 */
import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { decryptFernet, encryptFernet, FernetKey, generateFernetKey } from '../../src/server/crypto/fernet.js';
import { atMost } from '../lib/report.js';
import { fail, newResult, type Scenario } from '../lib/scenario.js';
import { benchBody } from '../lib/seed.js';
import { formatNumber } from '../lib/util.js';

const ROUNDS = 6;

/** Runs `op` in batches until `ms` have passed; returns operations per second. */
export function opsPerSecond(ms: number, op: () => void): number {
  const batch = 50;
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) op();
    ops += batch;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

export const cryptoScenario: Scenario = {
  id: 'crypto',
  title: 'Crypto',
  limitMs: () => 60_000,
  async run(ctx, _scope, emit) {
    const measureMs = ctx.quick ? 500 : 3_000;
    const keyText = generateFernetKey();
    const key = FernetKey.fromString(keyText);
    const raw = Buffer.from(keyText, 'base64url');
    const signingKey = raw.subarray(0, 16);
    const encryptionKey = raw.subarray(16, 32);

    for (const size of [100, 4096]) {
      const began = Date.now();
      const result = newResult(ctx, `crypto-${size}`, `Crypto: ${size === 100 ? '100 B' : '4 KiB'} body`);
      const text = benchBody('crypto ', size);
      const bytes = Buffer.from(text);

      const fernetRound = () => {
        const token = encryptFernet(key, text);
        decryptFernet(key, token);
      };
      const iv = Buffer.alloc(16);
      // The same primitives with nothing around them: no token framing, no base64, no copies.
      const rawRound = () => {
        randomFillSync(iv);
        const cipher = createCipheriv('aes-128-cbc', encryptionKey, iv);
        const head = cipher.update(bytes);
        const tail = cipher.final();
        const mac = createHmac('sha256', signingKey).update(iv).update(head).update(tail).digest();
        const check = createHmac('sha256', signingKey).update(iv).update(head).update(tail).digest();
        if (!timingSafeEqual(mac, check)) throw new Error('mac');
        const decipher = createDecipheriv('aes-128-cbc', encryptionKey, iv);
        decipher.update(head);
        decipher.update(tail);
        decipher.final();
      };
      // Correctness first, then warm-up, then the timed rounds.
      if (decryptFernet(key, encryptFernet(key, text)).toString() !== text) fail(result, 'Fernet round trip changed the text');
      opsPerSecond(200, fernetRound);
      opsPerSecond(200, rawRound);
      // Short rounds, alternating, best of each: a burst of other work on the machine hits one round, not the figure.
      let fernet = 0;
      let rawOps = 0;
      for (let round = 0; round < ROUNDS; round++) {
        fernet = Math.max(fernet, opsPerSecond(measureMs / ROUNDS, fernetRound));
        rawOps = Math.max(rawOps, opsPerSecond(measureMs / ROUNDS, rawRound));
      }
      const ratio = rawOps / fernet;
      const sentText = `encrypt+decrypt of a ${size} B body, ${(measureMs / 1000).toFixed(1)} s per primitive in ${ROUNDS} alternating rounds (best kept), in the bench process`;
      result.figures.push(
        { figure: 'Fernet encrypt+decrypt/s', value: fernet, unit: '/s', sent: sentText, received: 'round trips' },
        { figure: 'raw AES-128-CBC+HMAC-SHA256/s', value: rawOps, unit: '/s', sent: sentText, received: 'round trips' },
        {
          figure: 'Fernet time ÷ raw time',
          value: ratio,
          unit: '×',
          target: size === 4096 ? atMost(ratio, 2, '×') : undefined,
          sent: sentText,
          received: `${formatNumber(1e6 / fernet)} µs vs ${formatNumber(1e6 / rawOps)} µs per round trip`,
        },
      );
      result.details = { bodyBytes: size, fernetPerSec: Math.round(fernet), rawPerSec: Math.round(rawOps), ratio: Number(ratio.toFixed(2)) };
      result.durationMs = Date.now() - began;
      emit(result);
    }
  },
};
