/**
 * Below the API's own check: the message store attaches files in the send's transaction,
 * each only if it is still attachable, on SQLite (the writer thread) and PostgreSQL (one
 * statement in a transaction). A batch naming a taken file stores nothing; the group
 * commit then writes its messages one by one, so only the send that lost the file fails;
 * two transactions at once naming one file: exactly one commits it. And a delete that
 * released files calls onFilesReleased once it has committed.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachmentUnavailableError } from '../../src/server/messages/message-batch.js';
import { createMessageStore } from '../../src/server/messages/message-store.js';
import { createMessageWriter } from '../../src/server/messages/message-writer.js';
import type { MessageStore } from '../../src/server/messages/message-batch.js';
import { composeMessages } from '../../src/server/messages/compose-messages.js';
import { createMetrics } from '../../src/server/http/metrics.js';
import { createRateLimiter } from '../../src/server/http/rate-limit.js';
import { createMemoryBus } from '../../src/server/platform/cluster/bus.js';
import { createMemoryCounterStore } from '../../src/server/platform/cluster/counters.js';
import { signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { createRoom, newMessageRow } from '../support/factories.js';
import { fileRow, storedUpload, testFilesDir } from '../support/stored-uploads.js';

describe.each(DIALECTS)('the message store attaching files on %s', (dialect) => {
  const filesDir = testFilesDir();
  const t = useTestApp(dialect, { FILES_DIR: filesDir });
  let alice: Session;
  let bob: Session;
  let roomId: string;
  const stores: MessageStore[] = [];
  const store = () => {
    const opened = createMessageStore(t.database);
    stores.push(opened);
    return opened;
  };

  beforeAll(async () => {
    alice = await signUp(t.app);
    bob = await signUp(t.app);
    roomId = (await createRoom(t.app, alice)).id;
  });
  afterAll(async () => {
    for (const opened of stores) await opened.close();
    await rm(filesDir, { recursive: true, force: true });
  });

  const row = (who: Session, attachments?: string[]) => ({ ...newMessageRow(roomId, who.user.id), ...(attachments ? { attachments } : {}) });
  const count = async () =>
    Number((await t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow()).n);
  const upload = (who: Session) => storedUpload(t, { roomId, uploaderId: who.user.id });

  it('attaches in the batch’s transaction, and a batch naming one file twice stores nothing', async () => {
    const messages = store();
    const file = await upload(alice);
    const before = await count();
    await expect(messages.insertBatch([row(alice, [file.id]), row(bob), row(alice, [file.id])])).rejects.toEqual(new AttachmentUnavailableError(file.id));
    expect(await count()).toBe(before);
    expect(await fileRow(t, file.id)).toEqual({ state: 'stored', message_seq: null });

    const [seq] = await messages.insertBatch([row(alice, [file.id])]);
    expect(await fileRow(t, file.id)).toEqual({ state: 'stored', message_seq: seq });
    expect(await count()).toBe(before + 1);
  });

  it('refuses, below any check, a file of another sender or one not finished, rolling the message back', async () => {
    const messages = store();
    const bobs = await upload(bob);
    const unfinished = await upload(alice);
    await t.database.db.updateTable('files').set({ state: 'uploading' }).where('id', '=', unfinished.id).execute();
    const before = await count();
    await expect(messages.insertBatch([row(alice, [bobs.id])])).rejects.toBeInstanceOf(AttachmentUnavailableError);
    await expect(messages.insertBatch([row(alice, [unfinished.id])])).rejects.toBeInstanceOf(AttachmentUnavailableError);
    expect(await count()).toBe(before);
    expect(await fileRow(t, bobs.id)).toEqual({ state: 'stored', message_seq: null });
  });

  it('fails only the send that lost the file when a group commit holds both', async () => {
    const writer = createMessageWriter(store());
    const file = await upload(alice);
    const results = await Promise.allSettled([writer.write(row(alice, [file.id])), writer.write(row(bob)), writer.write(row(alice, [file.id]))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toEqual(new AttachmentUnavailableError(file.id));
    const winner = (results[0] as PromiseFulfilledResult<{ stored: true; seq: number }>).value;
    expect(await fileRow(t, file.id)).toEqual({ state: 'stored', message_seq: winner.seq });
  });

  it('lets exactly one of two transactions at once (two connections, two instances’ stores) attach a file', async () => {
    const [first, second] = [store(), store()];
    for (let round = 0; round < 5; round += 1) {
      const file = await upload(alice);
      const before = await count();
      const results = await Promise.allSettled([first.insertBatch([row(alice, [file.id])]), second.insertBatch([row(alice, [file.id])])]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
      expect(lost.reason).toEqual(new AttachmentUnavailableError(file.id));
      const [seq] = results.find((r): r is PromiseFulfilledResult<number[]> => r.status === 'fulfilled')!.value;
      expect(await fileRow(t, file.id)).toEqual({ state: 'stored', message_seq: seq });
      expect(await count()).toBe(before + 1);
    }
  });

  it('calls onFilesReleased after a delete that released files has committed, and not for a message without files', async () => {
    const seen: Array<Promise<unknown>> = [];
    const file = await upload(alice);
    const composed = composeMessages({
      config: t.config,
      database: t.database,
      keyring: t.keyring,
      clock: t.clock,
      bus: createMemoryBus(),
      rooms: t.services.rooms,
      limiter: createRateLimiter(createMemoryCounterStore(), t.clock),
      metrics: createMetrics({ poolStats: t.database.poolStats }),
      // Read on another connection: the release must already be committed when it is called.
      onFilesReleased: () => void seen.push(fileRow(t, file.id)),
    });
    stores.push(composed.messageStore);
    const { message } = await composed.messages.send(alice.user, roomId, '', 'released-1', { attachments: [file.id] });
    const { message: plain } = await composed.messages.send(alice.user, roomId, 'no files', 'released-2');
    await composed.messageChanges.remove(alice.user.id, roomId, plain.seq);
    expect(seen).toHaveLength(0);
    await composed.messageChanges.remove(alice.user.id, roomId, message.seq);
    expect(seen).toHaveLength(1);
    expect(await seen[0]).toEqual({ state: 'released', message_seq: message.seq });
  });
});
