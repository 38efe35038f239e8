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
});
