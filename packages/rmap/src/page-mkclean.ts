/**
 * page_mkclean() — mm/rmap.c (4.9): before writeback, write-protect and clean every PTE of a
 * page-cache page in a shared mapping, so that the next write faults and dirties the page again.
 */
import {
  type MmSystem,
  type Page,
  PageLocked,
  PTE_DIRTY,
  PTE_WRITE,
  pageMapped,
  pteIndex,
  VM_SHARED,
  type VmArea,
} from '@rmaplab/mm';
import { SWAP_AGAIN } from './codes.js';
import { pageCheckAddress, pageMapping, type RmapWalkControl, rmapWalk, type WalkLog } from './rmap-walk.js';

/** page_mkclean_one() — mm/rmap.c: a dirty or writable PTE becomes clean and read-only; counts it. */
export function pageMkcleanOne(
  sys: MmSystem,
  pfn: number,
  vma: VmArea,
  address: number,
  cleaned: { count: number },
): number {
  const t = pageCheckAddress(sys, pfn, vma, address, true);
  if (!t) return SWAP_AGAIN;
  const i = pteIndex(address);
  if (t.bits[i] & (PTE_DIRTY | PTE_WRITE)) {
    t.bits[i] &= ~(PTE_DIRTY | PTE_WRITE);
    cleaned.count++;
  }
  t.ptl.unlock(sys.current);
  return SWAP_AGAIN;
}

/** invalid_mkclean_vma() — mm/rmap.c: only shared mappings write back to the file. */
function invalidMkcleanVma(vma: VmArea): boolean {
  return !(vma.vmFlags & VM_SHARED);
}

/**
 * page_mkclean() — mm/rmap.c: requires the page lock; 0 for an unmapped page or one without a
 * page_mapping() (an anonymous page outside the swap cache). Returns the number of PTEs cleaned.
 */
export function pageMkclean(sys: MmSystem, page: Page | number, log?: WalkLog): number {
  const pfn = typeof page === 'number' ? page : page.pfn;
  const mem = sys.mem;
  if (!PageLocked(mem, pfn)) throw new Error(`page_mkclean: pfn ${pfn} is not locked (BUG_ON)`);
  if (!pageMapped(mem, pfn) || pageMapping(mem, pfn) === null) return 0;
  const cleaned = { count: 0 };
  const rwc: RmapWalkControl<{ count: number }> = {
    arg: cleaned,
    name: 'page_mkclean_one',
    rmapOne: pageMkcleanOne,
    done: null,
    anonLock: null,
    invalidVma: invalidMkcleanVma,
  };
  rmapWalk(sys, pfn, rwc, log);
  return cleaned.count;
}
