/**
 * The swap cache — mm/swap_state.c: a page being swapped out or in sits in the cache under its swap
 * entry (PG_swapcache, page->private = entry) and the cache holds one reference.
 */
import { PG_dirty, PG_swapbacked, PG_swapcache, PG_uptodate } from './constants.js';
import type { MmSystem } from './system.js';

/** lookup_swap_cache() — mm/swap_state.c: the cached page of `entry`, or -1. */
export function lookupSwapCache(sys: MmSystem, entry: number): number {
  return sys.swap.cache.get(entry) ?? -1;
}

/** add_to_swap_cache() — mm/swap_state.c */
function addToSwapCache(sys: MmSystem, pfn: number, entry: number): void {
  const mem = sys.mem;
  mem.flags[pfn] |= (1 << PG_swapcache) | (1 << PG_swapbacked);
  mem.private[pfn] = entry;
  mem.refcount[pfn]++;
  sys.swap.cache.set(entry, pfn);
}

/**
 * add_to_swap() — mm/swap_state.c: give an anonymous page a swap slot and put it in the swap cache.
 * 6.12 also marks it dirty (folio_mark_dirty, for MADV_FREE pages whose PTEs were cleaned); 4.9
 * does not: the dirty PTEs make it dirty when try_to_unmap clears them, and a page that stays clean
 * is discarded as lazily freed (TTU_LZFREE). False when swap is full or absent.
 */
export function addToSwap(sys: MmSystem, pfn: number): boolean {
  const entry = sys.swap.getSwapPage();
  if (entry === 0) return false;
  addToSwapCache(sys, pfn, entry);
  sys.swap.data.set(entry, sys.mem.content[pfn]);
  if (sys.rules['add-to-swap-dirty']) sys.mem.flags[pfn] |= 1 << PG_dirty;
  if (sys.tracing) sys.trace('add_to_swap', `pfn ${pfn} → swap entry ${entry}`, { pfn });
  return true;
}

/**
 * delete_from_swap_cache() — mm/swap_state.c: the page leaves the cache; its slot loses the cache's
 * user and the page the cache's reference.
 */
export function deleteFromSwapCache(sys: MmSystem, pfn: number): void {
  const mem = sys.mem;
  const entry = mem.private[pfn];
  sys.swap.cache.delete(entry);
  mem.flags[pfn] &= ~(1 << PG_swapcache);
  mem.private[pfn] = 0;
  sys.swap.swapFree(entry);
  if (--mem.refcount[pfn] === 0) mem.freePage(pfn);
}

/**
 * swapin_readahead() / read_swap_cache_async() — mm/swap_state.c: read `entry` into a new page in
 * the swap cache (not yet mapped, so not yet anon). The caller's reference is the returned one.
 */
export function swapinReadahead(sys: MmSystem, entry: number): number {
  const content = sys.swap.data.get(entry);
  if (content === undefined) throw new Error(`swap entry ${entry} holds no data`);
  const pfn = sys.mem.allocPage(content);
  sys.mem.flags[pfn] |= 1 << PG_uptodate;
  sys.swap.swapDuplicate(entry);
  addToSwapCache(sys, pfn, entry);
  sys.mem.refcount[pfn]--; // allocPage's reference becomes the cache's one
  if (sys.tracing) sys.trace('swapin_readahead', `swap entry ${entry} read into pfn ${pfn}`, { pfn });
  return pfn;
}

/**
 * free_swap_and_cache() — mm/swapfile.c: a swap PTE went away; when no other PTE refers to the slot
 * and its cached page is unmapped, the cached page goes too.
 */
export function freeSwapAndCache(sys: MmSystem, entry: number): void {
  sys.swap.swapFree(entry);
  const pfn = lookupSwapCache(sys, entry);
  if (pfn >= 0 && sys.swap.swapCount(entry) === 0 && sys.mem.mapcount[pfn] < 0) deleteFromSwapCache(sys, pfn);
}
