import { describe, expect, it } from 'vitest';
import {
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  sysMmap,
  sysMremap,
  sysMunmap,
  userAccess,
} from '../src/index.js';
import { World } from './helpers.js';
import { mprotect } from './ops.js';

const RW = PROT_READ | PROT_WRITE;

/** The VMAs of `p` as `first+pages:anon_vma` in region `h`'s page numbers (`-` without one). */
function layout(w: World, p: string): string[] {
  const base = w.addr('h', 0);
  return [...w.mm(p).vmas()].map(
    (v) => `${(v.vmStart - base) / PAGE_SIZE}+${v.pages}:${v.anonVma ? v.anonVma.name : '-'}`,
  );
}

describe('merging a VMA that has an anon_vma with one that has none (merge-anon-vma-directional)', () => {
  /** Seed 1859 of the generator: [3, 4) faulted, then the whole region made one protection again. */
  function faultedTail(kernel: string): World {
    const w = new World({ kernel });
    w.spawn('A');
    w.mmap('A', 'h', 4);
    mprotect(w, 'A', 'h', 0, 3, PROT_READ);
    w.write('A', 'h', 3);
    mprotect(w, 'A', 'h', 2, 2, PROT_READ);
    mprotect(w, 'A', 'h', 0, 4, RW);
    return w;
  }

  it('until 6.15 a faulted part never rejoins its unfaulted neighbours', () => {
    const w = faultedTail('6.12');
    const av = w.vma('A', 'h', 3).anonVma!.name;
    expect(layout(w, 'A')).toEqual(['0+3:-', `3+1:${av}`]);
  });

  it('from 6.16 it does when it was not forked, and the merged VMA takes its anon_vma (Linux 6.18)', () => {
    const w = faultedTail('6.18');
    const av = w.vma('A', 'h', 3).anonVma!.name;
    expect(layout(w, 'A')).toEqual([`0+4:${av}`]);
    // The singular-chain test is now on the side that has the anon_vma: a forked VMA stays out.
    for (const forked of [false, true]) {
      const f = new World({ kernel: '6.18' });
      f.spawn('A');
      f.mmap('A', 'h', 8);
      f.write('A', 'h', 0);
      const p = forked ? 'B' : 'A';
      if (forked) f.fork('A', 'B');
      // [0, 4) faulted (and forked), [4, 8) a new VMA never faulted; then both rw and accounted.
      sysMunmap(f.sys, f.mm(p), f.addr('h', 4), 4 * PAGE_SIZE);
      mprotect(f, p, 'h', 0, 4, PROT_READ);
      sysMmap(f.sys, f.mm(p), {
        addr: f.addr('h', 4),
        len: 4 * PAGE_SIZE,
        prot: PROT_READ,
        flags: MAP_PRIVATE,
      });
      mprotect(f, p, 'h', 4, 4, RW);
      expect(layout(f, p)).toHaveLength(2);
      mprotect(f, p, 'h', 0, 4, RW);
      expect(layout(f, p).length, forked ? 'forked' : 'not forked').toBe(forked ? 2 : 1);
    }
  });

  it("from 6.16 mremap's copy_vma merges a faulted VMA into an unfaulted neighbour, which joins its anon_vma", () => {
    // The vma-ops property test's counterexample: a page moved away and back keeps its pgoff, which
    // lines up with an unfaulted VMA mapped meanwhile just below its old place.
    for (const kernel of ['6.12', '6.18']) {
      const w = new World({ kernel });
      w.spawn('A');
      w.mmap('A', 'h', 16);
      const mm = w.mm('A');
      const at = (page: number) => w.addr('h', page);
      sysMunmap(w.sys, mm, at(0), 16 * PAGE_SIZE);
      sysMmap(w.sys, mm, { addr: at(8), len: PAGE_SIZE, prot: RW, flags: MAP_PRIVATE });
      userAccess(w.sys, mm, at(8), true);
      sysMremap(w.sys, mm, at(8), PAGE_SIZE, PAGE_SIZE, at(0));
      sysMmap(w.sys, mm, { addr: at(2), len: 6 * PAGE_SIZE, prot: RW, flags: MAP_PRIVATE });
      sysMremap(w.sys, mm, at(0), PAGE_SIZE, PAGE_SIZE, at(8));
      w.step(); // the invariant checker: the moved page is reachable through its VMA's anon_vma
      expect(layout(w, 'A'), kernel).toEqual(kernel === '6.18' ? ['2+7:AV4'] : ['2+6:-', '8+1:AV4']);
    }
  });
});
