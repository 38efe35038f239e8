import { describe, expect, it } from 'vitest';
import {
  KernelError,
  PAGE_SIZE,
  PG_mlocked,
  PTE_SWAP,
  readPte,
  sysMadvise,
  sysMremap,
  vmaAddress,
} from '../src/index.js';
import { World } from './helpers.js';
import { installTestReclaim, mlock, mremap } from './ops.js';

function pfns(w: World, p: string, region: string, pages: number): number[] {
  return Array.from({ length: pages }, (_, i) => w.pfn(p, region, i));
}

/** A region that the World has placed with nothing mapped there: somewhere to move a mapping to. */
function freeRegion(w: World, p: string, region: string): void {
  w.mmap(p, region, 1);
  w.munmap(p, region, 0, 1);
}

describe('mremap (kernel-rmap.md §7.5, kernel-facts F8)', () => {
  it('move keeps the PFNs and the old linear pgoff, so vma_address() finds every page', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'r', 4);
    freeRegion(w, 'A', 'dest');
    for (let i = 0; i < 4; i++) w.write('A', 'r', i);
    const old = pfns(w, 'A', 'r', 4);
    const oldStart = w.addr('r', 0);
    const av = w.vma('A', 'r').anonVma!;
    mremap(w, 'A', 'r', 4, 'dest');
    expect(w.addr('r', 0)).toBe(w.addr('dest', 0));
    expect(pfns(w, 'A', 'r', 4)).toEqual(old);
    const n = w.vma('A', 'r');
    expect(n.vmPgoff).toBe(oldStart / PAGE_SIZE);
    expect(n.anonVma).toBe(av);
    expect(av.rbRoot.size).toBe(1);
    expect(av.degree).toBe(2);
    for (let i = 0; i < 4; i++) {
      expect(w.sys.mem.mapcount[old[i]] + 1).toBe(1);
      expect(vmaAddress(n, w.sys.mem.index[old[i]])).toBe(w.addr('r', i));
    }
  });

  it('a VMA without an anon_vma takes pgoff = new address (copy_vma)', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'r', 4);
    w.read('A', 'r', 1); // zero page: still no anon_vma
    freeRegion(w, 'A', 'dest');
    mremap(w, 'A', 'r', 4, 'dest');
    const n = w.vma('A', 'r');
    expect(n.vmPgoff).toBe(w.addr('dest', 0) / PAGE_SIZE);
    expect(readPte(w.mm('A'), w.addr('r', 1)).bits).not.toBe(0);
  });

  it('move, then fork, then COW on both sides (F8 steps 12-15)', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'r', 4);
    freeRegion(w, 'A', 'dest');
    for (let i = 0; i < 4; i++) w.write('A', 'r', i);
    mremap(w, 'A', 'r', 4, 'dest');
    const old = pfns(w, 'A', 'r', 4);
    w.fork('A', 'B');
    expect(pfns(w, 'B', 'r', 4)).toEqual(old);
    for (const pfn of old) expect(w.sys.mem.mapcount[pfn] + 1).toBe(2);
    w.write('B', 'r', 0);
    w.write('A', 'r', 1);
    expect(w.pfn('A', 'r', 0)).toBe(old[0]);
    expect(w.pfn('B', 'r', 1)).toBe(old[1]);
    expect(w.pfn('B', 'r', 0)).not.toBe(old[0]);
    expect(w.pfn('A', 'r', 1)).not.toBe(old[1]);
    expect(w.sys.mem.mapcount[old[0]] + 1).toBe(1);
    expect(w.sys.mem.mapcount[old[1]] + 1).toBe(1);
    // Grow in place: the new pages are absent until touched; then shrink drops B's sharing.
    mremap(w, 'A', 'r', 10);
    expect(pfns(w, 'A', 'r', 10).slice(4)).toEqual([-1, -1, -1, -1, -1, -1]);
    w.write('A', 'r', 9);
    mremap(w, 'A', 'r', 3);
    expect(w.mm('A').rss.anon).toBe(3);
    expect(w.sys.mem.mapcount[old[3]] + 1).toBe(1);
  });

  it('moves swap entries and file pages with the VMA', () => {
    const w = new World({ kernel: '6.12' });
    installTestReclaim(w.sys);
    w.spawn('A');
    w.mmap('A', 'r', 3);
    w.mmap('A', 'f', 4, 'file-f');
    freeRegion(w, 'A', 'd1');
    freeRegion(w, 'A', 'd2');
    w.write('A', 'r', 0);
    w.write('A', 'r', 1);
    sysMadvise(w.sys, w.mm('A'), w.addr('r', 0), PAGE_SIZE, 'pageout');
    w.step();
    expect(readPte(w.mm('A'), w.addr('r', 0)).bits & PTE_SWAP).toBe(PTE_SWAP);
    w.read('A', 'f', 0);
    const filePfn = w.pfn('A', 'f', 2);
    mremap(w, 'A', 'r', 3, 'd1');
    mremap(w, 'A', 'f', 4, 'd2');
    expect(readPte(w.mm('A'), w.addr('r', 0)).bits & PTE_SWAP).toBe(PTE_SWAP);
    expect(w.pfn('A', 'f', 2)).toBe(filePfn);
    expect(w.vma('A', 'f').vmPgoff).toBe(0);
    w.read('A', 'r', 0); // swap-in at the new place
    expect(w.mm('A').rss).toMatchObject({ swap: 0, anon: 2 });
  });

  it('a locked mapping that grows has its new part populated and mlocked', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'r', 2);
    mlock(w, 'A', 'r');
    mremap(w, 'A', 'r', 4);
    for (let i = 0; i < 4; i++) {
      const pfn = w.pfn('A', 'r', i);
      expect(pfn).toBeGreaterThan(0);
      expect(w.sys.mem.flags[pfn] & (1 << PG_mlocked)).not.toBe(0);
    }
  });

  it('refuses an unmapped old range (EFAULT) and overlapping ranges (EINVAL) before any change', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'r', 4);
    const before = [...w.mm('A').vmas()].map((v) => [v.vmStart, v.vmEnd]);
    const errno = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e instanceof KernelError ? e.errno : String(e);
      }
      return 'ok';
    };
    const a = w.addr('r', 0);
    expect(errno(() => sysMremap(w.sys, w.mm('A'), a, 8 * PAGE_SIZE, 9 * PAGE_SIZE))).toBe('EFAULT');
    expect(errno(() => sysMremap(w.sys, w.mm('A'), a, 4 * PAGE_SIZE, 4 * PAGE_SIZE, a + PAGE_SIZE))).toBe(
      'EINVAL',
    );
    expect(errno(() => sysMremap(w.sys, w.mm('A'), a, 4 * PAGE_SIZE, 0))).toBe('EINVAL');
    expect([...w.mm('A').vmas()].map((v) => [v.vmStart, v.vmEnd])).toEqual(before);
  });

  it('a VMA that cannot grow in place moves to a fresh 2 MiB-aligned address', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'r', 2);
    w.write('A', 'r', 0);
    const pfn = w.pfn('A', 'r', 0);
    // Block the space after the region.
    const oldAddr = w.addr('r', 0);
    w.regions.set('block', { addr: oldAddr + 2 * PAGE_SIZE, pages: 1 });
    w.mmap('A', 'block', 1);
    mremap(w, 'A', 'r', 4);
    expect(w.addr('r', 0)).not.toBe(oldAddr);
    expect(w.addr('r', 0) % (512 * PAGE_SIZE)).toBe(0);
    expect(w.vma('A', 'r').pages).toBe(4);
    expect(w.pfn('A', 'r', 0)).toBe(pfn);
  });
});

describe('mremap move of several VMAs (rule mremap-multi-vma, 6.17)', () => {
  /** Region r of 6 pages with a hole at page `hole`, pages 0..5 but the hole written; dest is free. */
  function holed(kernel: string, hole: number): World {
    const w = new World({ kernel });
    w.spawn('A');
    w.mmap('A', 'r', 6);
    w.mmap('A', 'dest', 6);
    w.munmap('A', 'dest', 0, 6);
    for (let i = 0; i < 6; i++) if (i !== hole) w.write('A', 'r', i);
    w.munmap('A', 'r', hole, 1);
    return w;
  }
  const move = (w: World) =>
    sysMremap(w.sys, w.mm('A'), w.addr('r', 0), 6 * PAGE_SIZE, 6 * PAGE_SIZE, w.addr('dest', 0));

  it('6.17 moves every VMA at its offset and keeps the gap unmapped', () => {
    const w = holed('6.17', 3);
    const old = [0, 1, 2, 4, 5].map((i) => w.pfn('A', 'r', i));
    const dest = w.addr('dest', 0);
    expect(move(w)).toBe(dest);
    const vmas = [...w.mm('A').vmas()].filter((v) => v.vmStart >= dest && v.vmEnd <= dest + 6 * PAGE_SIZE);
    expect(vmas.map((v) => [(v.vmStart - dest) / PAGE_SIZE, (v.vmEnd - dest) / PAGE_SIZE])).toEqual([
      [0, 3],
      [4, 6],
    ]);
    expect([0, 1, 2, 4, 5].map((i) => w.pfn('A', 'dest', i))).toEqual(old);
    expect(readPte(w.mm('A'), w.addr('dest', 3)).bits).toBe(0);
    expect(readPte(w.mm('A'), w.addr('r', 0)).bits).toBe(0);
  });

  it('6.16 refuses the same move with EFAULT and changes nothing', () => {
    const w = holed('6.16', 3);
    const old = w.pfn('A', 'r', 0);
    expect(() => move(w)).toThrow(KernelError);
    expect(w.pfn('A', 'r', 0)).toBe(old);
  });

  it('a gap at the start is EFAULT in 6.17 too, before anything moves', () => {
    const w = holed('6.17', 0);
    const old = w.pfn('A', 'r', 1);
    expect(() => move(w)).toThrow(/EFAULT|not mapped/);
    expect(w.pfn('A', 'r', 1)).toBe(old);
  });
});
