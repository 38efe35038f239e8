/**
 * The soak's small run, part of every `pnpm test` (the 10,000-sequence run is `pnpm --filter
 * @rmaplab/verify test:soak`, soak.full.ts): random sequences with the simulator's statements and
 * releases, the checker and rmap completeness after every statement.
 */
import { parseRelease, rulesFor, timelinePoints } from '@rmaplab/mm';
import { TTU_FLAG_TABLE, ttuFlagValue } from '@rmaplab/rmap';
import { parseScenario } from '@rmaplab/scenario';
import { describe, expect, it } from 'vitest';
import { generateScenario, isSimulatorOnly } from '../src/index.js';
import { formatFailures, formatFigures, soak } from './soak.js';

describe('soak (200 sequences)', () => {
  it('no internal error, no broken invariant, every sampled walk complete, refusals change nothing', () => {
    const { figures, failures } = soak(1, 200);
    console.log(formatFigures(figures));
    expect(formatFailures(failures)).toBe('');
    expect(figures.sequences).toBe(200);
    // The sample reaches what the soak is for: refused statements and walks by the thousand. (A
    // kernel BUG is rare — two releases of the timeline have one — and 200 sequences may meet none:
    // kernel-assertions.test.ts covers each; the full soak counts them.)
    expect(figures.refused).toBeGreaterThan(0);
    expect(figures.walks).toBeGreaterThan(figures.statements);
  });
});

describe('generateScenario({ simulator: true }), the soak’s sequences', () => {
  const SEEDS = 400;
  const scenarios = Array.from({ length: SEEDS }, (_, i) => generateScenario(i + 1, { simulator: true }));

  it('without the option, nothing a kernel cannot run', () => {
    for (let seed = 1; seed <= SEEDS; seed++)
      expect(parseScenario(generateScenario(seed)).filter(isSimulatorOnly), `seed ${seed}`).toEqual([]);
  });

  it('every rmap statement, and a release of the timeline first, with the advice it uses', () => {
    const ops = new Set<string>();
    const releases = new Set<string>();
    for (const text of scenarios) {
      const sts = parseScenario(text);
      const first = sts[0];
      if (first.op !== 'set' || first.set.key !== 'kernel') throw new Error(`no set kernel first:\n${text}`);
      releases.add(first.set.value);
      const rules = rulesFor(parseRelease(first.set.value));
      if (sts.some((st) => st.op === 'madvise' && (st.advice === 'pageout' || st.advice === 'cold')))
        expect(rules['madvise-cold-pageout'], text).toBe(true);
      for (const st of sts) if (isSimulatorOnly(st)) ops.add(st.op);
    }
    expect([...ops].sort()).toEqual(['migrate', 'mkclean', 'reclaim', 'referenced', 'unmap', 'walk']);
    expect([...releases].sort()).toEqual([...timelinePoints()].sort());
  });

  it("unmap flags are the release's, but for a few kept to be refused", () => {
    let flags = 0;
    let refused = 0;
    for (const text of scenarios) {
      const sts = parseScenario(text);
      const kernel = sts[0].op === 'set' ? String(sts[0].set.value) : '';
      const rules = rulesFor(parseRelease(kernel));
      const has = new Set<string>(
        TTU_FLAG_TABLE.filter((f) => ttuFlagValue(rules, f) !== null).map((f) => f.name),
      );
      for (const st of sts)
        if (st.op === 'unmap')
          for (const f of st.flags) {
            flags++;
            if (!has.has(f)) refused++;
          }
    }
    expect(refused).toBeGreaterThan(0);
    expect(refused / flags).toBeLessThan(0.05);
  });
});
