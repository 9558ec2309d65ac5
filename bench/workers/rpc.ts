/** The worker side of bench/lib/workers.ts: answers the runner's requests by name. */

type Handler = (payload: never) => unknown;

export function serve(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('bench workers are started by bench/run.ts (they need an IPC channel)');
  const reply = (message: object) => process.send?.(message);
  process.on('message', (message: { id: number; cmd: string; payload: never }) => {
    if (message.cmd === 'exit') {
      void Promise.resolve(handlers.exit?.(message.payload)).finally(() => process.exit(0));
      return;
    }
    if (message.cmd === 'ready') return reply({ id: message.id, ok: true, result: process.pid });
    const handler = handlers[message.cmd];
    if (!handler) return reply({ id: message.id, ok: false, error: `unknown command ${message.cmd}` });
    Promise.resolve()
      .then(() => handler(message.payload))
      .then(
        (result) => reply({ id: message.id, ok: true, result }),
        (error: unknown) => reply({ id: message.id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
      );
  });
  // The runner going away must not leave clients behind.
  process.on('disconnect', () => process.exit(0));
}
