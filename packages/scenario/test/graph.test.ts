/** The state graph's page nodes: PG_anon_exclusive as `anon_exclusive`, only where the release has it. */
import { describe, expect, it } from 'vitest';
import { buildStateGraph, runScenario, type ScenarioRunner } from '../src/index.js';

const SCENARIO = `spawn A
A: mmap h 3 anon private
A: write h 0
A: write h 1
A: read h 2
A: fork B
B: write h 0
`;

function finalRunner(kernel: string): ScenarioRunner {
  const g = runScenario(SCENARIO, { options: { kernel } });
  let r = g.next();
  while (!r.done) r = g.next();
  return r.value;
}

/** anon_exclusive of each page node, keyed by where it is mapped. */
function exclusiveByMapping(kernel: string): Record<string, unknown> {
  const runner = finalRunner(kernel);
  const g = buildStateGraph(runner.sys, runner.procs.values());
  const out: Record<string, unknown> = {};
  for (const n of g.nodes) if (n.kind === 'page') out[String(n.fields.mapped_at)] = n.fields.anon_exclusive;
  return out;
}

describe('buildStateGraph: anon_exclusive', () => {
  it('shows PG_anon_exclusive from 5.19: COW copies exclusive, fork-shared and zero pages not', () => {
    expect(exclusiveByMapping('5.19')).toEqual({
      'A:h:0': false, // A's page after B copied: mapped once, but only A's next write marks it
      'A:h:1 B:h:1': false,
      'A:h:2 B:h:2': false,
      'B:h:0': true,
    });
  });

  it('has no such field before 5.19', () => {
    const runner = finalRunner('5.18');
    const pages = buildStateGraph(runner.sys, runner.procs.values()).nodes.filter((n) => n.kind === 'page');
    expect(pages.length).toBe(4);
    for (const n of pages) expect(n.fields).not.toHaveProperty('anon_exclusive');
  });
});
