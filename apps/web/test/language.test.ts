import { describe, expect, it } from 'vitest';
import { classify } from '../src/model/language';

describe('scenario highlighting', () => {
  it('classifies the words of a statement like the parser reads them', () => {
    const words = 'A: mmap heap 4 anon private'.split(' ');
    expect(words.map((w, i) => classify(w, i))).toEqual([
      'labelName',
      'keyword',
      'variableName',
      'number',
      'atom',
      'atom',
    ]);
    expect(classify('spawn', 0)).toBe('keyword');
    expect(classify('0..3', 3)).toBe('number');
    expect(classify('6.12', 2)).toBe('number');
    expect(classify('file:data', 3)).toBe('string');
    expect(classify('TTU_MIGRATION', 4)).toBe('atom');
    // Only the flags the parser accepts are atoms.
    expect(classify('TTU_BOGUS', 4)).toBe('variableName');
    expect(classify('unmergeable', 3)).toBe('atom');
    // A statement name used as a region name is not a keyword.
    expect(classify('read', 2)).toBe('variableName');
  });
});
