import { describe, expect, it } from 'vitest';
import {
  KernelError,
  PAGE_MAPPING_ANON,
  PAGE_SIZE,
  PG_mlocked,
  PG_unevictable,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  readPte,
  sysMlock,
  VM_LOCKED,
} from '../src/index.js';
import { World } from './helpers.js';
import { mlock, mprotect, munlock } from './ops.js';

function mlocked(w: World, pfn: number): boolean {
  const f = w.sys.mem.flags[pfn];
  return (f & (1 << PG_mlocked)) !== 0 && (f & (1 << PG_unevictable)) !== 0;
}

describe('mlock / munlock (kernel-facts F5, kernel-rmap.md §7.8, review §7)', () => {
  it('mlock after fork breaks COW: the locker gets mlocked copies, even of the zero page', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 3);
    w.write('A', 'h', 0);
    w.write('A', 'h', 1);
    w.read('A', 'h', 2);
    w.fork('A', 'B');
    const shared = [w.pfn('A', 'h', 0), w.pfn('A', 'h', 1)];
    mlock(w, 'A', 'h');
    const mem = w.sys.mem;
    for (let i = 0; i < 3; i++) {
      const pfn = w.pfn('A', 'h', i);
      expect(pfn).toBeGreaterThan(0);
      expect(shared).not.toContain(pfn);
      expect(mem.mapcount[pfn] + 1).toBe(1);
      expect(mem.mappingTag[pfn]).toBe(PAGE_MAPPING_ANON);
      expect(mlocked(w, pfn)).toBe(true);
    }
    expect(w.vma('A', 'h').vmFlags & VM_LOCKED).toBe(VM_LOCKED);
    for (let i = 0; i < 2; i++) {
      expect(w.pfn('B', 'h', i)).toBe(shared[i]);
      expect(mem.mapcount[shared[i]] + 1).toBe(1);
      expect(mlocked(w, shared[i])).toBe(false);
    }
    expect(w.pfn('B', 'h', 2)).toBe(0); // B keeps the zero page
    munlock(w, 'A', 'h');
    for (let i = 0; i < 3; i++) expect(mlocked(w, w.pfn('A', 'h', i))).toBe(false);
    expect(w.vma('A', 'h').vmFlags & VM_LOCKED).toBe(0);
  });

  it('a shared file region is populated whole with read faults, file pages mlocked, not anon', () => {
    const w = new World();
    w.spawn('C');
    w.mmap('C', 'f', 4, 'ff', true);
    w.read('C', 'f', 0);
    mlock(w, 'C', 'f');
    for (let i = 0; i < 4; i++) {
      const pfn = w.pfn('C', 'f', i);
      expect(pfn).toBe(w.sys.files.get('ff')!.mapping.pageTree.get(i));
      expect(mlocked(w, pfn)).toBe(true);
    }
    // A private writable mapping of the same file gets anon copies (write-fault populate).
    w.spawn('D');
    w.mmap('D', 'g', 4, 'ff');
    w.read('D', 'g', 0);
    mlock(w, 'D', 'g');
    for (let i = 0; i < 4; i++) {
      const pfn = w.pfn('D', 'g', i);
      expect(w.sys.mem.mappingTag[pfn]).toBe(PAGE_MAPPING_ANON);
      expect(mlocked(w, pfn)).toBe(true);
      expect(w.sys.mem.mapcount[w.pfn('C', 'f', i)] + 1).toBe(1);
    }
  });

  it('munlock keeps a page mlocked while another locked VMA maps it (try_to_munlock hook)', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'f', 2, 'shared-file', true);
    w.spawn('B');
    w.mmap('B', 'f', 2, 'shared-file', true);
    mlock(w, 'A', 'f');
    mlock(w, 'B', 'f');
    const pfn = w.pfn('A', 'f', 0);
    expect(w.pfn('B', 'f', 0)).toBe(pfn);
    const asked: number[] = [];
    // A stand-in for the rmap walk: B's VMA is VM_LOCKED, so the page is mlocked again.
    w.sys.tryToMunlock = (p) => {
      asked.push(p);
      w.sys.mem.flags[p] |= (1 << PG_mlocked) | (1 << PG_unevictable);
    };
    munlock(w, 'A', 'f');
    expect(asked).toContain(pfn);
    expect(mlocked(w, pfn)).toBe(true);
  });

  it('mlock of part of a VMA splits it, and munlock merges it back when the anon_vmas allow', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 6);
    w.write('A', 'h', 0); // the VMA has its anon_vma before the split: all three parts share it
    sysMlock(w.sys, w.mm('A'), w.addr('h', 2), 2 * PAGE_SIZE);
    w.step();
    expect(w.mm('A').mapCount).toBe(3);
    expect(w.pfn('A', 'h', 1)).toBe(-1);
    expect(mlocked(w, w.pfn('A', 'h', 2))).toBe(true);
    munlock(w, 'A', 'h');
    expect(w.mm('A').mapCount).toBe(1);
    // Without an anon_vma before the split, only the locked middle gets one (by populate), and
    // is_mergeable_anon_vma() refuses to merge it with neighbours that have none (4.9).
    w.mmap('A', 'g', 6);
    sysMlock(w.sys, w.mm('A'), w.addr('g', 2), 2 * PAGE_SIZE);
    munlock(w, 'A', 'g');
    expect(w.mm('A').mapCount).toBe(4);
  });

  it('a read-only locked private VMA made writable is populated again with write faults', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 2);
    w.write('A', 'h', 0);
    w.fork('A', 'B');
    mprotect(w, 'A', 'h', 0, 2, PROT_READ);
    mlock(w, 'A', 'h');
    const shared = w.pfn('B', 'h', 0);
    expect(w.pfn('A', 'h', 0)).toBe(shared); // read populate keeps sharing
    mprotect(w, 'A', 'h', 0, 2, PROT_READ | PROT_WRITE);
    expect(w.pfn('A', 'h', 0)).not.toBe(shared);
    expect(readPte(w.mm('A'), w.addr('h', 1)).pfn).not.toBe(0);
    expect(mlocked(w, w.pfn('A', 'h', 1))).toBe(true);
  });

  it('refuses PROT_NONE (ENOMEM, get_user_pages fails) and holes before any change', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 4);
    mprotect(w, 'A', 'h', 1, 1, PROT_NONE);
    expect(() => mlock(w, 'A', 'h')).toThrow(KernelError);
    for (const v of w.mm('A').vmas()) expect(v.vmFlags & VM_LOCKED).toBe(0);
    expect(w.pfn('A', 'h', 0)).toBe(-1);
    w.munmap('A', 'h', 1, 1);
    expect(() => mlock(w, 'A', 'h')).toThrow(/ENOMEM/);
    for (const v of w.mm('A').vmas()) expect(v.vmFlags & VM_LOCKED).toBe(0);
  });

  it('exit and munmap of locked memory leave nothing mlocked behind', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 4);
    mlock(w, 'A', 'h');
    w.fork('A', 'B');
    expect(w.vma('B', 'h').vmFlags & VM_LOCKED).toBe(0);
    w.exit('A');
    for (let i = 0; i < 4; i++) expect(mlocked(w, w.pfn('B', 'h', i))).toBe(false);
  });
});
