/**
 * munmap and exit: __split_vma, zap_pte_range, free_pgtables → unlink_anon_vmas / unlink_file_vma
 * (kernel-rmap.md §2.2, §2.4, §7.4), and vma_merge on mmap.
 */
import { describe, expect, it } from 'vitest';
import {
  KernelError,
  MAP_PRIVATE,
  PAGE_SIZE,
  PG_dirty,
  PG_referenced,
  PROT_READ,
  readPte,
  sysMmap,
} from '../src/index.js';
import { World } from './helpers.js';

describe('munmap (kernel-rmap.md §7.4)', () => {
  it('of the parent’s VMA while the child maps the pages: mapcounts drop, AV(P) stays with rc 2', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'h', 3);
    w.write('P', 'h', 0);
    w.write('P', 'h', 1);
    w.fork('P', 'C');
    w.write('P', 'h', 2); // P-only page
    const shared = w.pfn('P', 'h', 0);
    const own = w.pfn('P', 'h', 2);
    const avP = w.vma('P', 'h').anonVma!;
    const avC = w.vma('C', 'h').anonVma!;
    w.munmap('P', 'h', 0, 3);
    expect(w.mm('P').mapCount).toBe(0);
    expect(w.mm('P').pgd.tables).toBe(0);
    expect(w.sys.mem.mapcount[shared] + 1).toBe(1);
    expect(w.sys.mem.refcount[shared]).toBe(1);
    expect(w.sys.mem.isAllocated(own)).toBe(false);
    expect(w.sys.mem.mapping[shared]).toBe(avP); // page->mapping is never reset on unmap
    expect([avP.freed, avP.degree, avP.refcount]).toEqual([false, 2, 2]);
    w.exit('C');
    expect(avC.freed).toBe(true);
    expect(avP.freed).toBe(true);
    expect(w.sys.mem.allocated).toBe(0);
  });

  it('6.12: the same munmap takes num_active_vmas of AV(P) from 1 to 0', () => {
    const w = new World({ kernel: '6.12' });
    w.spawn('P');
    w.mmap('P', 'h', 1);
    w.write('P', 'h', 0);
    w.fork('P', 'C');
    const avP = w.vma('P', 'h').anonVma!;
    w.munmap('P', 'h', 0, 1);
    expect([avP.numActiveVmas, avP.numChildren, avP.refcount]).toEqual([0, 2, 2]);
  });

  it('of the middle splits the VMA in two, both linked to the anon_vma with their own keys', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 6);
    for (let i = 0; i < 6; i++) w.write('A', 'h', i);
    const av = w.vma('A', 'h').anonVma!;
    const pfn5 = w.pfn('A', 'h', 5);
    w.munmap('A', 'h', 2, 2);
    const [lo, hi] = [...w.mm('A').vmas()];
    expect([lo.pages, hi.pages]).toEqual([2, 2]);
    expect(hi.vmPgoff).toBe(w.addr('h', 4) / PAGE_SIZE); // the upper part's pgoff advances
    expect(lo.anonVma).toBe(av);
    expect(hi.anonVma).toBe(av);
    expect(av.degree).toBe(3); // self-parent + two VMAs
    const keys = [...av.rbRoot.overlapping(0, Number.MAX_SAFE_INTEGER)].map((n) => [n.start, n.last]);
    const base = w.addr('h', 0) / PAGE_SIZE;
    expect(keys).toEqual([
      [base, base + 1],
      [base + 4, base + 5],
    ]);
    expect(w.pfn('A', 'h', 2)).toBe(-1);
    expect(w.pfn('A', 'h', 5)).toBe(pfn5);
    expect(w.sys.mem.allocated).toBe(4);
  });

  it('across several VMAs and holes removes exactly the range', () => {
    const w = new World();
    w.spawn('A');
    const base = 0x20000000000;
    w.regions.set('x', { addr: base, pages: 11 });
    const mm = w.mm('A');
    for (const [page, pages] of [
      [0, 3],
      [4, 2],
      [8, 3],
    ]) {
      sysMmap(w.sys, mm, {
        addr: base + page * PAGE_SIZE,
        len: pages * PAGE_SIZE,
        prot: PROT_READ | (page === 4 ? 0 : 2),
        flags: MAP_PRIVATE,
      });
    }
    for (const i of [0, 1, 2, 8, 9, 10]) w.write('A', 'x', i);
    w.munmap('A', 'x', 1, 8); // [1, 9)
    const bounds = [...mm.vmas()].map((v) => [(v.vmStart - base) / PAGE_SIZE, (v.vmEnd - base) / PAGE_SIZE]);
    expect(bounds).toEqual([
      [0, 1],
      [9, 11],
    ]);
    expect(mm.rss.anon).toBe(3);
  });

  it('unmapping nothing is not an error; a misaligned start is EINVAL', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 2);
    w.munmap('A', 'h', 5, 3);
    expect(w.mm('A').mapCount).toBe(1);
    expect(() => w.munmap('A', 'h', 0.5, 1)).toThrow(KernelError);
  });

  it('a dirty shared file PTE dirties the page; a young one marks it referenced; the page stays cached', () => {
    const w = new World({ faultAround: 1 });
    w.spawn('A');
    w.mmap('A', 's', 2, 'f', true);
    w.write('A', 's', 0);
    w.read('A', 's', 1);
    const [p0, p1] = [w.pfn('A', 's', 0), w.pfn('A', 's', 1)];
    w.sys.mem.flags[p0] &= ~(1 << PG_dirty); // as if written back since
    w.munmap('A', 's', 0, 2);
    const mem = w.sys.mem;
    expect(mem.flags[p0] & (1 << PG_dirty)).not.toBe(0);
    expect(mem.flags[p1] & (1 << PG_dirty)).toBe(0);
    expect(mem.flags[p1] & (1 << PG_referenced)).not.toBe(0);
    expect([mem.mapcount[p0], mem.refcount[p0]]).toEqual([-1, 1]);
    const file = w.sys.files.get('f')!;
    expect(file.mapping.iMmap.size).toBe(0);
    expect(file.mapping.iMmapWritable).toBe(0);
  });

  it('exit frees every anon_vma of a family, the root last', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'h', 2);
    w.write('P', 'h', 0);
    w.fork('P', 'C');
    w.fork('C', 'G');
    const freed: string[] = [];
    w.sys.setTrace((e) => {
      if (e.fn === 'anon_vma_free') freed.push(e.msg);
    });
    const [avP, avC, avG] = ['P', 'C', 'G'].map((p) => w.vma(p, 'h').anonVma!);
    w.exit('P');
    w.exit('C');
    expect(freed).toEqual([]);
    w.exit('G');
    expect(freed).toEqual([`free ${avG.name}`, `free ${avC.name}`, `free ${avP.name}`]);
  });
});

describe('access checks', () => {
  it('an access outside every VMA, or a write to a read-only VMA, is a SIGSEGV; past EOF a SIGBUS', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 1);
    w.mmap('A', 'f', 4, 'f');
    w.sys.files.get('f')!.sizePages = 2;
    const mm = w.mm('A');
    const err = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return (e as KernelError).errno;
      }
      return null;
    };
    expect(err(() => w.read('A', 'h', 1))).toBe('SIGSEGV');
    expect(err(() => w.read('A', 'f', 3))).toBe('SIGBUS');
    sysMmap(w.sys, mm, { addr: w.addr('h', 0), len: PAGE_SIZE, prot: PROT_READ, flags: MAP_PRIVATE });
    expect(err(() => w.write('A', 'h', 0))).toBe('SIGSEGV');
    expect(readPte(mm, w.addr('h', 0)).bits).toBe(0);
  });
});

describe('vma_merge on mmap', () => {
  it('a private anonymous mapping next to a compatible one extends it (one VMA, one anon_vma)', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 2);
    w.write('A', 'h', 0);
    const vma = w.vma('A', 'h');
    sysMmap(w.sys, w.mm('A'), { addr: w.addr('h', 2), len: 2 * PAGE_SIZE, prot: 3, flags: MAP_PRIVATE });
    w.step();
    expect(w.mm('A').mapCount).toBe(1);
    expect(vma.pages).toBe(4);
    w.write('A', 'h', 3);
    expect(w.sys.mem.mapping[w.pfn('A', 'h', 3)]).toBe(vma.anonVma);
  });

  it('a VMA whose chain is not singular (forked) is not extended', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'h', 2);
    w.write('P', 'h', 0);
    w.fork('P', 'C');
    sysMmap(w.sys, w.mm('C'), { addr: w.addr('h', 2), len: PAGE_SIZE, prot: 3, flags: MAP_PRIVATE });
    w.step();
    expect(w.mm('C').mapCount).toBe(2);
  });

  it('file mappings with contiguous offsets merge too, in i_mmap as one VMA', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 's', 2, 'f', true);
    const f = w.sys.files.get('f')!;
    sysMmap(w.sys, w.mm('A'), {
      addr: w.addr('s', 2),
      len: 2 * PAGE_SIZE,
      prot: 3,
      flags: 1,
      file: f,
      pgoff: 2,
    });
    w.step();
    expect(w.mm('A').mapCount).toBe(1);
    expect(f.mapping.iMmap.size).toBe(1);
    expect(f.mapping.iMmapWritable).toBe(1);
    // A non-contiguous offset does not merge.
    sysMmap(w.sys, w.mm('A'), { addr: w.addr('s', 4), len: PAGE_SIZE, prot: 3, flags: 1, file: f, pgoff: 7 });
    w.step();
    expect(w.mm('A').mapCount).toBe(2);
  });

  it('two shared anonymous mappings never merge (each has a shmem file of its own)', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'a', 2, 'anon', true);
    sysMmap(w.sys, w.mm('A'), { addr: w.addr('a', 2), len: PAGE_SIZE, prot: 3, flags: 1 });
    w.step();
    expect(w.mm('A').mapCount).toBe(2);
  });
});

describe('shared anonymous memory (shmem)', () => {
  it('lives as long as a VMA maps it: the last munmap or exit frees its object and pages', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'a', 2, 'anon', true);
    w.write('P', 'a', 0);
    w.write('P', 'a', 1);
    const file = w.vma('P', 'a').vmFile!;
    w.fork('P', 'C'); // the child's VMA holds the object too
    w.munmap('P', 'a', 0, 1);
    w.exit('P');
    expect(w.sys.files.get(file.name)).toBe(file);
    w.read('C', 'a', 1);
    expect(w.sys.mem.allocated).toBe(2);
    w.exit('C');
    expect(w.sys.files.has(file.name)).toBe(false);
    expect(w.sys.mem.allocated).toBe(0);
  });
});
