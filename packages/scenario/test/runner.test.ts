import { describe, expect, it } from 'vitest';
import {
  iterateScenario,
  type Observation,
  runScenario,
  ScenarioError,
  ScenarioRunner,
  type StepResult,
} from '../src/index.js';

function run(
  text: string,
  opts = {},
): { steps: StepResult[]; observations: Observation[]; error?: ScenarioError } {
  const steps: StepResult[] = [];
  try {
    for (const s of runScenario(text, { check: true, ...opts })) steps.push(s);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    return { steps, observations: steps.flatMap((s) => (s.observation ? [s.observation] : [])), error: e };
  }
  return { steps, observations: steps.flatMap((s) => (s.observation ? [s.observation] : [])) };
}

/** Observation without the extra fields, pages and lists sorted: what the kernel comparison sees. */
function canon(o: Observation) {
  return {
    step: o.step,
    pages: o.pages
      .map((p) => ({ mapcount: p.mapcount, flags: [...p.flags].sort(), mappings: [...p.mappings].sort() }))
      .sort((a, b) => a.mappings[0].localeCompare(b.mappings[0])),
    absent: [...o.absent].sort(),
  };
}

describe('runner: kernel-executable statements', () => {
  it('fork shares written pages and the contract example shape', () => {
    const { observations, error } = run(`
spawn A
A: mmap heap 4 anon private
A: write heap 0..1
A: fork B
B: write heap 0
observe
`);
    expect(error).toBeUndefined();
    expect(canon(observations[0])).toEqual({
      step: 6,
      pages: [
        { mapcount: 1, flags: ['anon', 'swapbacked'], mappings: ['A:heap:0'] },
        { mapcount: 2, flags: ['anon', 'swapbacked'], mappings: ['A:heap:1', 'B:heap:1'] },
        { mapcount: 1, flags: ['anon', 'swapbacked'], mappings: ['B:heap:0'] },
      ],
      absent: ['A:heap:2', 'A:heap:3', 'B:heap:2', 'B:heap:3'],
    });
  });

  it('a read of untouched anon memory maps the zero page (mapcount 0), not inherited by fork', () => {
    const { observations } = run(`
spawn A
A: mmap heap 2 anon private
A: read heap 0..1
A: fork B
observe
`);
    expect(canon(observations[0]).pages).toEqual([
      { mapcount: 0, flags: ['zero'], mappings: ['A:heap:0', 'A:heap:1'] },
    ]);
    expect(observations[0].absent.sort()).toEqual(['B:heap:0', 'B:heap:1']);
  });

  it('file read fault maps 16 pages around (fault-around) and the window starts at the VMA start', () => {
    const { observations } = run(`
spawn A
A: mmap f 40 file:data private
A: read f 20
observe
`);
    const mapped = observations[0].pages
      .flatMap((p) => p.mappings)
      .sort((a, b) => Number(a.split(':')[2]) - Number(b.split(':')[2]));
    expect(mapped).toEqual(Array.from({ length: 16 }, (_, i) => `A:f:${16 + i}`));
    expect(observations[0].pages.every((p) => p.flags.length === 0 && p.mapcount === 1)).toBe(true);
  });

  it('errors name the line and column and leave the state unchanged', () => {
    const { observations, error } = run(`
spawn A
A: mmap heap 4 anon private
observe
A: write heap 2..9
`);
    expect(observations).toHaveLength(1);
    expect(error).toBeInstanceOf(ScenarioError);
    expect(error!.line).toBe(5);
    expect(error!.column).toBe(15);
    expect(error!.format('x.rmap')).toMatch(/^x\.rmap:5:15: error: page 9 is outside region heap/);
  });

  it('an access to an unmapped page is refused as the process would die of it', () => {
    const { error } = run(`
spawn A
A: mmap heap 4 anon private
A: munmap heap 1 2
A: write heap 0..3
`);
    expect(error?.message).toMatch(/A:heap:1 is not mapped.*SIGSEGV/);
  });

  it('a process used after exit is an error', () => {
    const { error } = run('spawn A\nA: exit\nA: mmap x 1 anon private\n');
    expect(error?.message).toBe('process A has exited');
    expect([error?.line, error?.column]).toEqual([3, 1]);
  });
});

describe('runner: mlock accounting differs between kernels', () => {
  const scenario = (kernel: string) => `
set kernel ${kernel}
spawn C
C: mmap f 2 file:ff shared
C: mlock f
spawn D
D: mmap g 2 file:ff private
D: read g 0
D: mlock g
observe
`;
  it('6.12: a page another locked VMA maps stays mlocked when a locker copies it (mlock_count)', () => {
    const obs = run(scenario('6.12')).observations[0];
    const c = obs.pages.find((p) => p.mappings.includes('C:f:0'))!;
    expect(c.flags).toEqual(['mlocked', 'unevictable']);
  });
  it('4.9: munlock_vma_page skips try_to_munlock for a page mapped once, so C loses PG_mlocked', () => {
    const obs = run(scenario('4.9')).observations[0];
    const c = obs.pages.find((p) => p.mappings.includes('C:f:0'))!;
    expect(c.flags).toEqual([]);
  });
});

describe('runner: a file page read back after reclaim', () => {
  const scenario = (kernel: string) => `
set kernel ${kernel}
set swap 0
spawn C
C: mmap q 40 file:g private
C: read q 0..39
C: madvise q pageout
C: read q 20
observe
`;
  it('6.12: readahead brings the window back and the retried fault maps fault-around pages 16..31', () => {
    const mapped = run(scenario('6.12'))
      .observations[0].pages.flatMap((p) => p.mappings)
      .map((m) => Number(m.split(':')[2]))
      .sort((a, b) => a - b);
    expect(mapped).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
  });

  // Page 40's fault reads a window around it back; page 50's then hits the page cache, so its
  // fault-around (48..63) maps only what that window brought back.
  const window = (readahead: number) => `
set kernel 6.12
set swap 0
set readahead ${readahead}
spawn C
C: mmap q 64 file:g private
C: read q 0..63
C: madvise q pageout
C: read q 40
C: read q 50
observe
`;
  const mappedPages = (text: string) =>
    run(text)
      .observations[0].pages.flatMap((p) => p.mappings)
      .map((m) => Number(m.split(':')[2]))
      .sort((a, b) => a - b);
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  it('set readahead: the read-around window starts half a window before the fault', () => {
    expect(mappedPages(window(32))).toEqual(range(32, 55)); // 24..55 read back
    expect(mappedPages(window(2048))).toEqual(range(32, 63)); // the whole file, clipped at its end
    expect(mappedPages(window(0))).toEqual([40, 50]); // each missing page alone
  });
});

describe('runner: overrides of the scenario’s own set lines (--set)', () => {
  const PAGEOUT = `
set kernel 4.9
set swap 0
spawn A
A: mmap heap 2 anon private
A: write heap 0..1
A: madvise heap pageout
observe
`;

  it('without an override the scenario’s release applies (4.9 refuses MADV_PAGEOUT)', () => {
    expect(run(PAGEOUT).error?.message).toMatch(/MADV_PAGEOUT does not exist in Linux 4\.9/);
  });

  it('an override replaces every set line of its key, and only those', () => {
    const { observations, error, steps } = run(PAGEOUT, {
      overrides: [{ key: 'kernel', value: '6.18' }],
    });
    expect(error).toBeUndefined();
    expect(steps).toHaveLength(7);
    // swap 0 still comes from the scenario: MADV_PAGEOUT finds no swap, so the pages stay.
    expect(observations[0].absent).toEqual([]);
    const swapped = run(PAGEOUT, {
      overrides: [
        { key: 'kernel', value: '6.18' },
        { key: 'swap', value: 'unlimited' },
      ],
    });
    expect(swapped.observations[0].absent.sort()).toEqual(['A:heap:0', 'A:heap:1']);
  });

  it('an overridden release may differ from a set kernel line that comes after the first statement', () => {
    const { error } = run('spawn A\nset kernel 6.12\nobserve\n', {
      overrides: [{ key: 'kernel', value: '5.4' }],
    });
    expect(error).toBeUndefined();
  });
});

/** The `PROCESS:REGION:PAGE` names an observation shows mapped, sorted. */
function mappedNames(o: Observation): string[] {
  return o.pages.flatMap((p) => p.mappings).sort();
}

describe('runner: what the kernel cross-check found (issue 14 §5), as Linux 6.18 does it', () => {
  it('MADV_PAGEOUT leaves dirty shared file pages cached with PG_reclaim: fault-around skips them', () => {
    const { steps, observations, error } = run(`
set kernel 6.18
spawn A
A: mmap f 4 file:data shared
A: write f 0..1
A: madvise f pageout
observe
A: read f 0
observe
A: read f 1
observe
A: reclaim f 1
A: reclaim f 1
`);
    expect(error).toBeUndefined();
    expect(observations.map(mappedNames)).toEqual([
      [],
      ['A:f:0', 'A:f:2', 'A:f:3'],
      ['A:f:0', 'A:f:1', 'A:f:2', 'A:f:3'],
    ]);
    // Still dirty, never written: kswapd meets it again for the first time and only activates it.
    expect(steps.slice(-2).map((s) => s.report?.result)).toEqual(['kept', 'activated']);
  });

  it('mapping more of a file than it has extends and syncs it: dirty pages become clean (seed 1107)', () => {
    const { steps, observations } = run(`
set kernel 6.18
spawn P0
P0: mmap r0 2 file:f0 shared
P0: write r0 0..1
P0: mmap r1 3 file:f0 private
P0: mkclean r0 0
P0: madvise r0 pageout
P0: read r0 1
observe
`);
    // fsync wrote both pages back and write-protected their PTEs (nothing left to clean), so
    // pageout dropped them; the read brings the window back and fault-around maps it.
    expect(steps[5].report?.result).toBe('0');
    expect(mappedNames(observations[0])).toEqual(['P0:r0:0', 'P0:r0:1']);
  });

  it("KSM after an exit: the parent's rmap_items still lead the walk and reclaim to its child", () => {
    const { steps, error } = run(`
set kernel 6.18
spawn A
A: mmap m 2 anon private
A: write m 0..1 same
A: madvise m mergeable
ksm
A: fork B
B: walk m 0
A: exit
B: walk m 0
B: reclaim m 0
`);
    expect(error).toBeUndefined();
    const [before, after, reclaim] = steps
      .slice(-4)
      .filter((s) => s.report)
      .map((s) => s.report!);
    expect(before.visits.map((v) => v.where)).toEqual(['A:m:1', 'A:m:0', 'B:m:1', 'B:m:0']);
    expect(after.visits.map((v) => v.where)).toEqual(['B:m:1', 'B:m:0']);
    expect(reclaim.result).toBe('freed');
  });

  it('mprotect drops VM_ACCOUNT from an unfaulted VMA, which then does not merge (seeds 990, 6065)', () => {
    const { observations } = run(`
set kernel 6.18
spawn A
A: mmap r 4 anon private
A: mprotect r 3 1 none
A: write r 0
A: mprotect r 2 2 r
A: read r 2..3
A: fork B
observe
A: mprotect r 2 2 rw
A: fork C
observe
`);
    const zero = (o: Observation) => o.pages.find((p) => p.flags.includes('zero'))!.mappings.sort();
    expect(observations.map(zero)).toEqual([
      ['A:r:2', 'A:r:3', 'B:r:2'],
      ['A:r:2', 'A:r:3', 'B:r:2', 'C:r:2', 'C:r:3'],
    ]);
  });
});

describe('runner: the release’s unmap flags', () => {
  const flagged = (kernel: string, flags: string) => `set kernel ${kernel}
spawn A
A: mmap heap 1 anon private
A: write heap 0
A: unmap heap 0 ${flags}
observe
`;

  it('refuses a flag the release lacks at that flag, naming the releases that have it, before anything runs', () => {
    const { steps, error } = run(flagged('6.12', 'TTU_SYNC TTU_IGNORE_ACCESS'));
    expect(steps).toHaveLength(4);
    expect(error!.kind).toBe('semantic');
    expect(error!.format('x.rmap')).toBe(
      'x.rmap:5:26: error: TTU_IGNORE_ACCESS: not a try_to_unmap flag in Linux 6.12; it is in 4.9–4.11 (0x200), 4.12–5.10 (0x10), and without it try_to_unmap_one ignores the young bit',
    );
    // Nothing ran: the page got no swap slot (add_to_swap comes before try_to_unmap).
    const runner = new ScenarioRunner();
    const statements = [...iterateScenario(flagged('6.12', 'TTU_IGNORE_ACCESS'))];
    for (const st of statements.slice(0, 4)) runner.exec(st);
    expect(() => runner.exec(statements[4])).toThrow(ScenarioError);
    expect(runner.exec(statements[5]).observation!.pages[0].flags).not.toContain('swapcache');
  });

  it('takes a flag from its release on: TTU_SYNC from 5.13, TTU_SPLIT_FREEZE until 5.13', () => {
    expect(run(flagged('5.12', 'TTU_SYNC')).error?.message).toMatch(
      /TTU_SYNC: not a try_to_unmap flag in Linux 5\.12/,
    );
    expect(run(flagged('5.13', 'TTU_SYNC')).error).toBeUndefined();
    expect(run(flagged('5.13', 'TTU_SPLIT_FREEZE')).error).toBeUndefined();
    expect(run(flagged('5.14', 'TTU_SPLIT_FREEZE')).error?.message).toMatch(/it is in 4\.14–5\.13 \(0x100\)/);
  });

  it('reports the flags with the release’s values and try_to_unmap’s result in its words', () => {
    const report = (kernel: string, flags: string) => run(flagged(kernel, flags)).steps[4].report!;
    const old = report('4.9', 'TTU_IGNORE_MLOCK TTU_IGNORE_ACCESS');
    expect(old.details[0]).toBe('flags TTU_IGNORE_MLOCK|TTU_IGNORE_ACCESS = 0x300');
    expect(old.result).toBe('SWAP_SUCCESS');
    const bool = report('4.12', 'TTU_IGNORE_MLOCK TTU_IGNORE_ACCESS');
    expect(bool.details[0]).toBe('flags TTU_IGNORE_MLOCK|TTU_IGNORE_ACCESS = 0x18');
    expect(bool.result).toBe('true');
    const modern = report('6.18', 'TTU_SYNC');
    expect(modern.details[0]).toBe('flags TTU_SYNC = 0x10');
    expect(modern.result).toBe('void; folio_mapped() = false');
    expect(modern.visits.map((v) => v.result)).toEqual(['true']);
  });
});
