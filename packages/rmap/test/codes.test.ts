/**
 * The release's language: enum ttu_flags as each release has it (names, values, existence), and
 * the results of rmap_one, rmap_walk and try_to_unmap as each release returns them.
 */
import { MmSystem, parseRelease, rulesFor } from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import {
  formatTtuFlags,
  rmapOneWord,
  SWAP_AGAIN,
  SWAP_FAIL,
  SWAP_LZFREE,
  SWAP_MLOCK,
  SWAP_SUCCESS,
  TTU_FLAG_TABLE,
  TtuFlagError,
  ttuFlagNames,
  ttuFlagReleases,
  ttuFlags,
  ttuFlagsValue,
  ttuFlagValue,
  unmapResultWord,
  walkResultWord,
} from '../src/index.js';

/**
 * enum ttu_flags read in the kernel trees (include/linux/rmap.h): each release where it changed,
 * with every flag it has and its value.
 */
const ENUM_IN_TREES: Record<string, Record<string, number>> = {
  '4.9': {
    TTU_UNMAP: 0x1,
    TTU_MIGRATION: 0x2,
    TTU_MUNLOCK: 0x4,
    TTU_LZFREE: 0x8,
    TTU_SPLIT_HUGE_PMD: 0x10,
    TTU_IGNORE_MLOCK: 0x100,
    TTU_IGNORE_ACCESS: 0x200,
    TTU_IGNORE_HWPOISON: 0x400,
    TTU_BATCH_FLUSH: 0x800,
    TTU_RMAP_LOCKED: 0x1000,
  },
  '4.12': {
    TTU_MIGRATION: 0x1,
    TTU_MUNLOCK: 0x2,
    TTU_SPLIT_HUGE_PMD: 0x4,
    TTU_IGNORE_MLOCK: 0x8,
    TTU_IGNORE_ACCESS: 0x10,
    TTU_IGNORE_HWPOISON: 0x20,
    TTU_BATCH_FLUSH: 0x40,
    TTU_RMAP_LOCKED: 0x80,
  },
  '4.14': {
    TTU_MIGRATION: 0x1,
    TTU_MUNLOCK: 0x2,
    TTU_SPLIT_HUGE_PMD: 0x4,
    TTU_IGNORE_MLOCK: 0x8,
    TTU_IGNORE_ACCESS: 0x10,
    TTU_IGNORE_HWPOISON: 0x20,
    TTU_BATCH_FLUSH: 0x40,
    TTU_RMAP_LOCKED: 0x80,
    TTU_SPLIT_FREEZE: 0x100,
  },
  '5.12': {
    TTU_MIGRATION: 0x1,
    TTU_MUNLOCK: 0x2,
    TTU_SPLIT_HUGE_PMD: 0x4,
    TTU_IGNORE_MLOCK: 0x8,
    TTU_IGNORE_HWPOISON: 0x20,
    TTU_BATCH_FLUSH: 0x40,
    TTU_RMAP_LOCKED: 0x80,
    TTU_SPLIT_FREEZE: 0x100,
  },
  '5.14': {
    TTU_SPLIT_HUGE_PMD: 0x4,
    TTU_IGNORE_MLOCK: 0x8,
    TTU_SYNC: 0x10,
    TTU_IGNORE_HWPOISON: 0x20,
    TTU_BATCH_FLUSH: 0x40,
    TTU_RMAP_LOCKED: 0x80,
  },
  '6.3': {
    TTU_SPLIT_HUGE_PMD: 0x4,
    TTU_IGNORE_MLOCK: 0x8,
    TTU_SYNC: 0x10,
    TTU_HWPOISON: 0x20,
    TTU_BATCH_FLUSH: 0x40,
    TTU_RMAP_LOCKED: 0x80,
  },
};
// 6.12 and 6.18 have 6.3's enum; 4.10 and 4.11 have 4.9's.
ENUM_IN_TREES['4.11'] = ENUM_IN_TREES['4.9'];
ENUM_IN_TREES['6.12'] = ENUM_IN_TREES['6.3'];
ENUM_IN_TREES['6.18'] = ENUM_IN_TREES['6.3'];

describe('enum ttu_flags through the timeline', () => {
  it.each(Object.keys(ENUM_IN_TREES))('in %s: exactly the flags of the tree, with its values', (release) => {
    const rules = rulesFor(parseRelease(release));
    const have = Object.fromEntries(
      TTU_FLAG_TABLE.map((f) => [f.name, ttuFlagValue(rules, f)] as const).filter(([, v]) => v !== null),
    );
    expect(have).toEqual(ENUM_IN_TREES[release]);
  });

  it('gives each flag a bit of its own in the model', () => {
    const bits = TTU_FLAG_TABLE.map((f) => f.bit);
    expect(new Set(bits).size).toBe(bits.length);
    for (const b of bits) expect(b & (b - 1)).toBe(0);
  });

  it('names the releases that have a flag, one span per value', () => {
    const flag = (n: string) => TTU_FLAG_TABLE.find((f) => f.name === n)!;
    expect(ttuFlagReleases(flag('TTU_IGNORE_ACCESS'))).toBe('4.9–4.11 (0x200), 4.12–5.10 (0x10)');
    expect(ttuFlagReleases(flag('TTU_SPLIT_FREEZE'))).toBe('4.14–5.13 (0x100)');
    expect(ttuFlagReleases(flag('TTU_SYNC'))).toBe('5.13 on (0x10)');
    expect(ttuFlagReleases(flag('TTU_UNMAP'))).toBe('4.9–4.11 (0x1)');
  });

  it('takes the flags a release has and refuses one it lacks, naming it, where it is, and what replaced it', () => {
    const sys = new MmSystem({ kernel: '6.12' });
    const flags = ttuFlags(sys, ['TTU_SYNC', 'TTU_IGNORE_MLOCK']);
    expect(ttuFlagNames(sys.rules, flags)).toEqual(['TTU_IGNORE_MLOCK', 'TTU_SYNC']);
    expect(formatTtuFlags(ttuFlagNames(sys.rules, flags), ttuFlagsValue(sys.rules, flags))).toBe(
      'TTU_IGNORE_MLOCK|TTU_SYNC = 0x18',
    );
    const err = (() => {
      try {
        ttuFlags(sys, ['TTU_SYNC', 'TTU_IGNORE_HWPOISON']);
      } catch (e) {
        return e;
      }
    })() as TtuFlagError;
    expect(err).toBeInstanceOf(TtuFlagError);
    expect(err.index).toBe(1);
    expect(err.message).toBe(
      'TTU_IGNORE_HWPOISON: not a try_to_unmap flag in Linux 6.12; it is in 4.9–4.11 (0x400), 4.12–6.2 (0x20), and without it TTU_HWPOISON asks for the hwpoison entry instead',
    );
    expect(() => ttuFlags(new MmSystem({ kernel: '4.9' }), ['TTU_SYNC'])).toThrow(
      /^TTU_SYNC: not a try_to_unmap flag in Linux 4\.9; it is in 5\.13 on \(0x10\)/,
    );
    expect(() => ttuFlags(sys, ['TTU_FOO'])).toThrow(/unknown try_to_unmap flag TTU_FOO/);
    // The same bits are written with each release's values.
    const old = new MmSystem({ kernel: '4.9' });
    expect(formatTtuFlags(ttuFlagNames(old.rules, flags), ttuFlagsValue(old.rules, flags))).toBe(
      'TTU_IGNORE_MLOCK = 0x100',
    );
  });
});

describe('results as each release returns them', () => {
  const at = (kernel: string) => new MmSystem({ kernel });

  it('rmap_one: SWAP_* to 4.11, then true to go on and false to stop', () => {
    expect(rmapOneWord(at('4.11').rules, SWAP_MLOCK)).toBe('SWAP_MLOCK');
    for (const [code, word] of [
      [SWAP_AGAIN, 'true'],
      [SWAP_FAIL, 'false'],
      [SWAP_MLOCK, 'false'],
      [SWAP_SUCCESS, 'false'],
    ] as const)
      expect(rmapOneWord(at('4.12').rules, code)).toBe(word);
  });

  it('rmap_walk: SWAP_* to 4.11, void from 4.12', () => {
    expect(walkResultWord(at('4.11').rules, SWAP_AGAIN)).toBe('SWAP_AGAIN');
    expect(walkResultWord(at('4.12').rules, SWAP_AGAIN)).toBe('void');
  });

  it('try_to_unmap: SWAP_* to 4.11, true when unmapped to 5.13, then void and the caller’s test', () => {
    expect(unmapResultWord(at('4.11'), SWAP_LZFREE)).toBe('SWAP_LZFREE');
    expect(unmapResultWord(at('4.12'), SWAP_SUCCESS)).toBe('true');
    expect(unmapResultWord(at('5.13'), SWAP_MLOCK)).toBe('false');
    expect(unmapResultWord(at('5.14'), SWAP_SUCCESS)).toBe('void; page_mapped() = false');
    expect(unmapResultWord(at('5.18'), SWAP_FAIL)).toBe('void; page_mapped() = true');
    expect(unmapResultWord(at('5.19'), SWAP_AGAIN)).toBe('void; folio_mapped() = true');
  });
});
