/** "alice is typing…", in a fixed-height line so the layout doesn't jump. */
export function TypingIndicator({ names }: { names: readonly string[] }) {
  return (
    <div class="typing-indicator small text-body-secondary px-3" data-testid="typing">
      {describeTyping(names)}
    </div>
  );
}

function describeTyping(names: readonly string[]): string {
  const [first, second] = names;
  if (!first) return '';
  if (!second) return `${first} is typing…`;
  if (names.length === 2) return `${first} and ${second} are typing…`;
  return 'Several people are typing…';
}
