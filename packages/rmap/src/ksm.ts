/**
 * rmap_walk_ksm() — mm/ksm.c (4.9): the walk of a KSM page. The page's stable_node lists the
 * rmap_items that merged into it; each remembers its mm, its address and the anon_vma of the VMA that
 * merged it. The page index means nothing here, so the walk looks at every AVC of that anon_vma and
 * keeps the VMAs that cover the item's address: first those of the item's own mm, then (second pass)
 * those of other mms, which were forked after the merge and inherited the PTE. The items of an mm
 * that has exited stay until ksmd next passes, and so do their anon_vmas: they still lead the walk
 * to the children that mm forked.
 */
import {
  anonVmaLockRead,
  anonVmaUnlockRead,
  type MmSystem,
  PageKsm,
  PageLocked,
  pageStableNode,
} from '@rmaplab/mm';
import { SWAP_AGAIN } from './codes.js';
import { type RmapWalkControl, visitVma, walkBegin, walkEnd, walkStops } from './rmap-walk.js';

/**
 * rmap_walk_ksm() — mm/ksm.c (4.9). Requires the page lock, which keeps the stable node's hlist
 * still. The address handed to rmap_one is the item's address (masked, as later kernels do; the
 * model keeps the flags apart anyway). 6.12 trylocks each anon_vma first and honours try_lock.
 */
export function rmapWalkKsm<A>(sys: MmSystem, pfn: number, rwc: RmapWalkControl<A>): number {
  const mem = sys.mem;
  if (!PageKsm(mem, pfn)) throw new Error(`rmap_walk_ksm: pfn ${pfn} is not a KSM page (VM_BUG_ON_PAGE)`);
  if (!PageLocked(mem, pfn)) throw new Error(`rmap_walk_ksm: pfn ${pfn} is not locked (VM_BUG_ON_PAGE)`);
  const node = pageStableNode(mem, pfn);
  walkBegin(sys, 'rmap_walk_ksm', 'ksm', pfn, null, null);
  let ret = SWAP_AGAIN;
  if (!node) return walkEnd(sys, 'rmap_walk_ksm', pfn, ret);
  for (let searchNewForks = 0; searchNewForks < 2; searchNewForks++) {
    for (const item of node.items()) {
      const av = item.anonVma!;
      const trylock = sys.rules['rmap-trylock'];
      if (trylock && !av.root.rwsem.downReadTrylock(sys.current)) {
        if (rwc.tryLock) {
          rwc.contended = true;
          return walkEnd(sys, 'rmap_walk_ksm', pfn, ret);
        }
        anonVmaLockRead(sys, av);
      } else if (!trylock) anonVmaLockRead(sys, av);
      try {
        for (const n of av.rbRoot.overlapping(0, Number.MAX_SAFE_INTEGER)) {
          const avc = n.value;
          const vma = avc.vma;
          if (item.address < vma.vmStart || item.address >= vma.vmEnd) continue;
          if ((item.mm === vma.vmMm) === (searchNewForks === 1)) continue;
          const r = visitVma(sys, pfn, rwc, vma, item.address, avc, 'anon_vma_interval_tree_foreach');
          if (r < 0) continue;
          ret = r;
          if (walkStops(sys, pfn, rwc, ret)) return walkEnd(sys, 'rmap_walk_ksm', pfn, ret);
        }
      } finally {
        anonVmaUnlockRead(sys, av);
      }
    }
  }
  return walkEnd(sys, 'rmap_walk_ksm', pfn, ret);
}
