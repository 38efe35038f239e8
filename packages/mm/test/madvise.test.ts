import { describe, expect, it } from 'vitest';
import {
  KernelError,
  PG_referenced,
  PTE_SWAP,
  PTE_YOUNG,
  readPte,
  sysMadvise,
  VM_HUGEPAGE,
  VM_MERGEABLE,
  VM_NOHUGEPAGE,
} from '../src/index.js';
import { World } from './helpers.js';
import { installTestReclaim, madvise, mlock } from './ops.js';

function errno(f: () => void): string {
  try {
    f();
  } catch (e) {
    return e instanceof KernelError ? e.errno : String(e);
  }
  return 'ok';
}

describe('madvise', () => {
  it('MADV_DONTNEED zaps the range: shared pages lose a mapping, private ones are freed', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 3);
    w.write('A', 'h', 0);
    w.write('A', 'h', 1);
    w.fork('A', 'B');
    w.write('A', 'h', 1);
    const shared = w.pfn('A', 'h', 0);
    madvise(w, 'A', 'h', 'dontneed');
    expect(w.pfn('A', 'h', 0)).toBe(-1);
    expect(w.sys.mem.mapcount[shared] + 1).toBe(1);
    expect(w.mm('A').rss.anon).toBe(0);
    expect(w.vma('A', 'h').anonVma).not.toBeNull(); // the VMA keeps its anon_vma
    mlock(w, 'A', 'h');
    expect(errno(() => sysMadvise(w.sys, w.mm('A'), w.addr('h', 0), 4096, 'dontneed'))).toBe('EINVAL');
  });

  it('MADV_HUGEPAGE and MADV_NOHUGEPAGE swap their two flags, splitting and merging VMAs like any flag advice', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 4);
    w.write('A', 'h', 0);
    const mm = w.mm('A');
    const advise = (first: number, pages: number, advice: 'hugepage' | 'nohugepage') => {
      sysMadvise(w.sys, mm, w.addr('h', first), pages * 4096, advice);
      w.step();
    };
    const layout = () =>
      [...mm.vmas()].map((v) => {
        const f = v.vmFlags & (VM_HUGEPAGE | VM_NOHUGEPAGE);
        return `${(v.vmStart - w.addr('h', 0)) / 4096}+${v.pages}:${f === VM_HUGEPAGE ? 'hg' : f === VM_NOHUGEPAGE ? 'nh' : f ? 'both' : '-'}`;
      });
    advise(1, 2, 'hugepage');
    expect(layout()).toEqual(['0+1:-', '1+2:hg', '3+1:-']);
    advise(1, 2, 'nohugepage');
    expect(layout()).toEqual(['0+1:-', '1+2:nh', '3+1:-']);
    advise(2, 2, 'nohugepage'); // [3, 4) joins the middle VMA
    expect(layout()).toEqual(['0+1:-', '1+3:nh']);
    advise(0, 4, 'hugepage'); // the range merges back into one VMA
    expect(layout()).toEqual(['0+4:hg']);
    expect(w.vma('A', 'h').anonVma).not.toBeNull();
  });

  it('MADV_COLD and MADV_PAGEOUT do not exist in 4.9 (EINVAL)', () => {
    const w = new World({ kernel: '4.9' });
    w.spawn('A');
    w.mmap('A', 'h', 1);
    for (const a of ['cold', 'pageout'] as const)
      expect(errno(() => sysMadvise(w.sys, w.mm('A'), w.addr('h', 0), 4096, a))).toBe('EINVAL');
  });

  it('MADV_PAGEOUT without swap (F6): anon pages stay; single file and shmem pages are unmapped', () => {
    const w = new World({ kernel: '6.12', swapPages: 0 });
    const handed = installTestReclaim(w.sys);
    w.spawn('A');
    w.mmap('A', 'h', 2);
    w.write('A', 'h', 0);
    w.write('A', 'h', 1);
    w.fork('A', 'B');
    w.write('B', 'h', 1);
    const before = [w.pfn('A', 'h', 0), w.pfn('A', 'h', 1)];
    madvise(w, 'A', 'h', 'pageout');
    // Only A:h:1 is A's alone; the reclaim finds no swap and leaves it mapped.
    expect(handed).toEqual([before[1]]);
    expect([w.pfn('A', 'h', 0), w.pfn('A', 'h', 1)]).toEqual(before);
    madvise(w, 'A', 'h', 'cold');
    expect([w.pfn('A', 'h', 0), w.pfn('A', 'h', 1)]).toEqual(before);

    w.spawn('C');
    w.mmap('C', 'p', 4, 'f');
    w.read('C', 'p', 0);
    w.spawn('D');
    w.mmap('D', 'p', 4, 'f');
    w.read('D', 'p', 0);
    w.mmap('C', 'q', 4, 'g');
    w.read('C', 'q', 0);
    handed.length = 0;
    madvise(w, 'C', 'p', 'pageout');
    expect(handed).toEqual([]); // every page mapped twice
    madvise(w, 'C', 'q', 'pageout');
    expect(handed).toHaveLength(4);
    for (let i = 0; i < 4; i++) expect(w.pfn('C', 'q', i)).toBe(-1);

    w.mmap('C', 's', 4, 'anon', true);
    for (let i = 0; i < 4; i++) w.write('C', 's', i);
    const shm = [0, 1, 2, 3].map((i) => w.pfn('C', 's', i));
    madvise(w, 'C', 's', 'pageout');
    for (let i = 0; i < 4; i++) expect(w.pfn('C', 's', i)).toBe(-1);
    w.read('C', 's', 1); // still in the shmem cache: same pages, fault-around maps them all
    expect([0, 1, 2, 3].map((i) => w.pfn('C', 's', i))).toEqual(shm);
  });

  it('MADV_PAGEOUT with swap turns a page mapped once into a swap entry; locked VMAs are EINVAL', () => {
    const w = new World({ kernel: '6.12' });
    installTestReclaim(w.sys);
    w.spawn('A');
    w.mmap('A', 'h', 2);
    w.write('A', 'h', 0);
    w.read('A', 'h', 1); // zero page: never handed over
    madvise(w, 'A', 'h', 'pageout');
    expect(readPte(w.mm('A'), w.addr('h', 0)).bits & PTE_SWAP).toBe(PTE_SWAP);
    expect(readPte(w.mm('A'), w.addr('h', 1)).pfn).toBe(0);
    w.write('A', 'h', 0); // swap-in, write: exclusive again
    expect(w.mm('A').rss).toMatchObject({ anon: 1, swap: 0 });
    mlock(w, 'A', 'h');
    expect(errno(() => sysMadvise(w.sys, w.mm('A'), w.addr('h', 0), 4096, 'pageout'))).toBe('EINVAL');
    expect(errno(() => sysMadvise(w.sys, w.mm('A'), w.addr('h', 0), 4096, 'cold'))).toBe('EINVAL');
  });

  it('MADV_COLD makes the PTEs old and clears PG_referenced, nothing else', () => {
    const w = new World({ kernel: '6.12' });
    w.spawn('A');
    w.mmap('A', 'h', 1);
    w.write('A', 'h', 0);
    const pfn = w.pfn('A', 'h', 0);
    w.sys.mem.flags[pfn] |= 1 << PG_referenced;
    madvise(w, 'A', 'h', 'cold');
    expect(readPte(w.mm('A'), w.addr('h', 0)).bits & PTE_YOUNG).toBe(0);
    expect(w.sys.mem.flags[pfn] & (1 << PG_referenced)).toBe(0);
    expect(w.pfn('A', 'h', 0)).toBe(pfn);
  });

  it('MADV_PAGEOUT without an installed reclaim is a clear error', () => {
    const w = new World({ kernel: '6.12' });
    w.spawn('A');
    w.mmap('A', 'h', 1);
    expect(() => sysMadvise(w.sys, w.mm('A'), w.addr('h', 0), 4096, 'pageout')).toThrow(/reclaimPage/);
  });

  it('refuses a hole (ENOMEM) before touching anything', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 3);
    w.write('A', 'h', 0);
    w.munmap('A', 'h', 1, 1);
    expect(errno(() => sysMadvise(w.sys, w.mm('A'), w.addr('h', 0), 3 * 4096, 'dontneed'))).toBe('ENOMEM');
    expect(w.pfn('A', 'h', 0)).toBeGreaterThan(0);
  });

  it('MADV_MERGEABLE / UNMERGEABLE set and clear VM_MERGEABLE on the range (split and merge back)', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 6);
    w.write('A', 'h', 0);
    sysMadvise(w.sys, w.mm('A'), w.addr('h', 2), 2 * 4096, 'mergeable');
    w.step();
    expect(w.mm('A').mapCount).toBe(3);
    expect(w.vma('A', 'h', 2).vmFlags & VM_MERGEABLE).not.toBe(0); // bit 31: negative as an int32
    expect(w.vma('A', 'h', 0).vmFlags & VM_MERGEABLE).toBe(0);
    madvise(w, 'A', 'h', 'unmergeable');
    expect(w.mm('A').mapCount).toBe(1);
    expect(w.vma('A', 'h').vmFlags & VM_MERGEABLE).toBe(0);
    // Shared mappings ignore the advice (ksm_madvise leaves their flags alone).
    w.mmap('A', 's', 2, 'anon', true);
    madvise(w, 'A', 's', 'mergeable');
    expect(w.vma('A', 's').vmFlags & VM_MERGEABLE).toBe(0);
  });
});
