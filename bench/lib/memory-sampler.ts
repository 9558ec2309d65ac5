/**
 * A process's resident memory sampled while something runs: its value before, its peak,
 * and its value after — "does the server's memory stay flat while files stream?".
 */

export interface MemoryWindow {
  beforeBytes: number;
  peakBytes: number;
  afterBytes: number;
  samples: number;
}

/** Starts sampling `read()` (bytes) every `intervalMs`; `stop()` ends it and answers the window. */
export function sampleMemory(read: () => number, intervalMs = 25): { stop(): MemoryWindow } {
  const beforeBytes = read();
  let peakBytes = beforeBytes;
  let samples = 1;
  const take = (): number => {
    const value = read();
    samples += 1;
    if (value > peakBytes) peakBytes = value;
    return value;
  };
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const afterBytes = take();
      return { beforeBytes, peakBytes, afterBytes, samples };
    },
  };
}

/** How much the peak rose above the value before, in MiB (never negative). */
export function growthMiB(window: MemoryWindow): number {
  return Math.max(0, window.peakBytes - window.beforeBytes) / 1024 / 1024;
}
