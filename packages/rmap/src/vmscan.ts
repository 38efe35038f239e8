/**
 * Reclaim of one page — mm/vmscan.c (4.9 shrink_page_list / page_check_references; 6.12
 * shrink_folio_list / folio_check_references), run by the current task (kswapd for the scenario's
 * `reclaim`): look at the references, give an anonymous page a swap slot, unmap it everywhere with
 * try_to_unmap, write it out if dirty, and free it.
 *
 * Choices where the kernel defers to later passes or devices the model lacks:
 *  - writeback is synchronous: a dirty anonymous page is written to its swap slot, a dirty file page
 *    to `mapping.disk` (where a later fault reads it back), and both are freed in the same pass;
 *  - only kswapd writes a dirty file page, and the kernel's other condition, that the node has met
 *    many dirty pages (PGDAT_DIRTY), is taken as met; from 4.11 kswapd also waits for its second
 *    meeting with the page. Any other reclaimer (MADV_PAGEOUT's reclaim_pages, direct reclaim)
 *    leaves the page dirty in the page cache, unmapped, with PG_reclaim set for the flusher threads,
 *    which the model does not run;
 *  - shmem pages are unmapped but never swapped (shmem_writepage is not modelled): they stay in the
 *    shmem cache and are activated, which is what both kernels do without swap.
 */
import {
  type AddressSpace,
  addToSwap,
  deleteFromSwapCache,
  getPage,
  type MmSystem,
  type Page,
  PageAnon,
  PageSwapCache,
  PG_active,
  PG_dirty,
  PG_mlocked,
  PG_reclaim,
  PG_referenced,
  PG_swapbacked,
  PG_unevictable,
  pageMapped,
  putPage,
  trylockPage,
  tryToFreeSwap,
  unlockPage,
  VM_EXEC,
  VM_LOCKED,
} from '@rmaplab/mm';
import {
  SWAP_AGAIN,
  SWAP_FAIL,
  SWAP_LZFREE,
  SWAP_MLOCK,
  SWAP_SUCCESS,
  swapName,
  TTU_BATCH_FLUSH,
  TTU_LZFREE,
  TTU_UNMAP,
  ttuFlagsMissing,
  unmapped,
} from './codes.js';
import { type PageReferencedResult, pageReferenced } from './page-referenced.js';
import { newWalkLog, pageMapping, type WalkLog } from './rmap-walk.js';
import { tryToUnmap } from './try-to-unmap.js';

/** enum page_references — mm/vmscan.c (4.9; 6.1's enum folio_references, FOLIOREF_*: sys.name). */
export type PageReferences =
  | 'PAGEREF_RECLAIM'
  | 'PAGEREF_RECLAIM_CLEAN'
  | 'PAGEREF_KEEP'
  | 'PAGEREF_ACTIVATE';

/** Where reclaim left the page. */
export type ReclaimOutcome = 'freed' | 'kept' | 'activated' | 'culled';

/** What reclaiming one page did, step by step. */
export interface ReclaimResult {
  pfn: number;
  outcome: ReclaimOutcome;
  /** Why, in the kernel's words (the label shrink_page_list jumped to and its cause). */
  reason: string;
  /** page_check_references()'s verdict (null when references were ignored or not reached). */
  references: PageReferences | null;
  /** page_referenced()'s result, when it ran. */
  referenced: PageReferencedResult | null;
  /** The swap slot add_to_swap gave the page (0: none given). */
  swapEntry: number;
  /** try_to_unmap's result as the model's SWAP_* code (null when it did not run). */
  unmap: number | null;
  /** The flags reclaim passed to try_to_unmap (the model's bits; 0 when it did not run). */
  unmapFlags: number;
  /** Whether pageout() wrote the page. */
  wrote: boolean;
  /** The page_referenced and try_to_unmap walks. */
  referencedLog: WalkLog;
  unmapLog: WalkLog;
}

export interface ShrinkOptions {
  /** shrink_folio_list(..., ignore_references) — 6.12's reclaim_pages() for MADV_PAGEOUT. */
  ignoreReferences?: boolean;
}

/**
 * page_check_references() — mm/vmscan.c (4.9; 6.12 folio_check_references): referenced PTEs keep
 * or activate the page; VM_LOCKED lets try_to_unmap cull it (4.9) or activates it (6.12, where
 * activate_locked leaves the now mlocked folio unevictable).
 */
function pageCheckReferences(sys: MmSystem, pfn: number, r: ReclaimResult): PageReferences {
  const mem = sys.mem;
  const ref = pageReferenced(sys, pfn, true, r.referencedLog);
  r.referenced = ref;
  const referencedPage = (mem.flags[pfn] & (1 << PG_referenced)) !== 0;
  mem.flags[pfn] &= ~(1 << PG_referenced);
  const swapBacked = (mem.flags[pfn] & (1 << PG_swapbacked)) !== 0;
  if (ref.vmFlags & VM_LOCKED) return sys.rules['referenced-mlocks'] ? 'PAGEREF_ACTIVATE' : 'PAGEREF_RECLAIM';
  if (ref.referenced === -1) return 'PAGEREF_KEEP';
  if (ref.referenced > 0) {
    if (!sys.rules['anon-first-reference'] && swapBacked) return 'PAGEREF_ACTIVATE';
    mem.flags[pfn] |= 1 << PG_referenced;
    if (referencedPage || ref.referenced > 1) return 'PAGEREF_ACTIVATE';
    if (ref.vmFlags & VM_EXEC && !swapBacked) return 'PAGEREF_ACTIVATE';
    return 'PAGEREF_KEEP';
  }
  if (referencedPage && !swapBacked) return 'PAGEREF_RECLAIM_CLEAN';
  return 'PAGEREF_RECLAIM';
}

/** pageout() — mm/vmscan.c, written through at once; false when the page cannot be written (shmem). */
function pageout(sys: MmSystem, pfn: number): boolean {
  const mem = sys.mem;
  if (PageSwapCache(mem, pfn)) sys.swap.data.set(mem.private[pfn], mem.content[pfn]);
  else if (mem.flags[pfn] & (1 << PG_swapbacked)) return false;
  else (mem.mapping[pfn] as AddressSpace).disk.set(mem.index[pfn], mem.content[pfn]);
  mem.flags[pfn] &= ~(1 << PG_dirty);
  return true;
}

/**
 * __remove_mapping() — mm/vmscan.c: only the cache's and reclaim's references may be left
 * (page_ref_freeze(page, 2)); then the page leaves the swap cache or the page cache (a clean file
 * page's data stays on disk).
 */
function removeMapping(sys: MmSystem, pfn: number): boolean {
  const mem = sys.mem;
  if (mem.refcount[pfn] !== 2 || mem.flags[pfn] & (1 << PG_dirty)) return false;
  if (PageSwapCache(mem, pfn)) {
    deleteFromSwapCache(sys, pfn);
    return true;
  }
  const mapping = mem.mapping[pfn] as AddressSpace;
  mapping.disk.set(mem.index[pfn], mem.content[pfn]);
  mapping.pageTree.delete(mem.index[pfn]);
  mem.refcount[pfn]--;
  return true;
}

/**
 * shrink_page_list() — mm/vmscan.c, for one isolated page. Returns the outcome and each step's
 * result; the page is freed, or put back (active, inactive or unevictable).
 */
export function shrinkPage(sys: MmSystem, page: Page | number, opts: ShrinkOptions = {}): ReclaimResult {
  const pfn = typeof page === 'number' ? page : page.pfn;
  const mem = sys.mem;
  if (!mem.isAllocated(pfn)) throw new Error(`reclaim: pfn ${pfn} is not an allocated page`);
  const r: ReclaimResult = {
    pfn,
    outcome: 'kept',
    reason: '',
    references: null,
    referenced: null,
    swapEntry: 0,
    unmap: null,
    unmapFlags: 0,
    wrote: false,
    referencedLog: newWalkLog(),
    unmapLog: newWalkLog(),
  };
  getPage(sys, pfn); // isolate_lru_page()
  if (!trylockPage(sys, pfn))
    return putback(sys, r, 'kept', `keep: ${sys.name('trylock_page')} failed, the page is busy`);
  try {
    [r.outcome, r.reason] = decide(sys, r, opts);
  } finally {
    if (r.outcome !== 'freed') unlockPage(sys, pfn);
  }
  return putback(sys, r, r.outcome, r.reason);
}

/** The body of shrink_page_list() with the page locked: where the page goes, and why. */
function decide(sys: MmSystem, r: ReclaimResult, opts: ShrinkOptions): [ReclaimOutcome, string] {
  const mem = sys.mem;
  const pfn = r.pfn;
  if (mem.flags[pfn] & (1 << PG_mlocked)) {
    const why = 'page_evictable() is false (PG_mlocked)';
    return sys.rules['remove-swap-mlock'] ? activateLocked(sys, pfn, why) : cullMlocked(sys, pfn, why);
  }
  const checkReferences = `${sys.name('page_check_references')}()`;
  if (!opts.ignoreReferences) {
    r.references = pageCheckReferences(sys, pfn, r);
    if (r.references === 'PAGEREF_ACTIVATE')
      return activateLocked(sys, pfn, `${checkReferences} says the page is in use`);
    if (r.references === 'PAGEREF_KEEP')
      return verdict('kept', `keep_locked: ${checkReferences} says look again later`);
  }
  // 4.9: a page given its swap slot in this pass may be discarded while clean (MADV_FREE).
  let lazyfree = false;
  if (PageAnon(mem, pfn) && !PageSwapCache(mem, pfn)) {
    if (!addToSwap(sys, pfn))
      return activateLocked(sys, pfn, `${sys.name('add_to_swap')}() found no swap space`);
    r.swapEntry = mem.private[pfn];
    lazyfree = !sys.rules['ttu-lzfree-removed'];
  }
  if (pageMapped(mem, pfn) && pageMapping(mem, pfn) !== null) {
    // The flags shrink_page_list passes: TTU_UNMAP (to 4.11) and TTU_BATCH_FLUSH, TTU_LZFREE for a
    // page just added to swap (4.9–4.11). TTU_SPLIT_HUGE_PMD and 6.10's TTU_SYNC are for large
    // folios, which the model does not have.
    r.unmapFlags = (TTU_UNMAP | TTU_BATCH_FLUSH | (lazyfree ? TTU_LZFREE : 0)) & ~ttuFlagsMissing(sys.rules);
    r.unmap = tryToUnmap(sys, pfn, r.unmapFlags, r.unmapLog);
    const why = unmapVerdict(sys, r.unmap);
    // Without SWAP_* codes reclaim only asks whether the page is still mapped: if so, activate_locked.
    if (sys.rules['swap-codes-removed'] && !unmapped(r.unmap)) return activateLocked(sys, pfn, why);
    if (r.unmap === SWAP_FAIL) return activateLocked(sys, pfn, why);
    if (r.unmap === SWAP_AGAIN) return verdict('kept', `keep_locked: ${why}`);
    if (r.unmap === SWAP_MLOCK) return cullMlocked(sys, pfn, why);
    if (r.unmap === SWAP_LZFREE) return freeIt(sys, pfn, `lazyfree: ${why}, the clean page is discarded`);
    if (r.unmap !== SWAP_SUCCESS) throw new Error(why);
  }
  if (mem.flags[pfn] & (1 << PG_dirty)) {
    const notHere = mem.flags[pfn] & (1 << PG_swapbacked) ? null : leaveToFlusher(sys, pfn);
    if (notHere) {
      mem.flags[pfn] |= 1 << PG_reclaim;
      const why = `${notHere}: PG_reclaim set, the dirty file page stays in the page cache for the flusher`;
      return sys.rules['reclaim-dirty-file-activate']
        ? activateLocked(sys, pfn, why)
        : verdict('kept', `keep_locked: ${why}`);
    }
    if (r.references === 'PAGEREF_RECLAIM_CLEAN')
      return verdict('kept', `keep_locked: dirty, and ${checkReferences} allows only clean pages`);
    if (!pageout(sys, pfn))
      return activateLocked(sys, pfn, 'pageout() of a shmem page (shmem swap is not modelled)');
    r.wrote = true;
  }
  return freeIt(
    sys,
    pfn,
    !PageAnon(mem, pfn)
      ? 'free_it: dropped from the page cache'
      : r.wrote
        ? 'free_it: the data is in swap, the page is freed'
        : // Clean: pageout() is not called, the swap slot is trusted to hold the data (before 4.14,
          // for a page add_to_swap just gave a slot, it does not: add-to-swap-dirty).
          'free_it: clean, so pageout() did not write it; the page is freed',
  );
}

/**
 * What try_to_unmap's outcome told reclaim, in the release's words: the SWAP_* code it returned (to
 * 4.11), the bool (4.12–5.13), or — try_to_unmap returning nothing from 5.14 — the page_mapped()
 * test after it.
 */
function unmapVerdict(sys: MmSystem, code: number): string {
  if (!sys.rules['swap-codes-removed']) return `try_to_unmap() returned ${swapName(code)}`;
  if (!sys.rules['ttu-void']) return `try_to_unmap() returned ${unmapped(code)}`;
  return `${sys.name('page_mapped')}() is ${!unmapped(code)} after try_to_unmap()`;
}

/**
 * The first test of shrink_page_list()'s PageDirty branch — mm/vmscan.c: why reclaim must not write
 * this dirty file page back itself, or null when it may. Only kswapd may (direct reclaim would
 * risk a stack overflow in the filesystem; 6.x's reclaim_pages() is no exception), and from
 * `reclaim-dirty-file-seen-twice` (4.11) only a page it met before: the first meeting only sets
 * PG_reclaim, which a fault that maps the page again clears. PGDAT_DIRTY is taken as set.
 */
function leaveToFlusher(sys: MmSystem, pfn: number): string | null {
  if (sys.current !== sys.kswapd) return 'only kswapd writes file pages back';
  if (sys.rules['reclaim-dirty-file-seen-twice'] && !(sys.mem.flags[pfn] & (1 << PG_reclaim)))
    return 'kswapd writes back only a dirty file page it has met before';
  return null;
}

/** __remove_mapping() and free_it, or keep_locked when other references hold the page. */
function freeIt(sys: MmSystem, pfn: number, why: string): [ReclaimOutcome, string] {
  if (pageMapping(sys.mem, pfn) === null || !removeMapping(sys, pfn))
    return verdict('kept', 'keep_locked: __remove_mapping() failed (other references to the page)');
  unlockPage(sys, pfn);
  return verdict('freed', why);
}

/**
 * cull_mlocked — shrink_page_list() (4.9): an mlocked page gives up its swap slot
 * (try_to_free_swap) and goes back to be filed as unevictable.
 */
function cullMlocked(sys: MmSystem, pfn: number, why: string): [ReclaimOutcome, string] {
  const freed = PageSwapCache(sys.mem, pfn) && tryToFreeSwap(sys, pfn);
  return verdict('culled', `cull_mlocked: ${why}${freed ? '; try_to_free_swap() freed its swap slot' : ''}`);
}

/**
 * activate_locked — shrink_page_list() (4.9) / shrink_folio_list() (6.12): "not a candidate for
 * swapping, so reclaim swap space": a swap-cache page gives up its slot when swap is more than
 * half full (vm_swap_full) and, under 6.12, when it is mlocked (folio_free_swap). The page is set
 * active — except an mlocked 6.12 folio, which is not, and which putback files as unevictable.
 */
function activateLocked(sys: MmSystem, pfn: number, why: string): [ReclaimOutcome, string] {
  const mem = sys.mem;
  const mlocked = sys.rules['remove-swap-mlock'] && (mem.flags[pfn] & (1 << PG_mlocked)) !== 0;
  let reason = `activate_locked: ${why}`;
  if (PageSwapCache(mem, pfn) && (sys.swap.vmSwapFull() || mlocked) && tryToFreeSwap(sys, pfn))
    reason += `; ${mlocked ? 'mlocked' : 'swap is more than half full'}: the swap slot is freed`;
  if (mlocked) return verdict('culled', `${reason}; mlocked, so not set active: it goes back unevictable`);
  return verdict('activated', reason);
}

/** One of shrink_page_list()'s exits: where the page goes and the reason. */
function verdict(outcome: ReclaimOutcome, reason: string): [ReclaimOutcome, string] {
  return [outcome, reason];
}

/** putback_lru_page() or free: drop reclaim's isolation reference and file the page. */
function putback(sys: MmSystem, r: ReclaimResult, outcome: ReclaimOutcome, reason: string): ReclaimResult {
  const mem = sys.mem;
  const pfn = r.pfn;
  r.outcome = outcome;
  r.reason = reason;
  if (outcome === 'activated') mem.flags[pfn] |= 1 << PG_active;
  if (outcome === 'culled') mem.flags[pfn] |= 1 << PG_unevictable;
  putPage(sys, pfn);
  if (sys.tracing)
    sys.trace('shrink_page_list', `pfn ${pfn}: ${outcome} (${reason})`, { pfn, result: outcome });
  return r;
}
