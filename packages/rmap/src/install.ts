/**
 * Wiring @rmaplab/rmap into @rmaplab/mm: the model below the walk calls back into it where the
 * kernel's mm code calls rmap clients.
 */

import { lockPage, type MmSystem, pageLock, unlockPage } from '@rmaplab/mm';
import { pageMkclean } from './page-mkclean.js';
import { tryToMunlock } from './try-to-unmap.js';
import { shrinkPage } from './vmscan.js';

/**
 * Install the hooks: `sys.tryToMunlock` (munlock_vma_page → try_to_munlock, which needs the page
 * lock: taken here when the caller does not hold it, as __munlock_pagevec takes it in the kernel;
 * from 5.18, mlock-count, the kernel counts locked mappings instead of walking, so the walk that
 * finds the model's count stays out of the trace)
 * `sys.reclaimPage` (6.12 reclaim_pages() for MADV_PAGEOUT: shrink_folio_list with
 * ignore_references) and `sys.pageMkclean` (page_mkclean, for writeback; the caller holds the page
 * lock). All must be called without a PTE lock or rmap lock held.
 */
export function installRmap(sys: MmSystem): void {
  const munlock = (pfn: number) => {
    const held = sys.locks.isHeld(sys.current, pageLock(sys, pfn));
    if (!held) lockPage(sys, pfn);
    try {
      tryToMunlock(sys, pfn);
    } finally {
      if (!held) unlockPage(sys, pfn);
    }
  };
  sys.tryToMunlock = sys.rules['mlock-count'] ? (pfn) => sys.untraced(() => munlock(pfn)) : munlock;
  sys.reclaimPage = (pfn) => {
    shrinkPage(sys, pfn, { ignoreReferences: true });
  };
  sys.pageMkclean = (pfn) => pageMkclean(sys, pfn);
}
