/**
 * A dirty page-cache page reaching shrink_page_list()'s PageDirty branch: who may write it back
 * (kswapd, and from 4.11 only on its second meeting with the page), and what happens to it
 * otherwise — PG_reclaim set, kept (4.9) or activated (4.11+), unmapped but still in the page
 * cache — and how PG_reclaim, being PG_readahead's bit, keeps fault-around away from it until a
 * real fault clears it. MADV_PAGEOUT is such an "otherwise" (issue 14 §5, seeds 5200, 5262, 6258).
 */

import type { Task } from '@rmaplab/locks';
import { type MmSystem, PAGE_SIZE, PG_active, PG_dirty, PG_reclaim, sysMadvise } from '@rmaplab/mm';
import { describe, expect, it } from 'vitest';
import { pageReferenced, shrinkPage } from '../src/index.js';
import { World } from './helpers.js';

function has(sys: MmSystem, pfn: number, bit: number): boolean {
  return (sys.mem.flags[pfn] & (1 << bit)) !== 0;
}

/** A shared 4-page file region of A with pages 0 and 1 written (dirty); their frames. */
function dirtyFile(kernel: string): { w: World; pfns: number[] } {
  const w = new World({ kernel });
  w.spawn('A');
  w.mmap('A', 'f', 4, 'data', true);
  w.write('A', 'f', 0);
  w.write('A', 'f', 1);
  return { w, pfns: [w.pfn('A', 'f', 0), w.pfn('A', 'f', 1)] };
}

/**
 * Reclaim the page as `task`, past page_check_references() (as reclaim_pages() is): an aging pass
 * first clears the young bits, which before 5.11 would make try_to_unmap() fail.
 */
function reclaimAs(w: World, task: Task, pfn: number) {
  w.sys.as(w.sys.kswapd, () => pageReferenced(w.sys, pfn, false));
  const r = w.sys.as(task, () => shrinkPage(w.sys, pfn, { ignoreReferences: true }));
  w.check();
  return r;
}

describe('dirty file pages in reclaim', () => {
  it('MADV_PAGEOUT unmaps them and leaves them dirty in the page cache with PG_reclaim (6.18)', () => {
    const { w, pfns } = dirtyFile('6.18');
    const file = w.sys.files.get('data')!;
    sysMadvise(w.sys, w.mm('A'), w.addr('f'), 4 * PAGE_SIZE, 'pageout');
    w.check();
    for (const [i, pfn] of pfns.entries()) {
      expect(w.pte('A', 'f', i).bits, `A:f:${i}`).toBe(0);
      expect(file.mapping.pageTree.get(i)).toBe(pfn);
      for (const bit of [PG_dirty, PG_reclaim, PG_active])
        expect(has(w.sys, pfn, bit), `bit ${bit}`).toBe(true);
      expect(file.mapping.disk.has(i), 'not written back').toBe(false);
    }
    // Fault-around maps the clean pages 2 and 3 but skips page 1 (PG_readahead is PG_reclaim);
    // the real fault on page 0 clears its bit and maps the same frame.
    w.read('A', 'f', 0);
    expect(w.pfn('A', 'f', 0)).toBe(pfns[0]);
    expect(w.pfn('A', 'f', 1)).toBe(-1);
    expect(w.pfn('A', 'f', 2)).toBeGreaterThan(0);
    expect(w.pfn('A', 'f', 3)).toBeGreaterThan(0);
    expect(has(w.sys, pfns[0], PG_reclaim)).toBe(false);
    expect(has(w.sys, pfns[1], PG_reclaim)).toBe(true);
    w.read('A', 'f', 1);
    expect(w.pfn('A', 'f', 1)).toBe(pfns[1]);
    expect(has(w.sys, pfns[1], PG_dirty)).toBe(true);
  });

  it.each([
    ['4.9', 'kept', false],
    ['4.11', 'activated', true],
  ])('outside kswapd (%s) the page is never written: %s', (kernel, outcome, active) => {
    const { w, pfns } = dirtyFile(kernel);
    const r = reclaimAs(w, w.mm('A').owner, pfns[0]);
    expect(r.outcome).toBe(outcome);
    expect(r.reason).toMatch(/only kswapd writes file pages back: PG_reclaim set/);
    expect(r.wrote).toBe(false);
    expect(w.pte('A', 'f', 0).bits).toBe(0);
    expect(has(w.sys, pfns[0], PG_reclaim)).toBe(true);
    expect(has(w.sys, pfns[0], PG_active)).toBe(active);
    expect(has(w.sys, pfns[0], PG_dirty)).toBe(true);
  });

  it('kswapd writes it at once under 4.9, on its second meeting with it from 4.11', () => {
    const old = dirtyFile('4.9');
    const r49 = reclaimAs(old.w, old.w.sys.kswapd, old.pfns[0]);
    expect([r49.outcome, r49.wrote]).toEqual(['freed', true]);

    const { w, pfns } = dirtyFile('4.11');
    const file = w.sys.files.get('data')!;
    const first = reclaimAs(w, w.sys.kswapd, pfns[0]);
    expect([first.outcome, first.wrote]).toEqual(['activated', false]);
    expect(first.reason).toMatch(/kswapd writes back only a dirty file page it has met before/);
    expect(has(w.sys, pfns[0], PG_reclaim)).toBe(true);
    const content = w.sys.mem.content[pfns[0]];
    const second = reclaimAs(w, w.sys.kswapd, pfns[0]);
    expect([second.outcome, second.wrote]).toEqual(['freed', true]);
    expect(file.mapping.disk.get(0)).toBe(content);
    expect(file.mapping.pageTree.has(0)).toBe(false);
  });
});
