import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, ScenarioError, ScenarioRunner } from '../src/index.js';

/** The error a scenario stops with, or undefined if it runs to the end. */
function failure(text: string, opts = {}): ScenarioError | undefined {
  try {
    for (const _ of runScenario(text, { check: true, ...opts }));
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  return undefined;
}

/** The `nohugepage` flags of A's VMAs at the scenario's `observe`. */
function vmaFlags(text: string): string[][] {
  for (const s of runScenario(text, { check: true }))
    if (s.observation) return (s.observation.vmas?.A ?? []).map((v) => [...v.flags]);
  throw new Error('no observe');
}

const MMAP = 'spawn A\nA: mmap m 32 anon private\nA: write m 0\nobserve\n';

describe('set thp', () => {
  it('parses never and comma-joined sizes as the enabled orders', () => {
    const value = (t: string) => {
      const st = parseScenario(`set thp ${t}`)[0];
      return st.op === 'set' ? st.set : undefined;
    };
    expect(value('never')).toEqual({ key: 'thp', value: 0 });
    expect(value('64K')).toEqual({ key: 'thp', value: 1 << 4 });
    expect(value('16K,1M,2M')).toEqual({ key: 'thp', value: (1 << 2) | (1 << 8) | (1 << 9) });
  });

  it('refuses an unknown size at its place in the list, and a size listed twice', () => {
    const bad = failure('set thp 64K,8K');
    expect(bad?.message).toMatch(/bad folio size "8K"/);
    expect([bad?.line, bad?.column]).toEqual([1, 13]);
    expect(failure('set thp 2M,2M')?.message).toMatch(/listed twice/);
    expect(failure('set thp')?.message).toMatch(/missing folio sizes/);
  });

  it('has sizes below 2M only from 6.8 (anon-mthp), whichever of set kernel and set thp comes last', () => {
    expect(failure(`set kernel 6.7\nset thp 2M\n${MMAP}`)).toBeUndefined();
    expect(failure(`set kernel 6.8\nset thp 64K\n${MMAP}`)).toBeUndefined();
    const after = failure(`set kernel 6.7\nset thp 32K\n${MMAP}`);
    expect(after?.message).toMatch(/kernel 6\.7 has no anonymous folios of 32K.*came in 6\.8 \(anon-mthp\)/);
    expect(after?.line).toBe(2);
    // The default release (4.9) refuses it at once; a later `set kernel` to 6.7 refuses it there.
    expect(failure(`set thp 16K\n${MMAP}`)?.message).toMatch(/kernel 4\.9 has no anonymous folios of 16K:/);
    const before = failure(`set kernel 6.8\nset thp 16K,2M\nset kernel 6.7\n${MMAP}`);
    expect(before?.message).toMatch(/kernel 6\.7 has no anonymous folios of 16K:/);
    expect(before?.line).toBe(3);
  });

  it('refuses an override the release cannot take', () => {
    const thp = parseScenario('set thp 64K')[0];
    const kernel = parseScenario('set kernel 6.7')[0];
    if (thp.op !== 'set' || kernel.op !== 'set') throw new Error('not a set');
    expect(() => new ScenarioRunner({ overrides: [kernel.set, thp.set] })).toThrow(RangeError);
  });

  it('marks a region MADV_NOHUGEPAGE only while thp is never', () => {
    expect(vmaFlags(MMAP)).toEqual([['account', 'nohugepage']]);
    expect(vmaFlags(`set kernel 6.8\nset thp 64K\n${MMAP}`)).toEqual([['account']]);
  });
});
