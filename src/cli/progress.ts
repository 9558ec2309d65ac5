/** A one-line progress bar on stderr (redrawn in place on a terminal, one line per 10% otherwise). */
export function createProgressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  let lastDecile = -1;
  const width = 30;
  return {
    update(done: number, total: number): void {
      const fraction = total === 0 ? 1 : Math.min(1, done / total);
      const text = `${label} [${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] ${done}/${total} (${Math.floor(fraction * 100)}%)`;
      if (stream.isTTY) {
        stream.write(`\r${text}`);
        return;
      }
      const decile = Math.floor(fraction * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`${text}\n`);
      }
    },
    finish(): void {
      if (stream.isTTY) stream.write('\n');
    },
  };
}
