import { describe, expect, it } from 'vitest';
import {
  KernelError,
  PAGE_SIZE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_WRITE,
  readPte,
  sysMprotect,
  VM_READ,
  VM_WRITE,
} from '../src/index.js';
import { World } from './helpers.js';
import { mprotect } from './ops.js';

const RW = PROT_READ | PROT_WRITE;

function vmaCount(w: World, p: string): number {
  return w.mm(p).mapCount;
}

describe('mprotect (mprotect_fixup)', () => {
  it('splits a VMA into three, re-keys the AVCs, and merges back into one', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 6);
    for (let i = 0; i < 6; i++) w.write('A', 'h', i);
    const av = w.vma('A', 'h').anonVma!;
    mprotect(w, 'A', 'h', 2, 2, PROT_READ);
    expect(vmaCount(w, 'A')).toBe(3);
    const [lo, mid, hi] = [...w.mm('A').vmas()];
    expect(mid.vmFlags & (VM_READ | VM_WRITE)).toBe(VM_READ);
    expect(lo.vmFlags & VM_WRITE).toBe(VM_WRITE);
    expect(hi.vmFlags & VM_WRITE).toBe(VM_WRITE);
    // Each part keeps the linear pgoff and is in the same anon_vma, keyed by its own range.
    for (const v of [lo, mid, hi]) {
      expect(v.anonVma).toBe(av);
      expect(v.vmPgoff).toBe(v.vmStart / PAGE_SIZE);
    }
    expect(av.rbRoot.size).toBe(3);
    expect(av.degree).toBe(4);
    expect(readPte(w.mm('A'), w.addr('h', 2)).bits & PTE_WRITE).toBe(0);
    expect(readPte(w.mm('A'), w.addr('h', 1)).bits & PTE_WRITE).toBe(PTE_WRITE);
    expect(() => w.write('A', 'h', 3)).toThrow(/SIGSEGV/);
    mprotect(w, 'A', 'h', 2, 2, RW);
    expect(vmaCount(w, 'A')).toBe(1);
    expect(av.rbRoot.size).toBe(1);
    expect(av.degree).toBe(2);
    // A write after rw faults on the read-only PTE and reuses the page in place.
    const pfn = w.pfn('A', 'h', 3);
    w.write('A', 'h', 3);
    expect(w.pfn('A', 'h', 3)).toBe(pfn);
  });

  it('PROT_NONE keeps the pages mapped (mapcount unchanged), access is SIGSEGV, fork copies them (F8)', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 6);
    for (let i = 0; i < 6; i++) w.write('A', 'h', i);
    w.munmap('A', 'h', 1, 2);
    const pfn = w.pfn('A', 'h', 4);
    mprotect(w, 'A', 'h', 4, 1, PROT_NONE);
    const pte = readPte(w.mm('A'), w.addr('h', 4));
    expect(pte.bits & (PTE_PRESENT | PTE_PROTNONE | PTE_WRITE)).toBe(PTE_PRESENT | PTE_PROTNONE);
    expect(pte.pfn).toBe(pfn);
    expect(w.sys.mem.mapcount[pfn] + 1).toBe(1);
    expect(() => w.read('A', 'h', 4)).toThrow(/SIGSEGV/);
    w.fork('A', 'B');
    expect(w.pfn('B', 'h', 4)).toBe(pfn);
    expect(w.sys.mem.mapcount[pfn] + 1).toBe(2);
    mprotect(w, 'A', 'h', 4, 1, RW);
    expect(readPte(w.mm('A'), w.addr('h', 4)).bits & PTE_PROTNONE).toBe(0);
    w.write('A', 'h', 4); // COW against B now
    expect(w.pfn('A', 'h', 4)).not.toBe(pfn);
    expect(w.pfn('B', 'h', 4)).toBe(pfn);
  });

  it('fragments 200 pages into 200 VMAs and back into one, keeping every invariant', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 200);
    for (let i = 0; i < 200; i += 3) w.write('A', 'h', i);
    w.fork('A', 'B');
    w.check = false;
    for (let i = 0; i < 200; i += 2) mprotect(w, 'A', 'h', i, 1, PROT_READ);
    w.check = true;
    w.step();
    expect(vmaCount(w, 'A')).toBe(200);
    const av = w.vma('A', 'h').anonVma!;
    // 200 VMAs of A plus B's one VMA in A's root anon_vma.
    expect(av.root.rbRoot.size).toBe(201);
    w.check = false;
    for (let i = 0; i < 200; i += 2) mprotect(w, 'A', 'h', i, 1, RW);
    w.check = true;
    w.step();
    expect(vmaCount(w, 'A')).toBe(1);
    expect(av.root.rbRoot.size).toBe(2);
  });

  it('a range over several VMAs is applied to each and merged', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 8);
    mprotect(w, 'A', 'h', 1, 1, PROT_READ);
    mprotect(w, 'A', 'h', 3, 1, PROT_NONE);
    expect(vmaCount(w, 'A')).toBe(5);
    mprotect(w, 'A', 'h', 0, 8, PROT_READ);
    expect(vmaCount(w, 'A')).toBe(1);
  });

  it('shared file mappings stay in i_mmap, split and merged with the right keys', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'f', 8, 'file-a', true);
    w.write('A', 'f', 2);
    mprotect(w, 'A', 'f', 2, 3, PROT_READ);
    const mapping = w.sys.files.get('file-a')!.mapping;
    expect(mapping.iMmap.size).toBe(3);
    expect(mapping.iMmapWritable).toBe(3);
    expect(readPte(w.mm('A'), w.addr('f', 2)).bits & PTE_WRITE).toBe(0);
    mprotect(w, 'A', 'f', 2, 3, RW);
    expect(mapping.iMmap.size).toBe(1);
    // A dirty shared PTE gets its write bit back (write-notify: dirty_accountable).
    expect(readPte(w.mm('A'), w.addr('f', 2)).bits & PTE_WRITE).toBe(PTE_WRITE);
  });

  it('refuses a hole (ENOMEM) and bad arguments (EINVAL) without changing anything', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 'h', 6);
    w.munmap('A', 'h', 3, 1);
    const before = [...w.mm('A').vmas()].map((v) => [v.vmStart, v.vmEnd, v.vmFlags]);
    const err = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return e instanceof KernelError ? e.errno : String(e);
      }
      return 'ok';
    };
    expect(err(() => sysMprotect(w.sys, w.mm('A'), w.addr('h', 0), 6 * PAGE_SIZE, PROT_READ))).toBe('ENOMEM');
    expect(err(() => sysMprotect(w.sys, w.mm('A'), w.addr('h', 0) + 1, PAGE_SIZE, PROT_READ))).toBe('EINVAL');
    expect(err(() => sysMprotect(w.sys, w.mm('A'), w.addr('h', 0), PAGE_SIZE, 0x100))).toBe('EINVAL');
    expect([...w.mm('A').vmas()].map((v) => [v.vmStart, v.vmEnd, v.vmFlags])).toEqual(before);
    w.step();
  });
});
