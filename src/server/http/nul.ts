/**
 * PostgreSQL text cannot hold U+0000 (SQLSTATE 22021) and no field of ours has a use for
 * it: refuse it at the edge, on both databases alike. Iterative, so 10,000 levels of
 * nesting cannot overflow the stack.
 */
export function findNul(value: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return path || 'value';
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) stack.push([child, path ? `${path}.${key}` : key]);
    }
  }
  return undefined;
}
