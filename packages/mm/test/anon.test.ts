import { describe, expect, it } from 'vitest';
import { PageAnon, PageSwapCache, PG_swapbacked, PTE_WRITE, pageAnonVma, readPte } from '../src/index.js';
import { swapOutPage, World } from './helpers.js';

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
