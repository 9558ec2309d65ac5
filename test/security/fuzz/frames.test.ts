/**
 * Bad input over the socket (issue 4): malformed frames of every type from a seeded PRNG.
 * Every malformed frame gets exactly one `error` frame (a `ping` after each one is the
 * barrier), the socket stays open, and nothing is stored. Frames the WebSocket protocol
 * itself forbids (over the 64 KiB frame limit, invalid UTF-8 text) close the socket with
 * the RFC 6455 codes 1009 and 1007 instead.
 */
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../../src/shared/protocol.js';
import { DIALECTS } from '../../support/databases.js';
import { WS_PATH } from '../../support/ws-client.js';
import { changedTables, createRandom, errorBodyProblem, snapshotDatabase, type Random } from '../security-harness.js';
import {
  decodeURIComponentSafe,
  deepArray,
  deepObject,
  MALFORMED_IDS,
  MB,
  NON_OBJECT_JSON,
  NOT_JSON,
  randomId,
  summarize,
  visible,
  WRONG_VALUES,
  type Violation,
} from './mutations.js';
import { useFuzzWorld } from './world.js';

const SEED = 0x5ec0c4a7;
const SEED_TEXT = `0x${SEED.toString(16)}`;
const FRAMES = 600;

describe.each(DIALECTS)('fuzzing frames on %s', (dialect) => {
  const w = useFuzzWorld(dialect);

  interface FrameCase {
    kind: string;
    data: string | Buffer;
    binary?: boolean;
    /** 'error': exactly one error frame; 'any': an ack, an error or nothing. */
    expect: 'error' | 'any';
  }

  function generateFrame(random: Random): FrameCase {
    const send = (fields: Record<string, unknown>) => ({ type: 'send', roomId: w.room.id, body: 'fuzz frame', clientId: `f${random.int(0, 1e9)}`, ...fields });
    const kind = random.pick([
      'not-json',
      'non-object',
      'unknown-type',
      'send-missing',
      'send-wrong-type',
      'send-over-limit',
      'send-under-limit',
      'send-bad-room',
      'send-others-room',
      'send-bad-reply',
      'send-bad-attachments',
      'typing-missing',
      'typing-wrong-type',
      'typing-over-limit',
      'typing-bad-room',
      'deep',
      'proto',
      'binary-garbage',
      'ping-extra',
    ]);
    const json = (value: unknown): FrameCase => ({ kind, data: JSON.stringify(value), expect: 'error' });
    switch (kind) {
      case 'not-json':
        return { kind, data: random.pick([...NOT_JSON, '', ' ', 'ping', '{"type":"ping"']), expect: 'error' };
      case 'non-object':
        return { kind, data: random.pick([...NON_OBJECT_JSON, '["ping"]', '[{"type":"ping"}]', '"ping"']), expect: 'error' };
      case 'unknown-type':
        return json({ type: random.pick(['sned', 'PING', 'Send', '', ' ping', 'hello', 'ack', 'message', 'error', 'pong', 'presence', 'member', 1, null, true, ['ping'], { ping: 1 }]) });
      case 'send-missing': {
        const frame = send({});
        delete (frame as Record<string, unknown>)[random.pick(['roomId', 'body', 'clientId'])];
        return json(frame);
      }
      case 'send-wrong-type':
        return json(send({ [random.pick(['roomId', 'body', 'clientId'])]: random.pick(WRONG_VALUES.string) }));
      case 'send-over-limit':
        return json(send(random.pick([{ roomId: 'x'.repeat(65) }, { clientId: 'x'.repeat(65) }, { body: 'x'.repeat(4_001) }, { body: 'x'.repeat(60_000) }])));
      case 'send-under-limit':
        return json(send(random.pick([{ clientId: '' }, { body: '' }, { body: '   ' }, { body: '\n\t' }])));
      case 'send-bad-room':
        return json(send({ roomId: random.pick([...MALFORMED_IDS.filter((id) => id.length <= 64).map((id) => decodeURIComponentSafe(id)), randomId(random), '\u0000', 'a\u0000b']) }));
      case 'send-others-room':
        return json(send({ roomId: random.pick([w.othersPrivate.id, w.othersPublic.id]) }));
      case 'send-bad-reply':
        // Wrong types, out of bounds, or a seq no message of this room has.
        return json(send({ replyTo: random.pick([0, -1, 1.5, '1', null, true, [1], { seq: 1 }, 2 ** 53, 1e9, random.int(100_000, 1e9)]) }));
      case 'send-bad-attachments':
        // Malformed lists (also with the empty body only files allow), or files one may not attach:
        // someone else's, another room's, one already sent, an id nobody has, repeats, too many.
        return json(
          send({
            ...(random.int(0, 1) === 0 ? { body: '' } : {}),
            attachments: random.pick([
              ...WRONG_VALUES.array,
              [],
              [random.pick(w.unattachable)],
              [randomId(random)],
              [w.unattachable[0], w.unattachable[0]],
              Array.from({ length: 11 }, () => randomId(random)),
              '\u0000',
              ['a\u0000b'],
            ]),
          }),
        );
      case 'typing-missing':
        return json({ type: 'typing' });
      case 'typing-wrong-type':
        return json({ type: 'typing', roomId: random.pick(WRONG_VALUES.string) });
      case 'typing-over-limit':
        return json({ type: 'typing', roomId: 'x'.repeat(65) });
      case 'typing-bad-room':
        // Typing into a room one is not in is dropped without an answer (it is not malformed).
        return { kind, data: JSON.stringify({ type: 'typing', roomId: random.pick([w.othersPrivate.id, randomId(random), '\u0000']) }), expect: 'any' };
      case 'deep':
        return {
          kind,
          data: random.pick([deepArray(10_000), deepObject(10_000), `{"type":"send","roomId":${deepArray(10_000)},"body":"x","clientId":"c"}`, `{"type":"typing","roomId":${deepObject(9_000)}}`]),
          expect: 'error',
        };
      case 'proto':
        return { kind, data: random.pick(['{"__proto__":{"type":"ping"}}', '{"constructor":{"prototype":{"type":"ping"}}}']), expect: 'error' };
      case 'binary-garbage':
        return { kind, data: Buffer.from(Array.from({ length: random.int(1, 64) }, () => random.int(0, 255)).concat([0xff])), binary: true, expect: 'error' };
      default:
        return { kind, data: JSON.stringify({ type: 'ping', extra: deepArray(100), clientId: 5 }), expect: 'any' };
    }
  }

  it(
    `answers ${FRAMES} generated malformed frames (seed ${SEED_TEXT}) with one error frame each, keeps the socket open and stores nothing`,
    async () => {
      const random = createRandom(SEED ^ 0xf4a3e5);
      const client = await w.connect();
      const violations: Violation[] = [];
      let snapshot = await snapshotDatabase(w.t.database.db);
      const answers = (f: ServerFrame) => f.type === 'error' || f.type === 'ack' || f.type === 'pong';

      for (let i = 0; i < FRAMES; i++) {
        const c = generateFrame(random);
        const from = client.frames.length;
        client.socket.send(c.data, { binary: c.binary === true });
        client.send({ type: 'ping' });
        let pongAt: number;
        try {
          await client.waitFor((f) => f.type === 'pong', { since: from, timeoutMs: 5_000 });
          pongAt = client.frames.findIndex((f, index) => index >= from && f.type === 'pong');
        } catch (error) {
          violations.push({ group: `[${c.kind}] no pong after the frame (socket ${client.socket.readyState === WebSocket.OPEN ? 'open' : 'closed'})`, example: String(c.data).slice(0, 200) });
          break;
        }
        const replies = client.frames.slice(from, pongAt).filter(answers);
        const sample = visible(`${String(c.data).slice(0, 160)} → ${JSON.stringify(replies).slice(0, 300)}`);
        const errors = replies.filter((f): f is Extract<ServerFrame, { type: 'error' }> => f.type === 'error');
        if (c.expect === 'error' && (replies.length !== 1 || errors.length !== 1)) {
          violations.push({ group: `[${c.kind}] expected exactly one error frame, got ${replies.map((f) => f.type).join(', ') || 'nothing'}`, example: sample });
        }
        for (const error of errors) {
          const extra = Object.keys(error).filter((key) => !['type', 'clientId', 'error'].includes(key));
          const problem = errorBodyProblem({ error: error.error }) ?? (extra.length > 0 ? `extra keys ${extra.join(', ')}` : undefined);
          if (problem) violations.push({ group: `[${c.kind}] error frame not in the error shape: ${problem}`, example: sample });
          if (error.error.code === 'internal_error') violations.push({ group: `[${c.kind}] internal_error (a 5xx) for a client's frame`, example: sample });
        }
        const after = await snapshotDatabase(w.t.database.db);
        const changed = changedTables(snapshot, after);
        if (errors.length > 0 && changed.length > 0) violations.push({ group: `[${c.kind}] refused but changed ${changed.join(', ')}`, example: sample });
        snapshot = after;
      }

      expect(client.socket.readyState, 'the socket is still open').toBe(WebSocket.OPEN);
      expect(summarize(violations)).toEqual([]);
    },
    120_000,
  );

  async function rawSocket(): Promise<{ socket: WebSocket; closed: Promise<number> }> {
    const socket = new WebSocket(`${w.base.replace(/^http/, 'ws')}${WS_PATH}`, { headers: { cookie: w.fuzzer.cookie, origin: w.base } });
    socket.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('unexpected-response', () => reject(new Error('refused')));
    });
    return { socket, closed };
  }

  it('closes a socket sent a 1 MB frame with 1009 (message too big), stores nothing, and keeps serving', async () => {
    const before = await snapshotDatabase(w.t.database.db);
    const { socket, closed } = await rawSocket();
    socket.send(JSON.stringify({ type: 'send', roomId: w.room.id, body: 'x'.repeat(MB), clientId: 'one-megabyte' }));
    expect(await closed).toBe(1009);
    expect(changedTables(before, await snapshotDatabase(w.t.database.db))).toEqual([]);
    const next = await w.connect();
    next.send({ type: 'ping' });
    await next.waitFor((f) => f.type === 'pong');
  });

  it('closes a socket sent a text frame of invalid UTF-8 with 1007, and stores nothing', async () => {
    const before = await snapshotDatabase(w.t.database.db);
    const { socket, closed } = await rawSocket();
    // ws refuses to send invalid text itself: frame it by hand (masked, as a client must).
    const Sender = (WebSocket as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } }).Sender;
    const frame = Sender.frame(Buffer.concat([Buffer.from('{"type":"send","roomId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), {
      fin: true,
      rsv1: false,
      opcode: 1,
      mask: true,
      readOnly: false,
    });
    (socket as unknown as { _sender: { sendFrame(list: Buffer[]): void } })._sender.sendFrame(frame);
    expect(await closed).toBe(1007);
    expect(changedTables(before, await snapshotDatabase(w.t.database.db))).toEqual([]);
  });
});
