import { describe, expect, it } from 'vitest';
import { PageAnon, PG_swapbacked, PTE_WRITE, pageAnonVma, readPte } from '../src/index.js';
import { World } from './helpers.js';

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
