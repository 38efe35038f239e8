/**
 * Model errors the reliability soak found (packages/verify/test/soak.ts), each as the scenario that
 * shows it, run with the invariant checker after every statement.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioRunner, type StepResult } from '../src/index.js';

function run(text: string): StepResult[] {
  const runner = new ScenarioRunner({ check: true });
  return parseScenario(text).map((st) => runner.exec(st));
}

describe('found by the soak', () => {
  it('5.11 to 5.13 migrate with try_to_unmap, without the TTU_IGNORE_ACCESS they no longer have', () => {
    for (const kernel of ['5.11', '5.13']) {
      const steps = run(
        `set kernel ${kernel}\nspawn A\nA: mmap h 1 anon private\nA: write h 0\nA: migrate h 0\n`,
      );
      expect(steps.at(-1)!.report!.result).toBe('MIGRATEPAGE_SUCCESS');
    }
  });

  it('a KSM page swapped out comes back as one copy per place it was merged at (ksm_might_need_to_copy)', () => {
    const steps = run(`spawn A
A: mmap h 4 anon private
A: madvise h mergeable
A: write h 0..2 v
ksm
A: reclaim h 1
A: reclaim h 1
A: read h 0..2
observe
`);
    expect(steps[6].report!.result).toBe('freed');
    const pages = steps.at(-1)!.observation!.pages;
    expect(pages.map((p) => [p.mapcount, p.mappings])).toEqual([
      [1, ['A:h:0']],
      [1, ['A:h:1']],
      [1, ['A:h:2']],
    ]);
    expect(new Set(pages.map((p) => p.pfn)).size).toBe(3);
  });
});
