/**
 * A scenario for every rule of the timeline: examples/rules/ID.rmap (commented, with no `set kernel`
 * of its own) runs under the release just before the rule's and under the rule's own release, and
 * examples/rules/golden/ID.RELEASE.txt hold the two outputs — `rmaplab run`'s human output, with
 * --trace when the rule shows only in the trace — which must differ: the scenario shows the rule.
 * Regenerate with UPDATE_GOLDEN=1 after reading the difference.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type KernelRule, previousRelease, RULES, type RuleId } from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import { compareGolden, ROOT, rmaplab, runRecord } from './helpers.js';

const DIR = join(ROOT, 'examples/rules');

/**
 * Rules that no scenario can show, and why: their two outputs are equal. Each stays here only as
 * long as that holds — once a scenario can show it, its test fails until it is taken off.
 */
const NOT_SHOWN: Partial<Record<RuleId, string>> = {
  'unlink-anon-vmas-clears-pointer':
    'every VMA that unlink_anon_vmas leaves is freed right after, so its pointer is never read',
  'vma-has-recency': 'no statement of the scenario language sets VM_SEQ_READ or VM_RAND_READ',
};

/** The run of a rule's scenario under `release`, as the goldens keep it. */
async function run(id: string, release: string, trace: boolean): Promise<string> {
  const args = ['run', `examples/rules/${id}.rmap`, '--check', '--set', `kernel=${release}`];
  return runRecord(await rmaplab(trace ? [...args, '--trace'] : args));
}

describe('a scenario for every rule', () => {
  it('has one file per rule and none for a rule the catalogue lacks', () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.rmap'))
      .map((f) => f.slice(0, -'.rmap'.length))
      .sort();
    expect(files).toEqual(RULES.map((r) => r.id).sort());
  });

  it.each(RULES as readonly KernelRule[])('$id ($since)', async (rule) => {
    const text = readFileSync(join(DIR, `${rule.id}.rmap`), 'utf8');
    // It names its rule and release first and explains itself; the release comes from the test.
    expect(text.split('\n')[0]).toMatch(
      new RegExp(`^# ${rule.id} \\(${rule.since.replace('.', '\\.')}\\): `),
    );
    expect(text.split('\n').filter((l) => l.startsWith('#')).length).toBeGreaterThanOrEqual(3);
    expect(text).not.toMatch(/^\s*set\s+kernel\b/m);
    const releases = [previousRelease(rule.since), rule.since];
    let outs = await Promise.all(releases.map((r) => run(rule.id, r, false)));
    const trace = outs[0] === outs[1];
    if (trace) outs = await Promise.all(releases.map((r) => run(rule.id, r, true)));
    for (const [i, r] of releases.entries())
      compareGolden(join(DIR, 'golden', `${rule.id}.${r}.txt`), outs[i]);
    if (NOT_SHOWN[rule.id as RuleId]) expect(outs[1], NOT_SHOWN[rule.id as RuleId]).toBe(outs[0]);
    else expect(outs[1], `${rule.id}: the scenario shows no difference`).not.toBe(outs[0]);
  });
});
