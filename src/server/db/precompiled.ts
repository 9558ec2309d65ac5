/**
 * Queries built and compiled once, then run with new values. Building a Kysely query and
 * compiling it to SQL costs as much as SQLite takes to answer it; the queries every
 * request makes (who is calling, may they use this room) skip that work after the first
 * call. Only for queries whose shape does not depend on their arguments.
 */
import type { CompiledQuery, Compilable } from 'kysely';
import type { Db } from './schema.js';

/** Stands in for argument `i` while the query is compiled; found again among its parameters. */
const placeholder = (i: number) => `\u0000precompiled-argument-${i}`;

export function precompiled<Args extends string[], Row>(build: (db: Db, ...args: Args) => Compilable<Row>) {
  let compiled: { query: CompiledQuery<Row>; argumentAt: number[] } | undefined;

  function compile(db: Db, arity: number) {
    const args = Array.from({ length: arity }, (_, i) => placeholder(i)) as Args;
    const query = build(db, ...args).compile();
    // Where each parameter comes from: an argument's index, or -1 for a constant of the query.
    const argumentAt = query.parameters.map((value) => args.indexOf(value as string));
    if (args.some((_, i) => !argumentAt.includes(i))) throw new Error('precompiled: an argument is not a parameter of the query');
    return { query, argumentAt };
  }

  return async (db: Db, ...args: Args): Promise<Row[]> => {
    compiled ??= compile(db, args.length);
    const { query, argumentAt } = compiled;
    const parameters = argumentAt.map((at, i) => (at === -1 ? query.parameters[i] : args[at]));
    const result = await db.executeQuery<Row>({ ...query, parameters });
    return result.rows;
  };
}
