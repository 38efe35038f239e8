/**
 * Page faults, fork's PTE copy and unmapping — mm/memory.c. Every function keeps the page-level
 * rmap counts (mapcount, refcount, mapping, index) in step with the PTEs it writes.
 */
import { PageAnonExclusive, SetPageAnonExclusive } from './anon-exclusive.js';
import {
  PAGE_MAPPING_ANON,
  PAGE_MAPPING_FLAGS,
  PAGE_MAPPING_KSM,
  PAGE_SIZE,
  PG_locked,
  PG_mlocked,
  PG_readahead,
  PG_referenced,
  PG_swapbacked,
  PG_swapcache,
  PTE_DIRTY,
  PTE_MIGRATION,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_SPECIAL,
  PTE_SWAP,
  PTE_SWP_EXCLUSIVE,
  PTE_WRITE,
  PTE_YOUNG,
  PTRS_PER_PTE,
  RMAP_EXCLUSIVE,
  VM_LOCKED,
  VM_MAYWRITE,
  VM_READ,
  VM_SEQ_READ,
  VM_SHARED,
  VM_WRITE,
} from './constants.js';
import { KernelError } from './errors.js';
import { findGetPage, pageCacheFault, setPageDirty } from './filemap.js';
import { ksmMightNeedToCopy } from './ksm.js';
import { vmaAt } from './mmap.js';
import { CONTENT_ZERO, PageKsm } from './page.js';
import { lockPage, trylockPage, unlockPage } from './page-lock.js';
import { type PteTable, pmdIndex, pteIndex } from './pgtable.js';
import {
  anonVmaPrepare,
  clearPageMlock,
  getPage,
  linearPageIndex,
  mlockVmaPage,
  pageAddAnonRmap,
  pageAddFileRmap,
  pageAddNewAnonRmap,
  pageDupRmap,
  pageMoveAnonRmap,
  pageRemoveRmap,
  pageTryDupAnonRmap,
  putPage,
} from './rmap.js';
import { deleteFromSwapCache, freeSwapAndCache, lookupSwapCache, swapinReadahead } from './swap-state.js';
import type { MmSystem } from './system.js';
import type { Mm, VmArea } from './types.js';

/** A PTE as read from the page table. */
export interface Pte {
  pfn: number;
  bits: number;
}

/** The PTE that maps `addr` in `mm` (bits 0 = pte_none). */
export function readPte(mm: Mm, addr: number): Pte {
  const t = mm.pgd.lookup(pmdIndex(addr));
  if (!t) return { pfn: 0, bits: 0 };
  const i = pteIndex(addr);
  return { pfn: t.pfn[i], bits: t.bits[i] };
}

/** set_pte_at() — also keeps the table's count of used entries. */
export function setPte(t: PteTable, i: number, pfn: number, bits: number): void {
  if (t.bits[i] === 0 && bits !== 0) t.used++;
  else if (t.bits[i] !== 0 && bits === 0) t.used--;
  t.pfn[i] = pfn;
  t.bits[i] = bits;
}

/** pte_offset_map_lock() — locate (allocating) the PTE table of `addr` and take its lock. */
export function pteOffsetMapLock(sys: MmSystem, mm: Mm, addr: number): PteTable {
  const pmdNo = pmdIndex(addr);
  const t = mm.pgd.alloc(pmdNo, () => sys.newPtl(mm, pmdNo));
  t.ptl.lock(sys.current);
  return t;
}

/** mm_counter() — include/linux/mm.h: which rss counter a page is charged to. */
export function mmCounter(sys: MmSystem, pfn: number): 'anon' | 'file' | 'shmem' {
  const mem = sys.mem;
  if (mem.mappingTag[pfn] & 1) return 'anon';
  return mem.flags[pfn] & (1 << PG_swapbacked) ? 'shmem' : 'file';
}

/** lru_cache_add_active_or_unevictable() — mm/swap.c: a new page of a VM_LOCKED VMA is mlocked. */
function lruCacheAddActiveOrUnevictable(sys: MmSystem, pfn: number, vma: VmArea): void {
  if (vma.vmFlags & VM_LOCKED) mlockVmaPage(sys, pfn);
}

/** is_cow_mapping() — mm/internal.h: private with VM_MAYWRITE. */
export function isCowMapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

/**
 * handle_mm_fault() — mm/memory.c: a user access to `addr`. An access the VMA does not allow
 * (or to no VMA at all) is a SIGSEGV, as for the real process.
 */
export function handleMmFault(sys: MmSystem, mm: Mm, addr: number, write: boolean): void {
  const vma = vmaAt(mm, addr);
  if (!vma) throw new KernelError('SIGSEGV', `no mapping at 0x${addr.toString(16)}`);
  if (write ? !(vma.vmFlags & VM_WRITE) : !(vma.vmFlags & VM_READ))
    throw new KernelError(
      'SIGSEGV',
      `${write ? 'write' : 'read'} access not permitted at 0x${addr.toString(16)}`,
    );
  if (vma.vmFile && vma.vmFile.sizePages <= linearPageIndex(vma, addr))
    throw new KernelError('SIGBUS', `access beyond the end of ${vma.vmFile.name}`);
  mm.mmapSem.downRead(sys.current);
  try {
    handlePteFault(sys, mm, vma, addr, write);
  } finally {
    mm.mmapSem.upRead(sys.current);
  }
}

/** handle_pte_fault() — mm/memory.c (also the fault that get_user_pages raises, with mmap_sem held by its caller). */
export function handlePteFault(sys: MmSystem, mm: Mm, vma: VmArea, addr: number, write: boolean): void {
  const { bits } = readPte(mm, addr);
  if (bits === 0) {
    if (!vma.vmFile) doAnonymousPage(sys, mm, vma, addr, write);
    else if (!write) doReadFault(sys, mm, vma, addr);
    else if (!(vma.vmFlags & VM_SHARED)) doCowFault(sys, mm, vma, addr);
    else doSharedFault(sys, mm, vma, addr);
    return;
  }
  if (bits & PTE_MIGRATION)
    throw new KernelError('EAGAIN', 'the page is under migration (migration_entry_wait)');
  if (bits & PTE_SWAP) {
    doSwapPage(sys, mm, vma, addr, write);
    return;
  }
  const t = pteOffsetMapLock(sys, mm, addr);
  const i = pteIndex(addr);
  if (write && !(t.bits[i] & PTE_WRITE)) {
    doWpPage(sys, mm, vma, addr, t, i);
    return;
  }
  t.bits[i] |= PTE_YOUNG | (write ? PTE_DIRTY : 0);
  t.ptl.unlock(sys.current);
}

/**
 * do_anonymous_page() — mm/memory.c. A read maps the shared zero page (no rmap, no anon_vma)
 * unless the zero page is off; otherwise anon_vma_prepare() and a fresh exclusive page.
 */
function doAnonymousPage(sys: MmSystem, mm: Mm, vma: VmArea, addr: number, write: boolean): void {
  if (!write && sys.options.zeroPage) {
    const t = pteOffsetMapLock(sys, mm, addr);
    setPte(t, pteIndex(addr), 0, PTE_PRESENT | PTE_SPECIAL | PTE_YOUNG);
    t.ptl.unlock(sys.current);
    if (sys.tracing)
      sys.trace('do_anonymous_page', `zero page at 0x${addr.toString(16)}`, { vma: vma.id, addr, pfn: 0 });
    return;
  }
  anonVmaPrepare(sys, vma);
  const pfn = sys.mem.allocPage(CONTENT_ZERO);
  const t = pteOffsetMapLock(sys, mm, addr);
  pageAddNewAnonRmap(sys, pfn, vma, addr);
  lruCacheAddActiveOrUnevictable(sys, pfn, vma);
  const w = vma.vmFlags & VM_WRITE ? PTE_WRITE | PTE_DIRTY : 0;
  setPte(t, pteIndex(addr), pfn, PTE_PRESENT | PTE_YOUNG | w);
  mm.rss.anon++;
  t.ptl.unlock(sys.current);
  if (sys.tracing)
    sys.trace('do_anonymous_page', `new page pfn ${pfn} at 0x${addr.toString(16)}`, {
      vma: vma.id,
      addr,
      pfn,
    });
}

/**
 * do_fault_around() + filemap_map_pages() — mm/memory.c, mm/filemap.c. Map the resident page-cache
 * pages whose PTE is empty in a window of `fault-around` pages: from the faulting index rounded
 * down to the window (or the VMA's start if later), clipped to the VMA, the page table and EOF.
 */
function doFaultAround(sys: MmSystem, mm: Mm, vma: VmArea, addr: number): void {
  const nr = sys.options.faultAround;
  const file = vma.vmFile!;
  const ptePos = pteIndex(addr);
  const tableStart = addr - ptePos * PAGE_SIZE;
  const vmaStartPos = vma.vmStart > tableStart ? (vma.vmStart - tableStart) / PAGE_SIZE : 0;
  const first = Math.max(ptePos - (ptePos % nr), vmaStartPos);
  const vmaEndPos = Math.min(PTRS_PER_PTE, (vma.vmEnd - tableStart) / PAGE_SIZE);
  const last = Math.min(first + nr, PTRS_PER_PTE, vmaEndPos) - 1;
  const t = pteOffsetMapLock(sys, mm, addr);
  let mapped = 0;
  for (let pos = first; pos <= last; pos++) {
    if (t.bits[pos] !== 0) continue;
    const a = tableStart + pos * PAGE_SIZE;
    const index = linearPageIndex(vma, a);
    if (index >= file.sizePages) break;
    const pfn = findGetPage(file, index);
    // filemap_map_pages() leaves a locked page, and one with PG_readahead (PG_reclaim), to a real fault.
    if (pfn < 0 || sys.mem.flags[pfn] & ((1 << PG_locked) | (1 << PG_readahead))) continue;
    getPage(sys, pfn);
    pageAddFileRmap(sys, pfn);
    setPte(t, pos, pfn, PTE_PRESENT | PTE_YOUNG);
    mm.rss[mmCounter(sys, pfn)]++;
    mapped++;
  }
  t.ptl.unlock(sys.current);
  if (sys.tracing)
    sys.trace('do_fault_around', `mapped ${mapped} resident pages around 0x${addr.toString(16)}`, {
      vma: vma.id,
      addr,
    });
}

/** Map one page-cache page at `addr` (alloc_set_pte for a file page). */
function mapFilePage(sys: MmSystem, mm: Mm, vma: VmArea, addr: number, pfn: number, write: boolean): void {
  const t = pteOffsetMapLock(sys, mm, addr);
  getPage(sys, pfn);
  pageAddFileRmap(sys, pfn);
  setPte(t, pteIndex(addr), pfn, PTE_PRESENT | PTE_YOUNG | (write ? PTE_WRITE | PTE_DIRTY : 0));
  mm.rss[mmCounter(sys, pfn)]++;
  if (vma.vmFlags & VM_LOCKED) mlockVmaPage(sys, pfn);
  t.ptl.unlock(sys.current);
}

/** do_read_fault() — mm/memory.c: fault-around first, then the page itself if still unmapped. */
function doReadFault(sys: MmSystem, mm: Mm, vma: VmArea, addr: number): void {
  if (sys.options.faultAround > 1) {
    doFaultAround(sys, mm, vma, addr);
    if (readPte(mm, addr).bits !== 0) return;
  }
  const file = vma.vmFile!;
  const index = linearPageIndex(vma, addr);
  const major = !file.shmem && findGetPage(file, index) < 0;
  const pfn = pageCacheFault(sys, file, index);
  if (pfn < 0) throw new KernelError('SIGBUS', 'read beyond the end of the file');
  // 6.x filemap_fault() drops mmap_lock for the read and answers VM_FAULT_RETRY: the retried fault
  // finds the read-around window resident and fault-around maps it. 4.9 maps the page directly.
  if (major && sys.rules['filemap-fault-retry'] && sys.options.faultAround > 1) {
    doFaultAround(sys, mm, vma, addr);
    if (readPte(mm, addr).bits !== 0) return;
  }
  mapFilePage(sys, mm, vma, addr, pfn, false);
  if (sys.tracing)
    sys.trace('do_read_fault', `pfn ${pfn} at 0x${addr.toString(16)}`, { vma: vma.id, addr, pfn });
}

/**
 * do_cow_fault() — mm/memory.c: a write to an unmapped page of a private file mapping copies the
 * file page into a new anonymous page; the page-cache page is not mapped.
 */
function doCowFault(sys: MmSystem, mm: Mm, vma: VmArea, addr: number): void {
  anonVmaPrepare(sys, vma);
  const src = pageCacheFault(sys, vma.vmFile!, linearPageIndex(vma, addr));
  if (src < 0) throw new KernelError('SIGBUS', 'write beyond the end of the file');
  const pfn = sys.mem.allocPage(sys.mem.content[src]);
  const t = pteOffsetMapLock(sys, mm, addr);
  pageAddNewAnonRmap(sys, pfn, vma, addr);
  lruCacheAddActiveOrUnevictable(sys, pfn, vma);
  setPte(t, pteIndex(addr), pfn, PTE_PRESENT | PTE_YOUNG | PTE_WRITE | PTE_DIRTY);
  mm.rss.anon++;
  t.ptl.unlock(sys.current);
  if (sys.tracing)
    sys.trace('do_cow_fault', `private copy pfn ${pfn} of ${vma.vmFile!.name} page`, {
      vma: vma.id,
      addr,
      pfn,
    });
}

/** do_shared_fault() — mm/memory.c: a write fault maps the page-cache page writable and dirties it. */
function doSharedFault(sys: MmSystem, mm: Mm, vma: VmArea, addr: number): void {
  const pfn = pageCacheFault(sys, vma.vmFile!, linearPageIndex(vma, addr));
  if (pfn < 0) throw new KernelError('SIGBUS', 'write beyond the end of the file');
  mapFilePage(sys, mm, vma, addr, pfn, true);
  setPageDirty(sys, pfn);
  if (sys.tracing)
    sys.trace('do_shared_fault', `pfn ${pfn} at 0x${addr.toString(16)}`, { vma: vma.id, addr, pfn });
}

/**
 * reuse_swap_page() — mm/swapfile.c (4.9 to 5.17): the page may be written in place when this is its
 * only mapping and no other swap PTE refers to it; a swap copy it had is dropped then. A KSM page
 * never is.
 */
export function reuseSwapPage(sys: MmSystem, pfn: number): boolean {
  const mem = sys.mem;
  if ((mem.mappingTag[pfn] & PAGE_MAPPING_FLAGS) === PAGE_MAPPING_KSM) return false;
  let count = mem.mapcount[pfn] + 1;
  if (count <= 1 && mem.flags[pfn] & (1 << PG_swapcache)) {
    count += sys.swap.swapCount(mem.private[pfn]);
    if (count === 1) {
      deleteFromSwapCache(sys, pfn);
      setPageDirty(sys, pfn);
    }
  }
  return count <= 1;
}

/**
 * The reuse test of do_wp_page() — mm/memory.c (6.7 wp_can_reuse_anon_folio) for an anonymous page,
 * as each release makes it:
 *  - 4.9: reuse_swap_page() under the page lock; a page mapped once moves to the faulting VMA's
 *    anon_vma (page_move_anon_rmap);
 *  - 5.9 (cow-reuse-refcount): only the page's own PTE may hold it (refcount 1, mapcount 1), checked
 *    again under a trylocked page lock; no move;
 *  - 5.18 (wp-reuse-swapcache): the swap cache's reference is allowed too, and dropped under the
 *    lock (try_to_free_swap) when no swap PTE needs the copy; the local LRU caches are drained first
 *    (lru_add_drain), which in the model hold nothing: it keeps no per-CPU LRU caches;
 *  - 5.19: the move comes back (wp-reuse-moves-anon-rmap).
 * In the model only PTEs, the swap cache and a running operation's own references (isolation by
 * reclaim or migration, KSM's scan) raise a refcount, and faults never run beside the latter.
 */
function wpCanReuseAnonPage(sys: MmSystem, pfn: number, vma: VmArea, t: PteTable): boolean {
  const mem = sys.mem;
  const rules = sys.rules;
  if (!lockPageForReuse(sys, pfn, t)) return false;
  let reuse: boolean;
  if (!rules['cow-reuse-refcount']) {
    reuse = reuseSwapPage(sys, pfn);
    if (reuse && mem.mapcount[pfn] === 0) pageMoveAnonRmap(sys, pfn, vma);
  } else {
    if (rules['wp-reuse-swapcache'] && mem.flags[pfn] & (1 << PG_swapcache)) tryToFreeSwap(sys, pfn);
    reuse = mem.mapcount[pfn] === 0 && mem.refcount[pfn] === 1;
    if (reuse && rules['wp-reuse-moves-anon-rmap']) pageMoveAnonRmap(sys, pfn, vma);
  }
  unlockPage(sys, pfn);
  return reuse;
}

/**
 * The checks of do_wp_page() before it takes the page lock, under the PTE lock `t`, and the lock.
 * 4.9 locks any anonymous page that is not KSM, and when trylock_page fails drops the PTE lock to
 * wait for it (the model cannot wait: lock_page reports the contention). The model does not lock a
 * page that other PTEs map: reuse_swap_page says no to it before looking at anything the lock
 * protects, and this keeps the copy of a shared page, fork's common case, as cheap as it was. From
 * 5.9 a KSM page, one that more than its own PTE holds (from 5.18, but for the swap cache), or one
 * whose trylock fails is copied.
 */
function lockPageForReuse(sys: MmSystem, pfn: number, t: PteTable): boolean {
  const mem = sys.mem;
  if (PageKsm(mem, pfn)) return false;
  if (!sys.rules['cow-reuse-refcount']) {
    if (mem.mapcount[pfn] > 0) return false;
    if (trylockPage(sys, pfn)) return true;
    t.ptl.unlock(sys.current);
    lockPage(sys, pfn);
    t.ptl.lock(sys.current);
    return true;
  }
  const cached = sys.rules['wp-reuse-swapcache'] && mem.flags[pfn] & (1 << PG_swapcache) ? 1 : 0;
  return mem.refcount[pfn] <= 1 + cached && trylockPage(sys, pfn);
}

/**
 * do_wp_page() — mm/memory.c: a write to a present, write-protected PTE. A shared file page is made
 * writable; an anonymous page is reused in place when it is exclusive (5.19, page-anon-exclusive:
 * no count is asked) or the release's reuse test says it is ours alone, and is then marked
 * exclusive; everything else (KSM pages, the zero page, shared anonymous pages, private file pages)
 * is copied.
 */
function doWpPage(sys: MmSystem, mm: Mm, vma: VmArea, addr: number, t: PteTable, i: number): void {
  const pfn = t.pfn[i];
  const special = (t.bits[i] & PTE_SPECIAL) !== 0;
  const mem = sys.mem;
  if (!special && mem.mappingTag[pfn] & PAGE_MAPPING_ANON) {
    const exclusive = sys.rules['page-anon-exclusive'] && PageAnonExclusive(mem, pfn);
    if (exclusive || wpCanReuseAnonPage(sys, pfn, vma, t)) {
      if (sys.rules['page-anon-exclusive']) SetPageAnonExclusive(mem, pfn);
      t.bits[i] |= PTE_WRITE | PTE_DIRTY | PTE_YOUNG;
      t.ptl.unlock(sys.current);
      if (sys.tracing)
        sys.trace('wp_page_reuse', `pfn ${pfn} reused at 0x${addr.toString(16)}`, { vma: vma.id, pfn, addr });
      return;
    }
  } else if (!special && vma.vmFlags & VM_SHARED) {
    t.bits[i] |= PTE_WRITE | PTE_DIRTY | PTE_YOUNG;
    setPageDirty(sys, pfn);
    t.ptl.unlock(sys.current);
    if (sys.tracing) sys.trace('wp_page_shared', `pfn ${pfn} made writable`, { vma: vma.id, pfn, addr });
    return;
  }
  t.ptl.unlock(sys.current);
  wpPageCopy(sys, mm, vma, addr, special ? -1 : pfn);
}

/**
 * wp_page_copy() — mm/memory.c: copy the old page (or zeroes) into a new exclusive page of this
 * VMA's anon_vma, point the PTE at it and drop the old page's mapping. An mlocked old page of a
 * VM_LOCKED VMA is munlocked (munlock_vma_page), and re-mlocked if another locked VMA maps it.
 * From 5.14 (cow-free-swap-cache) an old page left unmapped gives up its swap copy if no swap PTE
 * needs it (free_swap_cache).
 */
function wpPageCopy(sys: MmSystem, mm: Mm, vma: VmArea, addr: number, old: number): void {
  anonVmaPrepare(sys, vma);
  const mem = sys.mem;
  const pfn = mem.allocPage(old >= 0 ? mem.content[old] : CONTENT_ZERO);
  const t = pteOffsetMapLock(sys, mm, addr);
  const i = pteIndex(addr);
  pageAddNewAnonRmap(sys, pfn, vma, addr);
  lruCacheAddActiveOrUnevictable(sys, pfn, vma);
  if (old >= 0 && mmCounter(sys, old) !== 'anon') {
    mm.rss[mmCounter(sys, old)]--;
    mm.rss.anon++;
  } else if (old < 0) mm.rss.anon++;
  // maybe_mkwrite(): writable only where the VMA allows writes (break_ksm may copy in a read-only VMA).
  setPte(t, i, pfn, PTE_PRESENT | PTE_YOUNG | PTE_DIRTY | (vma.vmFlags & VM_WRITE ? PTE_WRITE : 0));
  if (old >= 0) pageRemoveRmap(sys, old);
  t.ptl.unlock(sys.current);
  if (old >= 0) {
    if (vma.vmFlags & VM_LOCKED && mem.flags[old] & (1 << PG_mlocked)) munlockVmaPage(sys, old);
    if (sys.rules['cow-free-swap-cache']) freeSwapCache(sys, old);
    putPage(sys, old);
  }
  if (sys.tracing)
    sys.trace('wp_page_copy', `COW at 0x${addr.toString(16)}: pfn ${old >= 0 ? old : 'zero'} → ${pfn}`, {
      vma: vma.id,
      addr,
      pfn,
    });
}

/**
 * should_try_to_free_swap() — mm/memory.c (5.18): whether do_swap_page() drops the swap copy of
 * the page it maps — always when swap is more than half full or the page is mlocked, and on a write
 * fault when ours and the swap cache's are the only references, so that the page can be exclusive.
 */
function shouldTryToFreeSwap(sys: MmSystem, pfn: number, vma: VmArea, write: boolean): boolean {
  const mem = sys.mem;
  if (!(mem.flags[pfn] & (1 << PG_swapcache))) return false;
  if (sys.swap.vmSwapFull() || vma.vmFlags & VM_LOCKED || mem.flags[pfn] & (1 << PG_mlocked)) return true;
  return write && !PageKsm(mem, pfn) && mem.refcount[pfn] === 2;
}

/**
 * do_swap_page() — mm/memory.c: bring a swapped-out page back, from the swap cache or read into it
 * (the model's swap device is not SWP_SYNCHRONOUS_IO: every read goes through the swap cache), or a
 * copy when KSM says so (ksm_might_need_to_copy). The page is mapped exclusive (RMAP_EXCLUSIVE: one
 * not yet anonymous gets vma->anon_vma rather than the root; from 5.19 PG_anon_exclusive), and
 * writable, by release:
 *  - 4.9: on a write fault that reuse_swap_page() allows; a copy is exclusive, writable on a write;
 *  - 5.18 (reuse-swap-page-removed): swap_free first, then should_try_to_free_swap(); a copy, or a
 *    page whose refcount is then 1, is exclusive, writable on a write fault;
 *  - 5.19 (swap-pte-exclusive-marker): so is a page whose swap PTE has the exclusive marker;
 *  - 6.11 (swapin-map-writable): an exclusive page is writable in a VM_WRITE VMA on a read fault too.
 * KSM pages are never exclusive. A write that the swap-in did not satisfy goes on to do_wp_page().
 */
function doSwapPage(sys: MmSystem, mm: Mm, vma: VmArea, addr: number, write: boolean): void {
  const mem = sys.mem;
  const rules = sys.rules;
  const i = pteIndex(addr);
  const t0 = pteOffsetMapLock(sys, mm, addr);
  const entry = t0.pfn[i];
  const marker = (t0.bits[i] & PTE_SWP_EXCLUSIVE) !== 0;
  t0.ptl.unlock(sys.current);
  let swapcache = lookupSwapCache(sys, entry);
  if (swapcache < 0) swapcache = swapinReadahead(sys, entry);
  getPage(sys, swapcache);
  const pfn = ksmMightNeedToCopy(sys, swapcache, vma, addr);
  const t = pteOffsetMapLock(sys, mm, addr);
  let exclusive: boolean;
  if (rules['reuse-swap-page-removed']) {
    sys.swap.swapFree(entry);
    if (shouldTryToFreeSwap(sys, pfn, vma, write)) tryToFreeSwap(sys, pfn);
    exclusive =
      !PageKsm(mem, pfn) &&
      (pfn !== swapcache || mem.refcount[pfn] === 1 || (marker && rules['swap-pte-exclusive-marker']));
  } else exclusive = write && reuseSwapPage(sys, pfn);
  mm.rss.anon++;
  mm.rss.swap--;
  let bits = PTE_PRESENT | PTE_YOUNG;
  if (exclusive && rules['swapin-map-writable']) {
    if (vma.vmFlags & VM_WRITE) {
      bits |= PTE_WRITE | (write ? PTE_DIRTY : 0);
      write = false;
    }
  } else if (exclusive && write) {
    bits |= PTE_DIRTY | (vma.vmFlags & VM_WRITE ? PTE_WRITE : 0);
    write = false;
  }
  setPte(t, i, pfn, bits);
  if (pfn !== swapcache) pageAddNewAnonRmap(sys, pfn, vma, addr);
  else pageAddAnonRmap(sys, pfn, vma, addr, exclusive ? RMAP_EXCLUSIVE : 0);
  lruCacheAddActiveOrUnevictable(sys, pfn, vma);
  if (!rules['reuse-swap-page-removed']) {
    sys.swap.swapFree(entry);
    if (sys.swap.vmSwapFull() || vma.vmFlags & VM_LOCKED || mem.flags[pfn] & (1 << PG_mlocked))
      tryToFreeSwap(sys, pfn);
  }
  if (pfn !== swapcache) putPage(sys, swapcache);
  if (sys.tracing)
    sys.trace('do_swap_page', `swap entry ${entry} → pfn ${pfn} at 0x${addr.toString(16)}`, {
      vma: vma.id,
      addr,
      pfn,
    });
  if (write) {
    doWpPage(sys, mm, vma, addr, t, i);
    return;
  }
  t.ptl.unlock(sys.current);
}

/** try_to_free_swap() — mm/swapfile.c: drop the swap copy when no PTE refers to it any more. */
export function tryToFreeSwap(sys: MmSystem, pfn: number): boolean {
  const mem = sys.mem;
  if (!(mem.flags[pfn] & (1 << PG_swapcache))) return false;
  if (sys.swap.swapCount(mem.private[pfn]) !== 0) return false;
  deleteFromSwapCache(sys, pfn);
  setPageDirty(sys, pfn);
  return true;
}

/**
 * free_swap_cache() — mm/swap_state.c, from the unmap batch (free_pages_and_swap_cache) and, from
 * 5.14, wp_page_copy(): a swap-cache page that just lost its last mapping gives up its swap copy
 * when no swap PTE needs it, so that unmapping a swapped-in page leaves no swap slot behind.
 */
function freeSwapCache(sys: MmSystem, pfn: number): void {
  const flags = sys.mem.flags[pfn];
  if (flags & (1 << PG_swapcache) && sys.mem.mapcount[pfn] < 0 && !(flags & (1 << PG_locked)))
    tryToFreeSwap(sys, pfn);
}

/**
 * munlock_vma_page() — mm/mlock.c: clear PG_mlocked; if other PTEs map the page, try_to_munlock()
 * (installed by @rmaplab/rmap) re-mlocks it when one of them is in a VM_LOCKED VMA.
 */
export function munlockVmaPage(sys: MmSystem, pfn: number): void {
  const mem = sys.mem;
  if (!(mem.flags[pfn] & (1 << PG_mlocked))) return;
  clearPageMlock(sys, pfn);
  // 4.9 skips the walk when one PTE is left ("that's our mapping"), even if it is another locked
  // VMA's; 6.12 counts locked mappings (mlock_count), so any locked mapper keeps the page mlocked.
  const others = sys.rules['mlock-count'] ? mem.mapcount[pfn] >= 0 : mem.mapcount[pfn] > 0;
  if (others && sys.tryToMunlock) sys.tryToMunlock(pfn);
  if (sys.tracing)
    sys.trace(
      'munlock_vma_page',
      `pfn ${pfn} ${mem.flags[pfn] & (1 << PG_mlocked) ? 'stays mlocked' : 'munlocked'}`,
      {
        pfn,
      },
    );
}

/** munlock_vma_pages_range() — mm/mlock.c: clear VM_LOCKED and munlock every page mapped in the range. */
export function munlockVmaPagesRange(sys: MmSystem, vma: VmArea, start: number, end: number): void {
  vma.vmFlags &= ~VM_LOCKED;
  const mm = vma.vmMm;
  for (let a = start; a < end; a += PAGE_SIZE) {
    const { pfn, bits } = readPte(mm, a);
    if (bits & PTE_PRESENT && !(bits & PTE_SPECIAL)) munlockVmaPage(sys, pfn);
  }
}

/**
 * zap_pte_range() — mm/memory.c: clear every PTE of [start, end) in `vma`. Present pages lose a
 * mapping and a reference (a dirty file PTE dirties the page); swap entries drop their swap count.
 */
export function zapPageRange(sys: MmSystem, mm: Mm, vma: VmArea, start: number, end: number): void {
  const mem = sys.mem;
  let zapped = 0;
  mm.pgd.forEachTable(start, end, (t, first, last) => {
    t.ptl.lock(sys.current);
    for (let i = first; i < last; i++) {
      const bits = t.bits[i];
      if (bits === 0) continue;
      const pfn = t.pfn[i];
      setPte(t, i, 0, 0);
      zapped++;
      if (bits & (PTE_PRESENT | PTE_PROTNONE)) {
        if (bits & PTE_SPECIAL) continue;
        const counter = mmCounter(sys, pfn);
        if (counter !== 'anon') {
          if (bits & PTE_DIRTY) setPageDirty(sys, pfn);
          if (bits & PTE_YOUNG && !(vma.vmFlags & VM_SEQ_READ)) mem.flags[pfn] |= 1 << PG_referenced;
        }
        mm.rss[counter]--;
        pageRemoveRmap(sys, pfn);
        freeSwapCache(sys, pfn);
        putPage(sys, pfn);
      } else if (bits & PTE_SWAP) {
        mm.rss.swap--;
        freeSwapAndCache(sys, pfn);
      } else if (bits & PTE_MIGRATION) {
        mm.rss[mmCounter(sys, pfn)]--;
      }
    }
    t.ptl.unlock(sys.current);
    if (t.used === 0) mm.pgd.free(t);
  });
  if (sys.tracing && zapped)
    sys.trace(
      'zap_pte_range',
      `${vma.name}: cleared ${zapped} PTEs in [0x${start.toString(16)}, 0x${end.toString(16)})`,
      {
        vma: vma.id,
      },
    );
}

/**
 * copy_page_range() — mm/memory.c: fork copies the PTEs of a VMA that has an anon_vma (others fault
 * lazily in the child). In a COW mapping both PTEs lose write; the child's PTE is old, and clean
 * in a shared mapping; each copied page gains a reference and a mapping. From 5.19 what was
 * exclusive is shared now: an anonymous page loses PG_anon_exclusive (page_try_dup_anon_rmap), a
 * swap PTE its exclusive marker, and a writable or readable-exclusive migration entry becomes
 * readable (copy_nonpresent_pte), in the parent's PTE as in the child's.
 */
export function copyPageRange(sys: MmSystem, dst: Mm, src: Mm, vma: VmArea): void {
  if (!vma.anonVma) return;
  const mem = sys.mem;
  const cow = isCowMapping(vma.vmFlags);
  const shared = (vma.vmFlags & VM_SHARED) !== 0;
  let copied = 0;
  src.pgd.forEachTable(vma.vmStart, vma.vmEnd, (s, first, last) => {
    const d = dst.pgd.alloc(s.pmdNo, () => sys.newPtl(dst, s.pmdNo));
    d.ptl.lock(sys.current);
    for (let i = first; i < last; i++) {
      let bits = s.bits[i];
      if (bits === 0) continue;
      const pfn = s.pfn[i];
      if (bits & PTE_SWAP) {
        sys.swap.swapDuplicate(pfn);
        if (bits & PTE_SWP_EXCLUSIVE) {
          bits &= ~PTE_SWP_EXCLUSIVE;
          s.bits[i] = bits;
        }
        dst.rss.swap++;
      } else if (bits & PTE_MIGRATION) {
        if (cow && bits & (PTE_WRITE | PTE_SWP_EXCLUSIVE)) {
          bits &= ~(PTE_WRITE | PTE_SWP_EXCLUSIVE);
          s.bits[i] = bits;
        }
        dst.rss[mmCounter(sys, pfn)]++;
      } else {
        if (cow && bits & PTE_WRITE) {
          bits &= ~PTE_WRITE;
          s.bits[i] = bits;
        }
        if (shared) bits &= ~PTE_DIRTY;
        bits &= ~PTE_YOUNG;
        if (!(bits & PTE_SPECIAL)) {
          mem.refcount[pfn]++;
          if (mem.mappingTag[pfn] & PAGE_MAPPING_ANON) pageTryDupAnonRmap(sys, pfn);
          else pageDupRmap(sys, pfn);
          dst.rss[mmCounter(sys, pfn)]++;
        }
      }
      setPte(d, i, pfn, bits);
      copied++;
    }
    d.ptl.unlock(sys.current);
  });
  if (sys.tracing)
    sys.trace('copy_page_range', `${vma.name}: copied ${copied} PTEs to mm${dst.id}`, {
      vma: vma.id,
      mm: dst.id,
    });
}
