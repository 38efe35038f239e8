/**
 * Test support for the part-2 operations: World shorthands for mprotect/mremap/mlock/madvise, and a
 * stand-in for the reclaim hook that @rmaplab/rmap installs (sys.reclaimPage), good enough for the
 * pages MADV_PAGEOUT hands it: pages that exactly one PTE maps.
 */
import {
  addToSwap,
  deleteFromSwapCache,
  type MadviseAdvice,
  type Mm,
  type MmSystem,
  PAGE_MAPPING_ANON,
  PAGE_MAPPING_FLAGS,
  PAGE_MAPPING_KSM,
  PAGE_SIZE,
  PG_swapbacked,
  PG_swapcache,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_SWAP,
  PTRS_PER_PTE,
  pageRemoveRmap,
  putPage,
  setPte,
  sysMadvise,
  sysMlock,
  sysMprotect,
  sysMremap,
  sysMunlock,
} from '../src/index.js';
import { setSwapPte, type World } from './helpers.js';

export function mprotect(
  w: World,
  p: string,
  region: string,
  page: number,
  count: number,
  prot: number,
): void {
  sysMprotect(w.sys, w.mm(p), w.addr(region, page), count * PAGE_SIZE, prot);
  w.step();
}

/** mremap of the whole region to `pages` pages, moved to `to` (a region name placed by the World) if given. */
export function mremap(w: World, p: string, region: string, pages: number, to?: string): void {
  const r = w.regions.get(region)!;
  const dest = to ? w.regions.get(to)!.addr : undefined;
  r.addr = sysMremap(w.sys, w.mm(p), r.addr, r.pages * PAGE_SIZE, pages * PAGE_SIZE, dest);
  r.pages = pages;
  w.step();
}

export function mlock(w: World, p: string, region: string): void {
  const r = w.regions.get(region)!;
  sysMlock(w.sys, w.mm(p), r.addr, r.pages * PAGE_SIZE);
  w.step();
}

export function munlock(w: World, p: string, region: string): void {
  const r = w.regions.get(region)!;
  sysMunlock(w.sys, w.mm(p), r.addr, r.pages * PAGE_SIZE);
  w.step();
}

export function madvise(w: World, p: string, region: string, advice: MadviseAdvice): void {
  const r = w.regions.get(region)!;
  sysMadvise(w.sys, w.mm(p), r.addr, r.pages * PAGE_SIZE, advice);
  w.step();
}

/** The one PTE that maps `pfn` (found by brute force over every page table). */
function findOnlyPte(sys: MmSystem, pfn: number): { mm: Mm; addr: number } {
  for (const mm of sys.mms)
    for (const t of mm.pgd.allTables())
      for (let i = 0; i < PTRS_PER_PTE; i++)
        if (t.pfn[i] === pfn && t.bits[i] & PTE_PRESENT && !(t.bits[i] & (PTE_SPECIAL | PTE_SWAP)))
          return { mm, addr: (t.pmdNo * PTRS_PER_PTE + i) * PAGE_SIZE };
  throw new Error(`pfn ${pfn} is not mapped`);
}

/**
 * A reclaim of a page mapped by exactly one PTE, as shrink_page_list() would do it: an anonymous
 * page needs a swap slot (none: it stays mapped), then its PTE becomes a swap entry and the page
 * leaves the swap cache once written; a page-cache page is unmapped and stays cached. Records the
 * pages it was handed.
 */
export function installTestReclaim(sys: MmSystem): number[] {
  const handed: number[] = [];
  sys.reclaimPage = (pfn) => {
    handed.push(pfn);
    const mem = sys.mem;
    if (mem.mapcount[pfn] !== 0)
      throw new Error(`reclaim of pfn ${pfn} mapped ${mem.mapcount[pfn] + 1} times`);
    const tag = mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS;
    if (tag === PAGE_MAPPING_KSM) return; // not this stand-in's business
    const anon = tag === PAGE_MAPPING_ANON;
    if (anon && !(mem.flags[pfn] & (1 << PG_swapcache)) && !addToSwap(sys, pfn)) return;
    const { mm, addr } = findOnlyPte(sys, pfn);
    const t = mm.pgd.lookup(Math.floor(addr / PAGE_SIZE / PTRS_PER_PTE))!;
    const i = (addr / PAGE_SIZE) % PTRS_PER_PTE;
    t.ptl.lock(sys.current);
    if (anon) setSwapPte(sys, mm, t, i, pfn);
    else {
      setPte(t, i, 0, 0);
      mm.rss[mem.flags[pfn] & (1 << PG_swapbacked) ? 'shmem' : 'file']--;
    }
    t.ptl.unlock(sys.current);
    pageRemoveRmap(sys, pfn);
    putPage(sys, pfn);
    if (anon && mem.refcount[pfn] === 1) deleteFromSwapCache(sys, pfn);
  };
  return handed;
}
