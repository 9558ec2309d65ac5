/** The change bench's numbering: a reaction's changeSeq is the previous change's plus 1, checked by every edit's answer. */
import { describe, expect, it } from 'vitest';
import { numberChange, type ChangeNumbering } from '../../bench/lib/change-seqs.js';

const fresh = (): ChangeNumbering => ({ last: undefined, mismatches: 0, unknown: 0 });

describe('numberChange', () => {
  it('takes an edit\'s answered changeSeq and counts reactions on from it', () => {
    const state = fresh();
    expect(numberChange(state, 7, true)).toBe(7);
    expect(numberChange(state, undefined, false)).toBe(8);
    expect(numberChange(state, undefined, false)).toBe(9);
    expect(numberChange(state, 10, true)).toBe(10);
    expect(state).toEqual({ last: 10, mismatches: 0, unknown: 0 });
  });

  it('counts an edit whose changeSeq is not the count so far as a mismatch, and goes on from the answer', () => {
    const state = fresh();
    numberChange(state, 1, true);
    numberChange(state, undefined, false);
    expect(numberChange(state, 5, true)).toBe(5);
    expect(numberChange(state, undefined, false)).toBe(6);
    expect(state.mismatches).toBe(1);
  });

  it('leaves reactions before any known changeSeq unnumbered, and an edit answered without one breaks the count', () => {
    const state = fresh();
    expect(numberChange(state, undefined, false)).toBeUndefined();
    expect(state.unknown).toBe(1);
    numberChange(state, 3, true);
    expect(numberChange(state, undefined, true)).toBeUndefined();
    expect(numberChange(state, undefined, false)).toBeUndefined();
    expect(state).toEqual({ last: undefined, mismatches: 1, unknown: 2 });
  });
});
