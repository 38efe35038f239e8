import { expect } from 'vitest';
import {
  addToSwap,
  checkInvariants,
  deleteFromSwapCache,
  folioTryShareAnonRmapPte,
  MAP_PRIVATE,
  MAP_SHARED,
  type Mm,
  type MmOptions,
  MmSystem,
  openFile,
  PAGE_MAPPING_ANON,
  PAGE_MAPPING_FLAGS,
  PAGE_SIZE,
  PageAnonExclusive,
  PG_dirty,
  PG_swapbacked,
  PG_swapcache,
  PROT_READ,
  PROT_WRITE,
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_SWAP,
  PTE_SWP_EXCLUSIVE,
  PTRS_PER_PTE,
  type PteTable,
  pageRemoveRmap,
  putPage,
  readPte,
  setPte,
  sysExit,
  sysFork,
  sysMmap,
  sysMunmap,
  userAccess,
  type VmArea,
} from '../src/index.js';

/** A small world for tests: processes by name, regions by name, invariants after each step. */
export class World {
  readonly sys: MmSystem;
  readonly procs = new Map<string, Mm>();
  readonly regions = new Map<string, { addr: number; pages: number }>();
  private slot = 0;
  check = true;

  constructor(opts: Partial<MmOptions> = {}) {
    this.sys = new MmSystem(opts);
  }
  step(): void {
    if (!this.check) return;
    checkInvariants(this.sys);
    for (const mm of this.sys.mms) expect(mm.rss, `rss of mm${mm.id}`).toEqual(rssFromPtes(this.sys, mm));
  }
  spawn(name: string): Mm {
    const mm = this.sys.newMm(name);
    this.procs.set(name, mm);
    return mm;
  }
  mm(name: string): Mm {
    const mm = this.procs.get(name);
    if (!mm) throw new Error(`no process ${name}`);
    return mm;
  }
  mmap(p: string, region: string, pages: number, kind: 'anon' | string = 'anon', shared = false): VmArea {
    let r = this.regions.get(region);
    if (!r) {
      r = { addr: 0x10000000000 + this.slot++ * 0x4000000, pages };
      this.regions.set(region, r);
    }
    const file = kind === 'anon' ? null : openFile(this.sys, kind, pages);
    const vma = sysMmap(this.sys, this.mm(p), {
      addr: r.addr,
      len: pages * PAGE_SIZE,
      prot: PROT_READ | PROT_WRITE,
      flags: shared ? MAP_SHARED : MAP_PRIVATE,
      file,
    });
    this.step();
    return vma;
  }
  addr(region: string, page: number): number {
    return this.regions.get(region)!.addr + page * PAGE_SIZE;
  }
  write(p: string, region: string, page: number): void {
    userAccess(this.sys, this.mm(p), this.addr(region, page), true);
    this.step();
  }
  read(p: string, region: string, page: number): void {
    userAccess(this.sys, this.mm(p), this.addr(region, page), false);
    this.step();
  }
  munmap(p: string, region: string, page: number, pages: number): void {
    sysMunmap(this.sys, this.mm(p), this.addr(region, page), pages * PAGE_SIZE);
    this.step();
  }
  fork(p: string, c: string): Mm {
    const mm = sysFork(this.sys, this.mm(p), c);
    this.procs.set(c, mm);
    this.step();
    return mm;
  }
  exit(p: string): void {
    sysExit(this.sys, this.mm(p));
    this.procs.delete(p);
    this.step();
  }
  /** The pfn mapped at a page, or -1. */
  pfn(p: string, region: string, page: number): number {
    const pte = readPte(this.mm(p), this.addr(region, page));
    return pte.bits & 1 ? pte.pfn : -1;
  }
  vma(p: string, region: string, page = 0): VmArea {
    const a = this.addr(region, page);
    for (const v of this.mm(p).vmas()) if (v.vmStart <= a && a < v.vmEnd) return v;
    throw new Error('no vma');
  }
}

/**
 * The rss counters (MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS) recomputed from the page
 * tables, as mm_counter() would charge each PTE; the zero page is not counted.
 */
export function rssFromPtes(sys: MmSystem, mm: Mm): Mm['rss'] {
  const rss = { file: 0, anon: 0, swap: 0, shmem: 0 };
  const mem = sys.mem;
  for (const t of mm.pgd.allTables())
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const bits = t.bits[i];
      if (bits & PTE_SWAP) {
        rss.swap++;
        continue;
      }
      if (bits === 0 || bits & PTE_SPECIAL) continue;
      const pfn = t.pfn[i];
      if (mem.mappingTag[pfn] & PAGE_MAPPING_ANON) rss.anon++;
      else if (mem.flags[pfn] & (1 << PG_swapbacked)) rss.shmem++;
      else rss.file++;
    }
  return rss;
}

/**
 * Once every process has exited: the invariants hold and nothing is left but the page cache of the
 * regular files — no anon_vma, no swap slot, no anonymous page. `eachPage` checks more of every
 * frame still allocated.
 */
export function expectOnlyPageCacheLeft(sys: MmSystem, eachPage: (pfn: number) => void): void {
  checkInvariants(sys);
  expect(sys.anonVmas.size).toBe(0);
  expect(sys.swap.inUse).toBe(0);
  let cached = 0;
  for (const f of sys.files.values()) cached += f.mapping.pageTree.size;
  expect(sys.mem.allocated).toBe(cached);
  for (let pfn = 1; pfn < sys.mem.frames; pfn++)
    if (sys.mem.isAllocated(pfn)) {
      expect(sys.mem.mappingTag[pfn] & PAGE_MAPPING_ANON).toBe(0);
      eachPage(pfn);
    }
}

/**
 * The PTE part of try_to_unmap_one() for an anonymous page `pfn` in the swap cache: PTE `i` of `t`
 * becomes its swap entry, which gains a swap_map reference, the page's rss charge moves to
 * MM_SWAPENTS, and (5.19) an exclusive page hands PG_anon_exclusive to the entry's marker.
 */
export function setSwapPte(sys: MmSystem, mm: Mm, t: PteTable, i: number, pfn: number): void {
  const entry = sys.mem.private[pfn];
  const exclusive = PageAnonExclusive(sys.mem, pfn);
  if (exclusive) folioTryShareAnonRmapPte(sys.mem, pfn);
  setPte(
    t,
    i,
    entry,
    PTE_SWAP | (exclusive && sys.rules['swap-pte-exclusive-marker'] ? PTE_SWP_EXCLUSIVE : 0),
  );
  sys.swap.swapDuplicate(entry);
  mm.rss.anon--;
  mm.rss.swap++;
}

/**
 * What reclaim does to an anonymous page, by brute force instead of an rmap walk (which lives in
 * @rmaplab/rmap): add_to_swap(), then try_to_unmap_one() on every PTE of every mm that maps it
 * (each becomes a swap entry holding one swap_map reference), then, when `reclaim`, the page leaves
 * the swap cache and is freed (__remove_mapping). Returns false, changing nothing, for a page that
 * is not an ordinary anonymous page or when swap is full.
 */
export function swapOutPage(sys: MmSystem, pfn: number, reclaim: boolean): boolean {
  const mem = sys.mem;
  if (pfn === 0 || (mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) !== PAGE_MAPPING_ANON) return false;
  if (mem.flags[pfn] & (1 << PG_swapcache)) return false;
  if (!addToSwap(sys, pfn)) return false;
  for (const mm of sys.mms)
    for (const t of mm.pgd.allTables())
      for (let i = 0; i < PTRS_PER_PTE; i++) {
        const bits = t.bits[i];
        if (!(bits & PTE_PRESENT) || bits & PTE_SPECIAL || t.pfn[i] !== pfn) continue;
        if (bits & PTE_DIRTY) mem.flags[pfn] |= 1 << PG_dirty;
        setSwapPte(sys, mm, t, i, pfn);
        pageRemoveRmap(sys, pfn);
        putPage(sys, pfn);
      }
  if (reclaim && mem.mapcount[pfn] === -1 && mem.refcount[pfn] === 1) deleteFromSwapCache(sys, pfn);
  return true;
}
