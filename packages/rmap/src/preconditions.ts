/**
 * The kernel's assertions that a simulator-only statement could reach. The kernel's own callers of
 * the rmap clients never reach them — each prepares the page first (reclaim gives an anonymous
 * page a swap slot before it unmaps it) — but a statement calls a client directly, with any flags.
 * Each check runs before the statement changes anything; a statement that would make the kernel
 * BUG is refused with a {@link KernelAssertion} that names the assertion, where it is, why the
 * page meets it, and what the kernel's caller does that the statement skipped. Where a release
 * WARNs and goes on instead, the statement runs and the model does what that release does
 * (kernel-warn.ts).
 */
import {
  lockPage,
  type MmSystem,
  NEWEST_MODELLED,
  OLDEST_MODELLED,
  PageAnon,
  PageKsm,
  PageSwapCache,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_YOUNG,
  readPte,
  ruleById,
  trylockPage,
  unlockPage,
  VM_LOCKED,
  type VmArea,
} from '@rmaplab/mm';
import {
  SWAP_AGAIN,
  SWAP_FAIL,
  TTU_IGNORE_ACCESS,
  TTU_IGNORE_MLOCK,
  TTU_MIGRATION,
  TTU_MUNLOCK,
  TTU_RMAP_LOCKED,
  TTU_SPLIT_FREEZE,
} from './codes.js';
import { type RmapWalkControl, rmapWalk } from './rmap-walk.js';

/**
 * A statement that would make the kernel hit an assertion (BUG_ON, VM_BUG_ON_PAGE): refused before
 * anything changed. `flag` is the unmap flag that leads there (the place to point at), or null.
 */
export class KernelAssertion extends Error {
  constructor(
    message: string,
    readonly flag: string | null = null,
  ) {
    super(message);
    this.name = 'KernelAssertion';
  }
}

/**
 * Whether the `unmap` statement gives the page a swap slot before try_to_unmap(), as reclaim does
 * (add_to_swap): an anonymous page outside the swap cache, unless it is migrated or frozen (a
 * migration entry needs no slot) or munlocked (TTU_MUNLOCK unmaps nothing).
 */
export function unmapAddsToSwap(sys: MmSystem, pfn: number, flags: number): boolean {
  const mem = sys.mem;
  return (
    PageAnon(mem, pfn) &&
    !PageSwapCache(mem, pfn) &&
    !(flags & (TTU_MIGRATION | TTU_SPLIT_FREEZE | TTU_MUNLOCK))
  );
}

/**
 * `unmap`, once its flags are known to be the release's (checkTtuFlags): the assertions
 * try_to_unmap(flags) would hit on `pfn`:
 *  - rmap_walk_locked(): VM_BUG_ON_PAGE(PageKsm(page)) — TTU_RMAP_LOCKED on a KSM page (every release);
 *  - try_to_unmap_one(): VM_BUG_ON_PAGE(!PageSwapCache(page)) — an anonymous page without a swap
 *    slot that the walk would unmap (before rule ttu-anon-not-swapcache-warn, 4.12, which WARNs).
 */
export function checkUnmap(sys: MmSystem, pfn: number, flags: number): void {
  const mem = sys.mem;
  if (flags & TTU_RMAP_LOCKED && PageKsm(mem, pfn))
    throw new KernelAssertion(
      `rmap_walk_locked would hit VM_BUG_ON_PAGE(PageKsm(page)) (mm/rmap.c, every release from ${OLDEST_MODELLED} to ${NEWEST_MODELLED}, with CONFIG_DEBUG_VM): pfn ${pfn} is a KSM page, which has no rmap lock a caller could hold (rmap_walk_ksm takes the anon_vma lock of each rmap_item in turn); TTU_RMAP_LOCKED is for callers that hold the anon_vma or i_mmap lock already, such as the THP split, and no KSM page is a huge page`,
      'TTU_RMAP_LOCKED',
    );
  if (sys.rules['ttu-anon-not-swapcache-warn'] || !PageAnon(mem, pfn) || flags & TTU_MIGRATION) return;
  if (PageSwapCache(mem, pfn) || (unmapAddsToSwap(sys, pfn, flags) && !sys.swap.full)) return;
  const vma = firstUnmapped(sys, pfn, flags);
  if (!vma) return;
  const where = `${vma.vmMm.owner.name} at 0x${vma.address.toString(16)}`;
  const head = `try_to_unmap_one would hit VM_BUG_ON_PAGE(!PageSwapCache(page)) (mm/rmap.c, Linux before ${ruleById('ttu-anon-not-swapcache-warn').since}, with CONFIG_DEBUG_VM) unmapping ${where}: pfn ${pfn} is anonymous and not in the swap cache`;
  if (flags & TTU_MUNLOCK)
    throw new KernelAssertion(
      `${head}, as TTU_MUNLOCK takes no swap slot, yet TTU_IGNORE_MLOCK lets the walk unmap it in the VM_LOCKED VMA there; try_to_munlock() passes TTU_MUNLOCK alone, which only looks for VM_LOCKED VMAs`,
      'TTU_IGNORE_MLOCK',
    );
  const why =
    sys.swap.size === 0 ? 'there is no swap (set swap 0)' : `all ${sys.swap.size} swap slots are in use`;
  throw new KernelAssertion(
    `${head}: add_to_swap() gave it no slot, ${why}; reclaim calls try_to_unmap() on an anonymous page only after add_to_swap() succeeded, and keeps the page when it fails`,
  );
}

/** A VMA where a walk reaches a PTE of the page, and the PTE's address. */
type Reached = { vmMm: VmArea['vmMm']; address: number };

/**
 * The first place, in the walk's own order, where try_to_unmap(flags) would get past
 * try_to_unmap_one()'s early returns to the unmapping itself — or null when the walk stops first
 * (a VM_LOCKED VMA, a young PTE) or never gets there. Until that place nothing is changed, so the
 * walk is run for real with an rmap_one that only reads, under the page lock as kswapd, out of the
 * trace. The early returns, in try_to_unmap_one()'s order: TTU_MUNLOCK skips VMAs that are not
 * VM_LOCKED; a PTE that does not map the page is skipped; without TTU_IGNORE_MLOCK, VM_LOCKED stops
 * the walk (SWAP_MLOCK) and TTU_MUNLOCK skips the rest; without TTU_IGNORE_ACCESS (while the
 * young check exists) a young PTE stops it (SWAP_FAIL).
 */
function firstUnmapped(sys: MmSystem, pfn: number, flags: number): Reached | null {
  let reached: Reached | null = null;
  const youngStops = !sys.rules['ttu-ignore-access-removed'] && !(flags & TTU_IGNORE_ACCESS);
  const rwc: RmapWalkControl<null> = {
    arg: null,
    name: 'try_to_unmap_one (look-ahead)',
    rmapOne: (_sys, _pfn, vma, address) => {
      const locked = (vma.vmFlags & VM_LOCKED) !== 0;
      if (flags & TTU_MUNLOCK && !locked) return SWAP_AGAIN;
      const pte = readPte(vma.vmMm, address);
      if (!(pte.bits & PTE_PRESENT) || pte.bits & PTE_SPECIAL || pte.pfn !== pfn) return SWAP_AGAIN;
      if (!(flags & TTU_IGNORE_MLOCK)) {
        if (locked) return SWAP_FAIL;
        if (flags & TTU_MUNLOCK) return SWAP_AGAIN;
      }
      if (youngStops && pte.bits & PTE_YOUNG) return SWAP_FAIL;
      reached = { vmMm: vma.vmMm, address };
      return SWAP_FAIL;
    },
    done: null,
    anonLock: null,
    invalidVma: null,
  };
  sys.untraced(() =>
    sys.as(sys.kswapd, () => {
      if (!trylockPage(sys, pfn)) lockPage(sys, pfn);
      try {
        rmapWalk(sys, pfn, rwc);
      } finally {
        unlockPage(sys, pfn);
      }
    }),
  );
  return reached;
}
