/**
 * Statements the kernel would BUG on are located `kernel` errors that name the assertion and the
 * caller step the statement skipped, and change nothing; where a release WARNs instead, the
 * statement runs as that release does (the PTE cleared and not restored, the mapping leaked) and
 * the invariant checker still passes.
 */
import { checkInvariants, ksmExternalRefs, stateFingerprint } from '@rmaplab/mm';
import { kernelWarnings } from '@rmaplab/rmap';
import { describe, expect, it } from 'vitest';
import {
  type OpReport,
  parseScenario,
  ScenarioError,
  ScenarioRunner,
  type StepResult,
} from '../src/index.js';

/** Run every statement but the last, checking invariants; then the last one, which must be refused. */
function refused(text: string): { error: ScenarioError; runner: ScenarioRunner } {
  const sts = parseScenario(text);
  const runner = new ScenarioRunner({ check: true });
  for (const st of sts.slice(0, -1)) runner.exec(st);
  const before = stateFingerprint(runner.sys);
  let error: unknown;
  try {
    runner.exec(sts[sts.length - 1]);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ScenarioError);
  expect(stateFingerprint(runner.sys)).toBe(before);
  runner.checkInvariants();
  return { error: error as ScenarioError, runner };
}

/** Run the whole scenario with the checker after every statement; the results by step. */
function run(text: string, opts = {}): StepResult[] {
  const runner = new ScenarioRunner({ check: true, ...opts });
  return parseScenario(text).map((st) => runner.exec(st));
}

const SWAP_CACHE_BUG =
  'try_to_unmap_one would hit VM_BUG_ON_PAGE(!PageSwapCache(page)) (mm/rmap.c, Linux before 4.12, with CONFIG_DEBUG_VM)';

describe('try_to_unmap_one: VM_BUG_ON_PAGE(!PageSwapCache(page)) before 4.12', () => {
  const noSwap = 'set swap 0\nspawn A\nA: mmap h 1 anon private\nA: write h 0\n';

  it('no swap: refused at the page, as reclaim would not have unmapped a page add_to_swap() refused', () => {
    const { error } = refused(`${noSwap}A: unmap h 0 TTU_IGNORE_ACCESS\n`);
    expect([error.kind, error.line, error.column]).toEqual(['kernel', 5, 12]);
    expect(error.message).toBe(
      `${SWAP_CACHE_BUG} unmapping A at 0x10000000000: pfn 1 is anonymous and not in the swap cache: add_to_swap() gave it no slot, there is no swap (set swap 0); reclaim calls try_to_unmap() on an anonymous page only after add_to_swap() succeeded, and keeps the page when it fails`,
    );
  });

  it('swap full: the message says the slots are all in use', () => {
    const { error } = refused(
      'set swap 1\nspawn A\nA: mmap h 2 anon private\nA: write h 0..1\nA: unmap h 0 TTU_IGNORE_ACCESS\nA: unmap h 1 TTU_IGNORE_ACCESS\n',
    );
    expect(error.message).toMatch(/add_to_swap\(\) gave it no slot, all 1 swap slots are in use;/);
  });

  it('TTU_MUNLOCK with TTU_IGNORE_MLOCK in a VM_LOCKED VMA: refused at TTU_IGNORE_MLOCK', () => {
    const { error } = refused(
      'spawn A\nA: mmap h 1 anon private\nA: mlock h\nA: unmap h 0 TTU_MUNLOCK TTU_IGNORE_MLOCK TTU_IGNORE_ACCESS\n',
    );
    expect([error.kind, error.line, error.column]).toEqual(['kernel', 4, 26]);
    expect(error.message).toMatch(
      /pfn 1 is anonymous and not in the swap cache, as TTU_MUNLOCK takes no swap slot, yet TTU_IGNORE_MLOCK lets the walk unmap it in the VM_LOCKED VMA there; try_to_munlock\(\) passes TTU_MUNLOCK alone/,
    );
  });

  it('only when the walk gets there: a VM_LOCKED VMA visited first stops it (SWAP_MLOCK)', () => {
    // The page is A's, shared with B; A's VMA comes first in the anon_vma's tree.
    const shared = `${noSwap}A: fork B\n`;
    const locked = run(`${shared}A: mprotect h 0 1 r\nA: mlock h\nB: unmap h 0 TTU_IGNORE_ACCESS\n`);
    expect(locked.at(-1)!.report!.result).toBe('SWAP_MLOCK');
    const { error } = refused(`${shared}B: mprotect h 0 1 r\nB: mlock h\nB: unmap h 0 TTU_IGNORE_ACCESS\n`);
    expect(error.message).toMatch(/ unmapping A at 0x10000000000: pfn 1/);
  });

  it('only when the walk gets there: a young PTE stops it first (SWAP_FAIL), the next unmap gets there', () => {
    const steps = run(`${noSwap}A: unmap h 0\n`);
    expect(steps.at(-1)!.report!.result).toBe('SWAP_FAIL');
    expect(refused(`${noSwap}A: unmap h 0\nA: unmap h 0\n`).error.line).toBe(6);
  });

  it("the look-ahead walk is not in the statement's trace", () => {
    const steps = run(
      `${noSwap}A: fork B\nA: mprotect h 0 1 r\nA: mlock h\nB: unmap h 0 TTU_IGNORE_ACCESS\n`,
      {
        trace: true,
      },
    );
    const walks = steps.at(-1)!.events.filter((e) => e.kind === 'walk' && e.fn === 'rmap_walk_anon');
    expect(walks.map((e) => e.msg)).toEqual([expect.stringMatching(/^pfn 1 /), 'returns SWAP_MLOCK']);
  });

  it('migration entries need no swap slot: TTU_MIGRATION runs', () => {
    const steps = run(`${noSwap}A: unmap h 0 TTU_MIGRATION TTU_IGNORE_ACCESS\n`);
    expect(steps.at(-1)!.report!.result).toBe('SWAP_SUCCESS');
  });
});

describe('try_to_unmap_one: the WARN of 4.12 and later', () => {
  // Until 5.11 only TTU_IGNORE_ACCESS gets a young PTE past the young check.
  const scenario = (kernel: string, flag = '') =>
    `set kernel ${kernel}\nset swap 0\nspawn A\nA: mmap h 1 anon private\nA: write h 0\nA: fork B\nA: unmap h 0${flag}\nobserve\nB: unmap h 0${flag}\nobserve\nA: write h 0\nobserve\n`;

  // In the release's words: 4.12's try_to_unmap returns false, 6.18's nothing (the page is still mapped).
  for (const [kernel, flag, result] of [
    ['4.12', ' TTU_IGNORE_ACCESS', 'false'],
    ['6.18', '', 'void; folio_mapped() = true'],
  ])
    it(`${kernel}: the PTE is cleared and not restored, the walk aborts, the mapping is leaked and counted`, () => {
      const steps = run(scenario(kernel, flag));
      const unmap = (s: StepResult) => s.report as OpReport & { raw: { op: 'unmap' } };
      const first = unmap(steps[6]);
      expect(first.result).toBe(result);
      expect(first.details).toContain(
        'WARNING in try_to_unmap_one (mm/rmap.c): WARN_ON_ONCE(PageSwapBacked(page) != PageSwapCache(page)): pfn 1 is anonymous and not in the swap cache: its PTE at 0x10000000000 in A is cleared and not restored, the walk aborts, and the page still counts the mapping (leaked)',
      );
      expect(first.details).toContain('mapcount 2 → 2');
      // A's PTE is gone, B's is left; the page still counts both.
      expect(steps[7].observation!.pages.map((p) => [p.mapcount, p.mappings])).toEqual([[2, ['B:h:0']]]);
      expect(steps[7].observation!.absent).toEqual(['A:h:0']);
      // WARN_ON_ONCE: the second is not printed.
      expect(unmap(steps[8]).details.find((d) => d.startsWith('WARNING'))).toMatch(
        /\(not printed: it warns once a boot\): pfn 1 .* in B is cleared/,
      );
      // A's next write faults in a new page: the data the leaked page holds is lost to A.
      expect(steps[11].observation!.pages.map((p) => [p.pfn, p.mapcount, p.mappings])).toEqual([
        [2, 1, ['A:h:0']],
      ]);
    });

  it('the checker counts the leaked mappings (and fails without them)', () => {
    const runner = new ScenarioRunner();
    for (const st of parseScenario(scenario('6.18'))) runner.exec(st);
    expect(kernelWarnings(runner.sys)).toHaveLength(2);
    runner.checkInvariants();
    expect(() => checkInvariants(runner.sys, ksmExternalRefs(runner.sys))).toThrow(
      'invariant "mapcount = PTEs" broken: pfn 1: mapcount 2, mapped by 0 PTEs',
    );
  });
});

describe('rmap_walk_locked: VM_BUG_ON_PAGE(PageKsm(page)) in every release', () => {
  for (const kernel of ['4.9', '6.18'])
    it(`${kernel}: unmap TTU_RMAP_LOCKED of a KSM page is refused at the flag`, () => {
      const { error } = refused(
        `set kernel ${kernel}\nspawn A\nA: mmap h 2 anon private\nA: write h 0..1 v\nA: madvise h mergeable\nksm\nA: unmap h 0 TTU_SPLIT_HUGE_PMD TTU_RMAP_LOCKED\n`,
      );
      expect([error.kind, error.line, error.column]).toEqual(['kernel', 7, 33]);
      expect(error.message).toBe(
        'rmap_walk_locked would hit VM_BUG_ON_PAGE(PageKsm(page)) (mm/rmap.c, every release from 4.9 to 6.18, with CONFIG_DEBUG_VM): pfn 2 is a KSM page, which has no rmap lock a caller could hold (rmap_walk_ksm takes the anon_vma lock of each rmap_item in turn); TTU_RMAP_LOCKED is for callers that hold the anon_vma or i_mmap lock already, such as the THP split, and no KSM page is a huge page',
      );
    });
});

describe('a flag the release does not take', () => {
  it('is refused before add_to_swap gives the page a slot', () => {
    const { error, runner } = refused(
      'set kernel 6.12\nspawn A\nA: mmap h 1 anon private\nA: write h 0\nA: unmap h 0 TTU_LZFREE\n',
    );
    expect([error.line, error.column]).toEqual([5, 14]);
    expect(error.message).toMatch(/^TTU_LZFREE: not a try_to_unmap flag in Linux 6.12/);
    expect(runner.sys.swap.inUse).toBe(0);
  });
});
