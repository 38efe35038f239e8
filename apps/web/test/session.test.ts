import { observationJson, runScenario } from '@rmaplab/scenario';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_LIMITS, kernelOf, runSession, withKernel } from '../src/model/session';

const FORK = `# fork, then a COW write
spawn A
A: mmap heap 4 anon private
A: write heap 0..2
A: fork B
B: write heap 1
observe
B: exit
observe
`;

describe('runSession', () => {
  it('keeps one snapshot per statement, with the state graph after it', () => {
    const s = runSession(FORK);
    expect(s.problem).toBeNull();
    expect(s.steps.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.initial.nodes).toEqual([]);
    const kinds = (i: number) =>
      s.steps[i].graph!.nodes.filter((n) => n.kind === 'process').map((n) => n.label);
    expect(kinds(3)).toEqual(['A', 'B']);
    expect(kinds(6)).toEqual(['A']);
    expect(s.steps[3].events.length).toBeGreaterThan(0);
  });

  it('is exact backwards: the snapshot of step k is the state of running only the first k statements', () => {
    const full = runSession(FORK);
    const statements = FORK.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: statements.length }), (k) => {
        const prefix = runSession(statements.slice(0, k).join('\n'));
        expect(full.steps[k - 1].graph).toEqual(prefix.steps[k - 1].graph);
      }),
      { numRuns: statements.length * 2 },
    );
  });

  it('gives the observation exactly as the CLI prints it with --json', () => {
    const s = runSession(FORK);
    const cli = [...runScenario(FORK)]
      .filter((r) => r.observation)
      .map((r) => observationJson(r.observation!));
    expect(s.steps.filter((x) => x.observationJson).map((x) => x.observationJson)).toEqual(cli);
    expect(s.steps[5].output).toMatch(/^observe \(step 6\)/);
  });

  it('stops at a parse error with its line and column, keeping every earlier step', () => {
    const s = runSession('spawn A\nA: mmap heap 4 anon private\nA: mmap x lots anon private\nobserve\n');
    expect(s.steps).toHaveLength(2);
    expect(s.problem).toMatchObject({ kind: 'scenario', line: 3, column: 11, step: 3 });
    expect(s.problem!.message).toMatch(/^3:11: error:/);
  });

  it('stops at a statement the kernel refuses, state unchanged', () => {
    const s = runSession('spawn A\nA: read heap 0\n');
    expect(s.steps).toHaveLength(1);
    expect(s.problem).toMatchObject({ kind: 'scenario', line: 2, step: 2 });
  });

  it('turns size limits into a message instead of running away', () => {
    const many = Array.from({ length: 30 }, (_, i) => `spawn P${i}`).join('\n');
    const s = runSession(many, { ...DEFAULT_SESSION_LIMITS, statements: 10 });
    expect(s.steps).toHaveLength(10);
    expect(s.problem).toMatchObject({ kind: 'limit', line: 11, step: 11 });
    const big = runSession(many, { ...DEFAULT_SESSION_LIMITS, graphNodes: 5 });
    expect(big.steps[5].graph).toBeNull();
    expect(big.steps[5].graphSize).toBe(6);
    expect(big.steps[4].graph?.nodes).toHaveLength(5);
  });

  it('reports a region larger than the lab allows as a limit at its line', () => {
    const s = runSession('spawn A\nA: mmap huge 1000000 anon private\n');
    expect(s.steps).toHaveLength(1);
    expect(s.problem).toMatchObject({ line: 2 });
  });
});

describe('kernel choice', () => {
  it('reads and rewrites the set kernel line', () => {
    expect(kernelOf('spawn A')).toBe('4.9');
    expect(kernelOf('set kernel 6.12\nspawn A')).toBe('6.12');
    expect(withKernel('set kernel 4.9\nspawn A', '6.12')).toBe('set kernel 6.12\nspawn A');
    expect(withKernel('# title\nspawn A', '6.12')).toBe('# title\nset kernel 6.12\nspawn A');
    expect(kernelOf(withKernel('', '6.12'))).toBe('6.12');
  });
});
