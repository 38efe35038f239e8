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

  it('a KSM page a fork moved away from its rmap_item is reached again once ksmd scans the VMA made mergeable', () => {
    const steps = run(`spawn A
A: mmap h 2 anon private
A: write h 0..1 v
A: fork B
A: madvise h mergeable
ksm
B: mremap h move
B: madvise h mergeable
B: walk h 1
ksm
B: walk h 1
`);
    const reached = (s: StepResult) => s.report!.visits.map((v) => v.where);
    expect(reached(steps[8])).not.toContain('B:h:1');
    expect(reached(steps[10])).toContain('B:h:1');
  });

  it('a KSM page swapped back in after ksmd dropped its rmap_items is reached again at the next scan', () => {
    const steps = run(`set kernel 6.18
spawn A
A: mmap h 2 anon private
A: write h 0..1 v
A: madvise h mergeable
ksm
A: unmap h 1
ksm
A: read h 0
A: walk h 0
ksm
A: walk h 0
`);
    expect(steps[9].report!.visits).toEqual([]);
    expect(steps[11].report!.visits.map((v) => v.where)).toContain('A:h:0');
  });
});
