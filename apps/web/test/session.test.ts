import { observationJson, runScenario } from '@rmaplab/scenario';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../src/model/examples';
import { DEFAULT_SESSION_LIMITS, kernelOf, runSession, Session, withKernel } from '../src/model/session';

const FORK = `# fork, then a COW write
spawn A
A: mmap heap 4 anon private
A: write heap 0..2
A: fork B             # the child shares the pages
B: write heap 1
observe
B: exit
observe
`;

describe('Session', () => {
  it('keeps one record per statement, and the state graph after it', () => {
    const s = runSession(FORK);
    expect(s.problem).toBeNull();
    expect(s.steps.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.initial.nodes).toEqual([]);
    const procs = (n: number) =>
      s
        .detail(n)
        .graph!.nodes.filter((x) => x.kind === 'process')
        .map((x) => x.label);
    expect(procs(4)).toEqual(['A', 'B']);
    expect(procs(7)).toEqual(['A']);
    expect(s.detail(4).events.length).toBe(s.steps[3].eventCount);
    expect(s.steps[3]).toMatchObject({
      source: 'A: fork B',
      narration: 'the child shares the pages',
      kernel: '4.9',
    });
  });

  it('is exact backwards: the graph of step k is the state of running only the first k statements', () => {
    const full = runSession(FORK);
    const statements = FORK.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: statements.length }), (k) => {
        const prefix = runSession(statements.slice(0, k).join('\n'));
        expect(full.detail(k).graph).toEqual(prefix.detail(k).graph);
      }),
      { numRuns: statements.length * 2 },
    );
  });

  it('gives the observation exactly as the CLI prints it with --json, and the CLI’s table', () => {
    const s = runSession(FORK);
    const cli = [...runScenario(FORK)]
      .filter((r) => r.observation)
      .map((r) => observationJson(r.observation!));
    expect(s.steps.filter((x) => x.observed).map((x) => s.observationJson(x.step))).toEqual(cli);
    expect(s.output(6)).toMatch(/^observe \(step 6\)/);
    expect(s.output(6)).toContain('anon_vma');
  });

  it('tells what each step changed: created, changed and removed objects', () => {
    const s = runSession(FORK);
    const fork = s.detail(4).changes;
    expect(fork.added.filter((id) => id.startsWith('mm:'))).toHaveLength(1);
    expect(fork.changed.some((id) => id.startsWith('page:'))).toBe(true);
    const exit = s.detail(7).changes;
    expect(exit.removed.map((r) => r.kind)).toContain('process');
    expect(s.detail(6).changes).toEqual({ added: [], changed: [], removed: [] });
  });

  it('stops at a parse error with its line and column (said once), keeping every earlier step', () => {
    const s = runSession('spawn A\nA: mmap heap 4 anon private\nA: mmap x lots anon private\nobserve\n');
    expect(s.steps).toHaveLength(2);
    expect(s.problem).toMatchObject({ kind: 'scenario', line: 3, column: 11, step: 3 });
    expect(s.problem!.message).toMatch(/^3:11: error: /);
    expect(s.problem!.message).not.toMatch(/^\d+:\d+: \d+:\d+:/);
  });

  it('stops at a statement the kernel refuses, state unchanged', () => {
    const s = runSession('spawn A\nA: read heap 0\n');
    expect(s.steps).toHaveLength(1);
    expect(s.problem).toMatchObject({ kind: 'scenario', line: 2, step: 2 });
  });

  it('turns size limits into a located message instead of running away', () => {
    const many = Array.from({ length: 30 }, (_, i) => `spawn P${i}`).join('\n');
    const s = runSession(many, { ...DEFAULT_SESSION_LIMITS, statements: 10 });
    expect(s.steps).toHaveLength(10);
    expect(s.problem).toMatchObject({ kind: 'limit', line: 11, step: 11 });
    expect(s.problem!.message).toMatch(/^11:1: error: the lab runs at most 10 statements/);
    const big = runSession(many, { ...DEFAULT_SESSION_LIMITS, graphNodes: 5 });
    expect(big.detail(6).graph).toBeNull();
    expect(big.steps[5]).toMatchObject({ graphKept: false, graphSize: 6 });
    expect(big.detail(5).graph?.nodes).toHaveLength(5);
  });
});

describe('walk frames', () => {
  const text = EXAMPLES.find((e) => e.name === '02-kswapd-reclaim')!.text;
  const s = runSession(text);
  const second = s.steps.filter((m) => m.op === 'reclaim')[1].step;

  it('start from the state before the statement: the page the second reclaim unmaps is still there', () => {
    const d = s.detail(second);
    expect(d.graph!.nodes.some((n) => n.id === 'page:1')).toBe(false);
    expect(d.frames[0].at).toBe(-1);
    expect(d.frames[0].graph).toEqual(s.detail(second - 1).graph);
    const ptes = (i: number) =>
      d.frames[i].graph.edges.filter((e) => e.kind === 'pte' && e.to === 'page:1').length;
    expect(ptes(0)).toBe(4);
  });

  it('follow the walk event by event: each try_to_unmap_one takes one PTE away', () => {
    const d = s.detail(second);
    const counts = d.frames
      .filter((f) => f.at >= 0 && d.events[f.at].fn === 'try_to_unmap_one')
      .map((f) => f.graph.edges.filter((e) => e.kind === 'pte' && e.to === 'page:1').length);
    expect(counts).toEqual([3, 2, 1, 0]);
    // Frames hold the page tables too: the first unmapped PTE is a swap entry.
    const f = d.frames.find((x) => x.at >= 0 && d.events[x.at].fn === 'try_to_unmap_one')!;
    const parent = f.tables.find((p) => p.name === 'parent')!;
    expect(parent.vmas[0].ptes[0].bits & 0x20).toBe(0x20);
  });

  it('do not change what the statements do (the same events and observations as without frames)', () => {
    const cli = [...runScenario(text)]
      .filter((r) => r.observation)
      .map((r) => observationJson(r.observation!));
    expect(s.steps.filter((m) => m.observed).map((m) => s.observationJson(m.step))).toEqual(cli);
  });
});

describe('bounded memory', () => {
  it('keeps about the budget and recomputes a dropped step exactly', () => {
    const text = EXAMPLES.find((e) => e.name === '02-kswapd-reclaim')!.text;
    const roomy = runSession(text);
    const tight = new Session(text, { ...DEFAULT_SESSION_LIMITS, budgetBytes: 64 * 1024 }).run();
    expect(tight.cacheBytes).toBeLessThanOrEqual(64 * 1024 + 64 * 1024);
    for (const k of [1, 9, 11, 4, 14]) expect(tight.detail(k)).toEqual(roomy.detail(k));
    expect(tight.reruns).toBeGreaterThan(0);
    expect(roomy.reruns).toBe(0);
  });

  it('counts a state too large to draw without building its graph', () => {
    const s = runSession('spawn A\nA: mmap big 8192 anon private\nA: write big 0..8191\nobserve\nobserve\n');
    expect(s.steps[2]).toMatchObject({
      graphKept: false,
      eventCount: expect.any(Number),
      observationRows: 0,
    });
    expect(s.steps[2].graphSize).toBeGreaterThan(DEFAULT_SESSION_LIMITS.graphNodes);
    expect(s.steps[3].observationRows).toBe(8192);
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
