/**
 * Which changeSeq a change got. The change bench keeps one change in flight per room, so
 * the room's change counter moves by exactly 1 per accepted change: an edit's answer
 * names its changeSeq, a reaction's (204, no body) is the previous one's plus 1. Every
 * edit's answer checks the count; a mismatch means the numbering (and the latencies
 * timed by it) cannot be trusted, and the scenario fails.
 */
export interface ChangeNumbering {
  /** The room's last known changeSeq (undefined until the first edit answers). */
  last: number | undefined;
  /** Edits whose answered changeSeq was not the previous one plus 1. */
  mismatches: number;
  /** Reactions accepted before any changeSeq was known (not timed). */
  unknown: number;
}

/** Numbers one accepted change (`answered`: an edit's changeSeq from its answer); returns its changeSeq, if known. */
export function numberChange(state: ChangeNumbering, answered: number | undefined, isEdit: boolean): number | undefined {
  if (isEdit) {
    if (answered === undefined) {
      state.mismatches += 1;
      state.last = undefined;
      return undefined;
    }
    if (state.last !== undefined && answered !== state.last + 1) state.mismatches += 1;
    state.last = answered;
    return answered;
  }
  if (state.last === undefined) {
    state.unknown += 1;
    return undefined;
  }
  state.last += 1;
  return state.last;
}
