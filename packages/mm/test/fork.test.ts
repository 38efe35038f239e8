/**
 * fork(): dup_mmap, anon_vma_fork and copy_page_range (kernel-rmap.md §2.2, §2.4, §7.2; review §3;
 * kernel-facts F1, F4).
 */
import { describe, expect, it } from 'vitest';
import {
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_WRITE,
  PTE_YOUNG,
  readPte,
  VM_DONTCOPY,
  VM_LOCKED,
} from '../src/index.js';
import { World } from './helpers.js';

function pte(w: World, p: string, region: string, page: number) {
  return readPte(w.mm(p), w.addr(region, page));
}

describe('fork (kernel-rmap.md §7.2)', () => {
  it('6.12 counters: AV(P) num_children 2, AV(C) num_active_vmas 1 and num_children 0', () => {
    const w = new World({ kernel: '6.12' });
    w.spawn('P');
    w.mmap('P', 'h', 1);
    w.write('P', 'h', 0);
    const avP = w.vma('P', 'h').anonVma!;
    expect([avP.numChildren, avP.numActiveVmas]).toEqual([1, 1]);
    w.fork('P', 'C');
    const avC = w.vma('C', 'h').anonVma!;
    expect([avP.numChildren, avP.numActiveVmas, avP.refcount]).toEqual([2, 1, 2]);
    expect([avC.numChildren, avC.numActiveVmas, avC.refcount]).toEqual([0, 1, 1]);
    expect(avC.parent).toBe(avP);
    expect(avC.root).toBe(avP);
  });

  it('the child’s PTE is read-only and old (still dirty: private); the parent’s loses write and stays young', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'h', 1);
    w.write('P', 'h', 0);
    expect(pte(w, 'P', 'h', 0).bits).toBe(PTE_PRESENT | PTE_WRITE | PTE_DIRTY | PTE_YOUNG);
    w.fork('P', 'C');
    expect(pte(w, 'P', 'h', 0).bits).toBe(PTE_PRESENT | PTE_DIRTY | PTE_YOUNG);
    expect(pte(w, 'C', 'h', 0).bits).toBe(PTE_PRESENT | PTE_DIRTY);
    expect(w.mm('C').rss).toEqual({ file: 0, anon: 1, swap: 0, shmem: 0 });
  });

  it('copies nothing of a VMA that was only read: the zero-page PTEs stay behind (kernel-facts F1)', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'z', 4);
    w.read('P', 'z', 0);
    w.read('P', 'z', 1);
    w.fork('P', 'C');
    expect(w.vma('C', 'z').anonVma).toBeNull();
    for (let i = 0; i < 4; i++) expect(pte(w, 'C', 'z', i).bits).toBe(0);
    expect(w.mm('C').pgd.tables).toBe(0);
  });

  it('copies every present PTE once the VMA has an anon_vma, zero-page PTEs included (kernel-facts F1)', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'w', 4);
    w.read('P', 'w', 0);
    w.write('P', 'w', 1);
    w.fork('P', 'C');
    const z = pte(w, 'C', 'w', 0);
    expect(z.pfn).toBe(0);
    expect(z.bits & PTE_SPECIAL).not.toBe(0);
    expect(w.pfn('C', 'w', 1)).toBe(w.pfn('P', 'w', 1));
    expect(pte(w, 'C', 'w', 2).bits).toBe(0);
    // The zero page has no rmap: it is never counted.
    expect(w.sys.mem.mapcount[0]).toBe(-1);
    w.write('C', 'w', 0);
    expect(w.pfn('C', 'w', 0)).toBeGreaterThan(0);
    expect(w.sys.mem.mapcount[w.pfn('C', 'w', 0)] + 1).toBe(1);
  });

  it('shared mappings (file and anonymous) are not copied: the child faults them lazily (kernel-facts F4)', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 's', 4, 'f', true);
    w.mmap('P', 'a', 4, 'anon', true);
    w.write('P', 's', 0);
    w.write('P', 'a', 0);
    w.fork('P', 'C');
    expect(pte(w, 'C', 's', 0).bits).toBe(0);
    expect(pte(w, 'C', 'a', 0).bits).toBe(0);
    // The child then finds the same page-cache / shmem page.
    w.read('C', 's', 0);
    w.read('C', 'a', 0);
    expect(w.pfn('C', 's', 0)).toBe(w.pfn('P', 's', 0));
    expect(w.pfn('C', 'a', 0)).toBe(w.pfn('P', 'a', 0));
    expect(w.sys.mem.mapcount[w.pfn('P', 'a', 0)] + 1).toBe(2);
  });

  it('a private file VMA with one COW page: all present PTEs are copied, file pages too (kernel-facts F4)', () => {
    const w = new World({ faultAround: 1 });
    w.spawn('P');
    w.mmap('P', 'p', 4, 'f');
    w.read('P', 'p', 0);
    w.write('P', 'p', 1); // do_cow_fault: a private anonymous copy
    const file0 = w.pfn('P', 'p', 0);
    const anon1 = w.pfn('P', 'p', 1);
    expect(w.sys.mem.mapcount[file0] + 1).toBe(1);
    w.fork('P', 'C');
    expect(w.pfn('C', 'p', 0)).toBe(file0);
    expect(w.pfn('C', 'p', 1)).toBe(anon1);
    expect(w.sys.mem.mapcount[file0] + 1).toBe(2);
    expect(w.sys.mem.refcount[file0]).toBe(3); // two PTEs + the page cache
    expect(w.sys.mem.mapcount[anon1] + 1).toBe(2);
    expect(w.mm('C').rss).toEqual({ file: 1, anon: 1, swap: 0, shmem: 0 });
  });

  it('a file VMA of the child sits right after its parent’s in i_mmap (vma_interval_tree_insert_after)', () => {
    const w = new World();
    w.spawn('P');
    w.spawn('Q');
    w.mmap('P', 's', 4, 'f', true);
    w.mmap('Q', 's', 4, 'f', true);
    w.fork('P', 'C');
    const iMmap = w.sys.files.get('f')!.mapping.iMmap;
    const order = [...iMmap.overlapping(0, 3)].map((n) => n.value.vmMm.owner.name);
    expect(order).toEqual(['P', 'C', 'Q']);
    expect(w.sys.files.get('f')!.mapping.iMmapWritable).toBe(3);
  });

  it('the child’s AVC in AV(P) comes after every AVC with the same key (plain insert)', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'h', 1);
    w.write('P', 'h', 0);
    w.fork('P', 'C1');
    w.fork('P', 'C2');
    w.fork('C1', 'G');
    const avP = w.vma('P', 'h').anonVma!;
    const order = [...avP.rbRoot.overlapping(0, Number.MAX_SAFE_INTEGER)].map(
      (n) => n.value.vma.vmMm.owner.name,
    );
    expect(order).toEqual(['P', 'C1', 'C2', 'G']);
    expect(w.sys.mem.mapcount[w.pfn('P', 'h', 0)] + 1).toBe(4);
  });

  it('VM_LOCKED is not inherited and VM_DONTCOPY VMAs are skipped', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'l', 1);
    w.mmap('P', 'd', 1);
    w.write('P', 'l', 0);
    w.write('P', 'd', 0);
    w.vma('P', 'l').vmFlags |= VM_LOCKED;
    w.vma('P', 'd').vmFlags |= VM_DONTCOPY;
    w.fork('P', 'C');
    expect(w.vma('C', 'l').vmFlags & VM_LOCKED).toBe(0);
    expect(w.mm('C').mapCount).toBe(1);
    expect(w.pfn('C', 'd', 0)).toBe(-1);
    expect(w.sys.mem.mapcount[w.pfn('P', 'd', 0)] + 1).toBe(1);
  });

  it('a fork of a fork links the grandchild into all three anon_vmas, newest first', () => {
    const w = new World();
    w.spawn('P');
    w.mmap('P', 'h', 1);
    w.write('P', 'h', 0);
    w.fork('P', 'C');
    w.fork('C', 'G');
    const [avP, avC, avG] = ['P', 'C', 'G'].map((p) => w.vma(p, 'h').anonVma!);
    expect(w.vma('G', 'h').anonVmaChain.map((a) => a.anonVma)).toEqual([avG, avC, avP]);
    expect(avG.parent).toBe(avC);
    expect(avG.root).toBe(avP);
    expect(avP.refcount).toBe(3); // its own tree + two root pins
    expect(avC.degree).toBe(2); // C's VMA + AV(G)
  });

  it('fork of an exited process is refused', () => {
    const w = new World();
    const p = w.spawn('P');
    w.exit('P');
    w.procs.set('P', p);
    expect(() => w.fork('P', 'C')).toThrow(/exited/);
  });
});
