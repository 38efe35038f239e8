import { describe, expect, it } from 'vitest';
import { PG_dirty, PG_swapbacked, PTE_DIRTY, PTE_WRITE, readPte } from '../src/index.js';
import { World } from './helpers.js';

function iMmapOrder(w: World, file: string): string[] {
  const names = new Map<unknown, string>();
  for (const [p, mm] of w.procs) for (const v of mm.vmas()) names.set(v, p);
  return [...w.sys.files.get(file)!.mapping.iMmap.overlapping(0, Number.MAX_SAFE_INTEGER)].map(
    (n) => names.get(n.value) ?? '?',
  );
}

describe('file mappings (kernel-rmap.md §7.7, kernel-facts F3/F4)', () => {
  it('MAP_SHARED in P and Q: one page-cache page, mapcount 2, both VMAs in i_mmap in order', () => {
    const w = new World({ faultAround: 1 });
    w.spawn('P');
    w.spawn('Q');
    w.mmap('P', 's', 4, 'f', true);
    w.mmap('Q', 's', 4, 'f', true);
    w.read('P', 's', 1);
    w.write('Q', 's', 1);
    const pfn = w.pfn('P', 's', 1);
    const file = w.sys.files.get('f')!;
    expect(w.pfn('Q', 's', 1)).toBe(pfn);
    expect(file.mapping.pageTree.get(1)).toBe(pfn);
    expect(w.sys.mem.mapcount[pfn] + 1).toBe(2);
    expect(w.sys.mem.refcount[pfn]).toBe(3); // two PTEs + the page cache
    expect(w.sys.mem.mapping[pfn]).toBe(file.mapping);
    expect(w.sys.mem.index[pfn]).toBe(1);
    expect(w.sys.mem.flags[pfn] & (1 << PG_dirty)).not.toBe(0);
    expect(readPte(w.mm('Q'), w.addr('s', 1)).bits & (PTE_WRITE | PTE_DIRTY)).toBe(PTE_WRITE | PTE_DIRTY);
    expect(readPte(w.mm('P'), w.addr('s', 1)).bits & PTE_WRITE).toBe(0);
    expect(iMmapOrder(w, 'f')).toEqual(['P', 'Q']);
    expect(w.vma('P', 's').anonVma).toBeNull();
    // Unmapping P's VMA takes it out of i_mmap; the page stays for Q and the cache.
    w.munmap('P', 's', 0, 4);
    expect(iMmapOrder(w, 'f')).toEqual(['Q']);
    expect(w.sys.mem.mapcount[pfn] + 1).toBe(1);
  });

  it('fork puts the child VMA right after its parent in i_mmap and copies no PTE without an anon_vma', () => {
    const w = new World();
    w.spawn('A');
    w.spawn('X');
    w.mmap('A', 's', 20, 'f', true);
    w.mmap('X', 's', 20, 'f', true);
    w.read('A', 's', 0);
    w.mmap('A', 'q', 20, 'f');
    w.read('A', 'q', 0);
    w.write('A', 'q', 3);
    w.fork('A', 'B');
    // B's shared VMA sits right after A's, before X's (insert_after), though X came first.
    expect(iMmapOrder(w, 'f')).toEqual(['A', 'B', 'X', 'A', 'B']);
    for (let i = 0; i < 20; i++) expect(w.pfn('B', 's', i)).toBe(-1);
    // The private VMA with a COW page has an anon_vma: every present PTE is copied (F4).
    for (let i = 0; i < 16; i++) expect(w.pfn('B', 'q', i)).toBe(w.pfn('A', 'q', i));
    const cow = w.pfn('A', 'q', 3);
    expect(w.sys.mem.mapcount[cow] + 1).toBe(2);
    expect(w.sys.mem.mapcount[w.pfn('A', 'q', 0)] + 1).toBe(3); // A:s, A:q, B:q
  });

  it('a private write fault copies the file page into an anon page (do_cow_fault)', () => {
    const w = new World({ faultAround: 1 });
    w.spawn('B');
    w.mmap('B', 'q', 4, 'g');
    w.write('B', 'q', 2);
    const pfn = w.pfn('B', 'q', 2);
    const cached = w.sys.files.get('g')!.mapping.pageTree.get(2)!;
    expect(pfn).not.toBe(cached);
    expect(w.sys.mem.mapcount[cached]).toBe(-1);
    expect(w.sys.mem.content[pfn]).toBe(w.sys.mem.content[cached]);
    expect(w.vma('B', 'q').anonVma).not.toBeNull();
  });

  it('shared anonymous memory lives in a shmem file: swapbacked pages, rmap through i_mmap', () => {
    const w = new World();
    w.spawn('A');
    w.mmap('A', 's', 40, 'anon', true);
    for (let i = 0; i < 40; i++) w.write('A', 's', i);
    w.fork('A', 'B');
    for (let i = 0; i < 40; i++) expect(w.pfn('B', 's', i)).toBe(-1);
    w.read('B', 's', 20);
    for (let i = 0; i < 40; i++) expect(w.pfn('B', 's', i) !== -1).toBe(i >= 16 && i < 32);
    const pfn = w.pfn('B', 's', 20);
    expect(w.sys.mem.flags[pfn] & (1 << PG_swapbacked)).not.toBe(0);
    expect(w.sys.mem.mappingTag[pfn]).toBe(0);
    expect(w.sys.mem.mapcount[pfn] + 1).toBe(2);
    const vma = w.vma('A', 's');
    expect(vma.vmFile?.shmem).toBe(true);
    expect(vma.vmFile!.mapping.iMmap.size).toBe(2);
  });
});
