/**
 * page_referenced() — mm/rmap.c (4.9; 6.12 folio_referenced): how many of the page's mappings were
 * used since the last look, clearing their young bits on the way; reclaim's page_check_references()
 * decides from it whether to keep, activate or reclaim the page.
 */
import {
  type MmSystem,
  mlockVmaPage,
  type Page,
  PageAnon,
  PageKsm,
  PTE_YOUNG,
  pageMapped,
  pteIndex,
  trylockPage,
  unlockPage,
  VM_LOCKED,
  VM_RAND_READ,
  VM_SEQ_READ,
  type VmArea,
} from '@rmaplab/mm';
import { SWAP_AGAIN, SWAP_FAIL, SWAP_SUCCESS } from './codes.js';
import {
  pageCheckAddress,
  pageLockAnonVmaRead,
  type RmapWalkControl,
  rmapWalk,
  type WalkLog,
} from './rmap-walk.js';

/** `struct page_referenced_arg` — mm/rmap.c (memcg left out: the model has no cgroups). */
export interface PageReferencedArg {
  /** Mappings still to look at; the walk stops at 0. */
  mapcount: number;
  referenced: number;
  vmFlags: number;
}

/** What page_referenced() returns: the count (6.12: -1 when a lock was contended) and *vm_flags. */
export interface PageReferencedResult {
  referenced: number;
  vmFlags: number;
}

/**
 * page_referenced_one() — mm/rmap.c: a VM_LOCKED VMA stops the walk (6.12 also re-mlocks the
 * page); a young PTE is made old and counts, except through a VM_SEQ_READ mapping (4.9; 6.12 skips
 * such VMAs in invalid_vma instead). The page-idle "young" flag is not modelled.
 */
export function pageReferencedOne(
  sys: MmSystem,
  pfn: number,
  vma: VmArea,
  address: number,
  pra: PageReferencedArg,
): number {
  const t = pageCheckAddress(sys, pfn, vma, address, false);
  if (!t) return SWAP_AGAIN;
  const task = sys.current;
  if (vma.vmFlags & VM_LOCKED) {
    if (sys.rules['referenced-mlocks']) mlockVmaPage(sys, pfn);
    t.ptl.unlock(task);
    pra.vmFlags |= VM_LOCKED;
    return SWAP_FAIL;
  }
  const i = pteIndex(address);
  let referenced = false;
  if (t.bits[i] & PTE_YOUNG) {
    t.bits[i] &= ~PTE_YOUNG;
    referenced = sys.rules['vma-has-recency'] || !(vma.vmFlags & VM_SEQ_READ);
  }
  t.ptl.unlock(task);
  if (referenced) {
    pra.referenced++;
    pra.vmFlags |= vma.vmFlags & ~VM_LOCKED;
  }
  if (--pra.mapcount === 0) return SWAP_SUCCESS;
  return SWAP_AGAIN;
}

/** invalid_folio_referenced_vma() — mm/rmap.c (6.12): a VMA without recency (vma_has_recency) is skipped. */
function invalidFolioReferencedVma(vma: VmArea): boolean {
  return (vma.vmFlags & (VM_SEQ_READ | VM_RAND_READ)) !== 0;
}

/**
 * page_referenced() — mm/rmap.c. Unless `isLocked`, a file or KSM page is trylocked, and a busy page
 * counts as referenced (1). Under 6.12 the walk uses try_lock and returns -1 when it gave up on a
 * contended rmap lock.
 */
export function pageReferenced(
  sys: MmSystem,
  page: Page | number,
  isLocked: boolean,
  log?: WalkLog,
): PageReferencedResult {
  const pfn = typeof page === 'number' ? page : page.pfn;
  const mem = sys.mem;
  const pra: PageReferencedArg = { mapcount: mem.mapcount[pfn] + 1, referenced: 0, vmFlags: 0 };
  if (!pageMapped(mem, pfn) || mem.mapping[pfn] === null) return { referenced: 0, vmFlags: 0 };
  let weLocked = false;
  if (!isLocked && (!PageAnon(mem, pfn) || PageKsm(mem, pfn))) {
    weLocked = trylockPage(sys, pfn);
    if (!weLocked) return { referenced: 1, vmFlags: 0 };
  }
  const rwc: RmapWalkControl<PageReferencedArg> = {
    arg: pra,
    name: 'page_referenced_one',
    rmapOne: pageReferencedOne,
    done: null,
    anonLock: pageLockAnonVmaRead,
    invalidVma: sys.rules['vma-has-recency'] ? invalidFolioReferencedVma : null,
  };
  if (sys.rules['rmap-trylock']) {
    rwc.tryLock = true;
    rwc.contended = false;
  }
  try {
    rmapWalk(sys, pfn, rwc, log);
  } finally {
    if (weLocked) unlockPage(sys, pfn);
  }
  return { referenced: rwc.contended ? -1 : pra.referenced, vmFlags: pra.vmFlags };
}
