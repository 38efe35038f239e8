import { describe, expect, it } from 'vitest';
import {
  CONTENT_ZERO,
  PageAnon,
  PageSwapCache,
  PG_dirty,
  PG_swapbacked,
  PROT_READ,
  PTE_WRITE,
  pageAnonVma,
  readPte,
} from '../src/index.js';
import { swapOutPage, World } from './helpers.js';
import { mprotect } from './ops.js';

describe('anonymous memory (kernel-rmap.md §7.1–7.4)', () => {
  it('a write fault gives the VMA a new root anon_vma of degree 2 and an exclusive page', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'heap', 4);
    w.write('A', 'heap', 1);
    const vma = w.vma('A', 'heap');
    const av = vma.anonVma!;
    expect(av.root).toBe(av);
    expect(av.parent).toBe(av);
    expect(av.degree).toBe(2);
    expect(av.refcount).toBe(1);
    expect(vma.anonVmaChain).toHaveLength(1);
    const pfn = w.pfn('A', 'heap', 1);
    const mem = w.sys.mem;
    expect(mem.mapcount[pfn] + 1).toBe(1);
    expect(PageAnon(mem, pfn)).toBe(true);
    expect(pageAnonVma(mem, pfn)).toBe(av);
    expect(mem.index[pfn]).toBe(w.addr('heap', 1) / 4096);
    expect(mem.flags[pfn] & (1 << PG_swapbacked)).not.toBe(0);
  });

  it('a read fault maps the zero page with no anon_vma', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'heap', 4);
    w.read('A', 'heap', 0);
    expect(w.vma('A', 'heap').anonVma).toBeNull();
    expect(readPte(w.mm('A'), w.addr('heap', 0)).pfn).toBe(0);
  });

  it('fork shares the page (mapcount 2, both PTEs read-only) and builds the anon_vma family', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'heap', 2);
    w.write('P', 'heap', 0);
    w.fork('P', 'C');
    const pv = w.vma('P', 'heap');
    const cv = w.vma('C', 'heap');
    const avP = pv.anonVma!;
    const avC = cv.anonVma!;
    expect(avC).not.toBe(avP);
    expect(avC.root).toBe(avP);
    expect(avC.parent).toBe(avP);
    expect(avP.degree).toBe(3);
    expect(avC.degree).toBe(1);
    expect(avP.refcount).toBe(2);
    expect(cv.anonVmaChain.map((a) => a.anonVma)).toEqual([avC, avP]);
    const pfn = w.pfn('P', 'heap', 0);
    expect(w.pfn('C', 'heap', 0)).toBe(pfn);
    expect(w.sys.mem.mapcount[pfn] + 1).toBe(2);
    expect(w.sys.mem.refcount[pfn]).toBe(2);
    expect(readPte(w.mm('P'), w.addr('heap', 0)).bits & PTE_WRITE).toBe(0);
    expect(readPte(w.mm('C'), w.addr('heap', 0)).bits & PTE_WRITE).toBe(0);
    // the walk order: P's AVC then C's in AV(P)'s tree
    expect([...avP.rbRoot.overlapping(0, Number.MAX_SAFE_INTEGER)].map((n) => n.value.vma)).toEqual([pv, cv]);
  });

  it('COW in the child copies; a later parent write reuses the old page in place', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'heap', 1);
    w.write('P', 'heap', 0);
    w.fork('P', 'C');
    const old = w.pfn('P', 'heap', 0);
    w.write('C', 'heap', 0);
    const copy = w.pfn('C', 'heap', 0);
    expect(copy).not.toBe(old);
    expect(pageAnonVma(w.sys.mem, copy)).toBe(w.vma('C', 'heap').anonVma);
    expect(w.sys.mem.mapcount[old] + 1).toBe(1);
    w.write('P', 'heap', 0);
    expect(w.pfn('P', 'heap', 0)).toBe(old);
  });

  it('when the parent writes first and the child then writes, the old page moves to the child anon_vma', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'heap', 1);
    w.write('P', 'heap', 0);
    w.fork('P', 'C');
    const old = w.pfn('P', 'heap', 0);
    w.write('P', 'heap', 0);
    w.write('C', 'heap', 0);
    expect(w.pfn('C', 'heap', 0)).toBe(old);
    expect(pageAnonVma(w.sys.mem, old)).toBe(w.vma('C', 'heap').anonVma);
  });

  it('munmap in the parent leaves the child mapping and AV(P) alive; exits free everything', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'heap', 2);
    w.write('P', 'heap', 0);
    w.write('P', 'heap', 1);
    w.fork('P', 'C');
    const avP = w.vma('P', 'heap').anonVma!;
    w.exit('P');
    expect(avP.freed).toBe(false);
    expect(avP.degree).toBe(2); // self-parent + AV(C); P's VMA is gone
    w.exit('C');
    expect(avP.freed).toBe(true);
    expect(w.sys.anonVmas.size).toBe(0);
    expect(w.sys.mem.allocated).toBe(0);
  });
});

describe('swap (reclaim done by hand: helpers.swapOutPage)', () => {
  it('a read swap-in maps the page read-only under the root anon_vma; the swap copy stays while mapped', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'h', 1);
    w.write('P', 'h', 0);
    w.fork('P', 'C');
    w.write('C', 'h', 0); // C's own page, mapping AV(C)
    const avP = w.vma('P', 'h').anonVma!;
    const pfn = w.pfn('C', 'h', 0);
    expect(pageAnonVma(w.sys.mem, pfn)).toBe(w.vma('C', 'h').anonVma);
    expect(swapOutPage(w.sys, pfn, true)).toBe(true);
    w.step();
    expect(w.sys.mem.isAllocated(pfn)).toBe(false);
    expect(w.mm('C').rss.swap).toBe(1);
    w.read('C', 'h', 0);
    const back = w.pfn('C', 'h', 0);
    expect(pageAnonVma(w.sys.mem, back)).toBe(avP); // not exclusive: the root
    expect(readPte(w.mm('C'), w.addr('h', 0)).bits & PTE_WRITE).toBe(0);
    expect(PageSwapCache(w.sys.mem, back)).toBe(true);
    expect(w.sys.swap.inUse).toBe(1);
    w.exit('C'); // free_swap_cache: the last unmap drops the swap copy too
    expect(w.sys.swap.inUse).toBe(0);
    expect(w.sys.mem.isAllocated(back)).toBe(false);
  });

  it('a write swap-in of a page only we use reuses it exclusively and frees the swap slot', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'h', 1);
    w.write('P', 'h', 0);
    const av = w.vma('P', 'h').anonVma!;
    swapOutPage(w.sys, w.pfn('P', 'h', 0), false); // still in the swap cache
    w.step();
    w.write('P', 'h', 0);
    const pfn = w.pfn('P', 'h', 0);
    expect(pageAnonVma(w.sys.mem, pfn)).toBe(av);
    expect(readPte(w.mm('P'), w.addr('h', 0)).bits & PTE_WRITE).not.toBe(0);
    expect(PageSwapCache(w.sys.mem, pfn)).toBe(false);
    expect(w.sys.swap.inUse).toBe(0);
  });

  it('fork duplicates a swap entry; each process faults its own use of it back in', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'h', 1);
    w.write('P', 'h', 0);
    swapOutPage(w.sys, w.pfn('P', 'h', 0), true);
    w.step();
    w.fork('P', 'C');
    const entry = readPte(w.mm('C'), w.addr('h', 0)).pfn;
    expect(w.sys.swap.swapMap.get(entry)).toBe(2);
    w.read('P', 'h', 0);
    w.read('C', 'h', 0);
    expect(w.pfn('C', 'h', 0)).toBe(w.pfn('P', 'h', 0)); // found in the swap cache
    expect(w.sys.mem.mapcount[w.pfn('P', 'h', 0)] + 1).toBe(2);
    w.write('C', 'h', 0); // mapped twice: copied
    expect(w.pfn('C', 'h', 0)).not.toBe(w.pfn('P', 'h', 0));
    w.exit('P');
    w.exit('C');
    expect(w.sys.swap.inUse).toBe(0);
    expect(w.sys.mem.allocated).toBe(0);
  });
});

describe('faults on file and shared mappings (review §2, §6; kernel-facts F3)', () => {
  it('a first write to a private file page copies it into an anonymous page; the file page stays unmapped', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'p', 4, 'f');
    w.write('A', 'p', 2);
    const file = w.sys.files.get('f')!;
    const cached = file.mapping.pageTree.get(2)!;
    const pfn = w.pfn('A', 'p', 2);
    expect(pfn).not.toBe(cached);
    expect(pageAnonVma(w.sys.mem, pfn)).toBe(w.vma('A', 'p').anonVma);
    expect(w.sys.mem.content[pfn]).toBe(w.sys.mem.content[cached]);
    expect(w.sys.mem.mapcount[cached]).toBe(-1);
    expect(w.pfn('A', 'p', 3)).toBe(-1); // no fault-around on a write
    expect(w.mm('A').rss).toEqual({ file: 0, anon: 1, swap: 0, shmem: 0 });
  });

  it('a read then a write of a private file page: fault-around maps the file page, then COW replaces it', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'p', 20, 'f');
    w.read('A', 'p', 2);
    const cached = w.pfn('A', 'p', 2);
    expect(w.sys.mem.mapping[cached]).toBe(w.sys.files.get('f')!.mapping);
    expect(w.pfn('A', 'p', 15)).toBeGreaterThan(0); // fault-around: the aligned 16-page window
    expect(w.pfn('A', 'p', 16)).toBe(-1);
    w.write('A', 'p', 2);
    const copy = w.pfn('A', 'p', 2);
    expect(copy).not.toBe(cached);
    expect(PageAnon(w.sys.mem, copy)).toBe(true);
    expect(w.sys.mem.mapcount[cached]).toBe(-1);
    expect(w.mm('A').rss).toEqual({ file: 15, anon: 1, swap: 0, shmem: 0 });
  });

  it('fault-around starts at the VMA start when that is inside the aligned window (kernel-facts F3b)', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'p', 40, 'f');
    w.munmap('A', 'p', 0, 5);
    w.read('A', 'p', 7);
    const mapped = Array.from({ length: 40 }, (_, i) => i).filter((i) => w.pfn('A', 'p', i) > 0);
    expect(mapped).toEqual(Array.from({ length: 16 }, (_, i) => i + 5));
  });

  it('a shared file write maps the page-cache page writable and dirty; a second process shares it', () => {
    const w = new World();
    w.spawn('A');
    w.spawn('B');
    w.mmap('A', 's', 4, 'f', true);
    w.mmap('B', 's', 4, 'f', true);
    w.write('A', 's', 0);
    const pfn = w.pfn('A', 's', 0);
    expect(pfn).toBe(w.sys.files.get('f')!.mapping.pageTree.get(0));
    expect(readPte(w.mm('A'), w.addr('s', 0)).bits & PTE_WRITE).not.toBe(0);
    expect(w.sys.mem.flags[pfn] & (1 << PG_dirty)).not.toBe(0);
    w.read('B', 's', 0);
    expect(w.pfn('B', 's', 0)).toBe(pfn);
    expect(readPte(w.mm('B'), w.addr('s', 0)).bits & PTE_WRITE).toBe(0);
    expect([w.sys.mem.mapcount[pfn] + 1, w.sys.mem.refcount[pfn]]).toEqual([2, 3]);
    w.write('B', 's', 0); // wp_page_shared: the same page, now writable
    expect(w.pfn('B', 's', 0)).toBe(pfn);
    expect(readPte(w.mm('B'), w.addr('s', 0)).bits & PTE_WRITE).not.toBe(0);
  });

  it('a read of shared anonymous memory allocates a shmem page (swapbacked, not anon; no zero page)', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'a', 4, 'anon', true);
    w.read('A', 'a', 1);
    const pfn = w.pfn('A', 'a', 1);
    expect(pfn).toBeGreaterThan(0);
    expect(PageAnon(w.sys.mem, pfn)).toBe(false);
    expect(w.sys.mem.flags[pfn] & (1 << PG_swapbacked)).not.toBe(0);
    expect(w.pfn('A', 'a', 0)).toBe(-1); // fault-around maps only pages already cached
    expect(w.mm('A').rss.shmem).toBe(1);
  });
});

describe('anonymous fault details', () => {
  it('with the zero page off, a read allocates an anonymous page mapped writable', () => {
    const w = new World({ zeroPage: false });
    w.spawn('A');
    w.mmap('A', 'h', 2);
    w.read('A', 'h', 0);
    const pfn = w.pfn('A', 'h', 0);
    expect(pfn).toBeGreaterThan(0);
    expect(pageAnonVma(w.sys.mem, pfn)).toBe(w.vma('A', 'h').anonVma);
    expect(readPte(w.mm('A'), w.addr('h', 0)).bits & PTE_WRITE).not.toBe(0);
  });

  it('a write to a zero-page PTE copies from zeroes into a fresh page', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 1);
    w.read('A', 'h', 0);
    expect(w.mm('A').rss.anon).toBe(0);
    w.write('A', 'h', 0);
    const pfn = w.pfn('A', 'h', 0);
    expect(pfn).toBeGreaterThan(0);
    expect(w.sys.mem.content[pfn]).toBe(CONTENT_ZERO);
    expect(w.sys.mem.mapcount[pfn] + 1).toBe(1);
    expect(w.mm('A').rss.anon).toBe(1);
  });

  it('anon_vma_prepare reuses the anon_vma of a compatible neighbour with a singular chain', () => {
    const w = new World({ zeroPage: false });
    w.spawn('A');
    const mm = w.mm('A');
    w.mmap('A', 'h', 4);
    // A read-only neighbour right after: flags equal apart from R/W/X (both accounted, VM_ACCOUNT)
    // and a linear pgoff: compatible. (A read-only mmap would not be accounted, so not compatible.)
    mprotect(w, 'A', 'h', 2, 2, PROT_READ);
    const [lo, hi] = [...mm.vmas()];
    w.write('A', 'h', 0);
    expect(lo.anonVma!.degree).toBe(2);
    w.read('A', 'h', 3);
    expect(hi.anonVma).toBe(lo.anonVma);
    expect(lo.anonVma!.degree).toBe(3); // self-parent + two VMAs
    expect(pageAnonVma(w.sys.mem, w.pfn('A', 'h', 3))).toBe(lo.anonVma);
  });

  it('but not once the neighbour has been forked (its chain is no longer singular)', () => {
    const w = new World({ zeroPage: false });
    w.spawn('A');
    w.mmap('A', 'h', 4);
    mprotect(w, 'A', 'h', 2, 2, PROT_READ);
    w.write('A', 'h', 0);
    const child = w.fork('A', 'C');
    w.read('C', 'h', 2);
    const [lo, hi] = [...child.vmas()];
    expect(hi.anonVma).not.toBeNull();
    expect(hi.anonVma).not.toBe(lo.anonVma);
  });
});
