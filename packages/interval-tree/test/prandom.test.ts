import { describe, expect, it } from 'vitest';
import { parseArgs } from '../bench/args.js';
import { kernelTestData } from '../bench/data.js';
import { KERNEL_TEST_SEED, Prandom, prandomSeedState, prandomU32State } from '../src/index.js';

describe('prandom (prandom_seed_state + prandom_u32_state, LFSR113)', () => {
  it('seed 3141592653589793238 folds to 0x408c3c09 in every state word', () => {
    const st = prandomSeedState(KERNEL_TEST_SEED);
    expect(st).toEqual({ s1: 0x408c3c09, s2: 0x408c3c09, s3: 0x408c3c09, s4: 0x408c3c09 });
  });

  it('reproduces the test vector of the review (§11)', () => {
    const st = prandomSeedState(3141592653589793238n);
    const out = Array.from({ length: 6 }, () => prandomU32State(st));
    expect(out).toEqual([864658644, 4269580756, 3377341751, 4160522366, 2793066675, 79275557]);
    const r = new Prandom();
    expect([r.u32(), r.u32()]).toEqual([864658644, 4269580756]);
  });

  it('applies the minimum of each state word (__seed) and stays u32', () => {
    const st = prandomSeedState(0);
    expect(st).toEqual({ s1: 2, s2: 8, s3: 16, s4: 128 });
    for (let i = 0; i < 1000; i++) {
      const x = prandomU32State(st);
      expect(Number.isInteger(x) && x >= 0 && x <= 0xffffffff).toBe(true);
    }
  });

  it('takes the seed modulo 2^64', () => {
    expect(prandomSeedState(2n ** 64n + 5n)).toEqual(prandomSeedState(5n));
  });
});

describe('lib/interval_tree_test.c data (6.12 form)', () => {
  it('node 0 is [50684137, 54041165]', () => {
    const d = kernelTestData(3, 2, 0xffffffff, KERNEL_TEST_SEED);
    expect([d.starts[0], d.lasts[0]]).toEqual([50684137, 54041165]);
    for (let i = 0; i < 3; i++) expect(d.starts[i]).toBeLessThan(d.lasts[i]);
    // Queries come after all nodes in the stream.
    const st = prandomSeedState(KERNEL_TEST_SEED);
    for (let i = 0; i < 6; i++) prandomU32State(st);
    expect(d.queries[0]).toBe(prandomU32State(st) >>> 4);
  });

  it('respects max_endpoint and guards b == 0', () => {
    const d = kernelTestData(1000, 100, 1, KERNEL_TEST_SEED);
    expect(d.starts.every((a) => a === 0)).toBe(true);
    expect(d.lasts.every((b) => b === 0)).toBe(true);
    expect(d.queries.every((q) => q === 0)).toBe(true);
  });
});

describe('bench flags', () => {
  it('parse both spellings', () => {
    const p = parseArgs([
      '--nnodes',
      '1000',
      '--perf_loops=7',
      '--search-loops',
      '3',
      '--search-all',
      '--seed',
      '42',
    ]);
    expect(p).toMatchObject({ nnodes: 1000, perf_loops: 7, search_loops: 3, search_all: true, seed: 42n });
    expect(() => parseArgs(['--nnodes', 'many'])).toThrow(/--nnodes needs an integer/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option/);
  });
});
