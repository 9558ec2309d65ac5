/** Who is typing where, from `typing` frames: each entry lapses a few seconds after the last frame. */

const SHOWN_MS = 5_000;

export class TypingTracker {
  /** roomId → userId → display name */
  private readonly names = new Map<string, Map<string, string>>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  /** `onChange` gets the names now typing in the room that changed. */
  constructor(private readonly onChange: (roomId: string, names: string[]) => void) {}

  typing(roomId: string, userId: string, name: string): void {
    const key = `${roomId}\n${userId}`;
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => this.stopped(roomId, userId), SHOWN_MS));
    const room = this.names.get(roomId) ?? new Map<string, string>();
    room.set(userId, name);
    this.names.set(roomId, room);
    this.publish(roomId);
  }

  /** The user stopped typing, e.g. their message arrived. */
  stopped(roomId: string, userId: string): void {
    const key = `${roomId}\n${userId}`;
    if (!this.timers.has(key)) return;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.names.get(roomId)?.delete(userId);
    this.publish(roomId);
  }

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.names.clear();
  }

  private publish(roomId: string): void {
    this.onChange(roomId, [...(this.names.get(roomId)?.values() ?? [])]);
  }
}
